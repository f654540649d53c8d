/**
 * `JSON.parse` of UTF-8 bytes, with a long array parsed piece by piece.
 *
 * Why: V8 puts a string of 128 KiB or more in its large-object space, and making one costs far
 * more per byte than making a smaller one (decoding 127 KiB took 32 µs, 128 KiB took 218 µs;
 * bench/RESULTS.md, issue 14). A 1000-event batch is about 300 KB of JSON. Cut into pieces of
 * about 64 KiB, each decoded and parsed alone, no large string is made.
 *
 * Where the cuts go: at a `,` between `}` and the opening of the array's first element (`{"event":`
 * in a compact batch; whitespace around the comma is allowed, as in the seed's examples). That is only a guess at the array's own commas; a comma inside a
 * nested array can look the same. The guess does not decide anything. Each piece is parsed as an
 * array of its own (`[` + its elements + `]`), and a prefix of a JSON text followed by `]` is
 * valid JSON only when the prefix ends inside the outermost array, between two of its elements.
 * So when every piece parses, every cut was between two elements of the outer array. Each
 * element's value depends only on its own text, so the pieces' elements, in order, are exactly
 * the array `JSON.parse` would return. When any piece fails to parse, the whole text is parsed
 * as one string: the same result, or the same `SyntaxError`.
 *
 * A cut never splits a UTF-8 sequence: the bytes on both sides of it are ASCII. So decoding
 * the pieces gives the same characters as decoding the whole, invalid bytes included.
 */

const utf8 = new TextDecoder()

const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const COMMA = 0x2c
const QUOTE = 0x22
const COLON = 0x3a
const BACKSLASH = 0x5c

/**
 * `from`: texts this long or longer are cut (V8's large-object space starts at 128 KiB; below
 * it, cutting only adds work). `piece`: a piece ends at the first cut after this many bytes.
 * Tests make both small to put cuts everywhere.
 */
export const jsonPieces = { from: 127 * 1024, piece: 64 * 1024 }

/** The longest opening a cut looks for (`{"` + key + `":`, whitespace included). */
const MAX_OPENING = 64

/** `JSON.parse` of the UTF-8 text in `bytes`; throws what `JSON.parse` throws. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  if (bytes.length >= jsonPieces.from) {
    const cuts = findCuts(bytes, jsonPieces.piece)
    if (cuts.length > 0) {
      const parsed = parsePieces(bytes, cuts)
      if (parsed) return parsed
    }
  }
  return JSON.parse(utf8.decode(bytes))
}

/** JSON's whitespace (RFC 8259 §2): space, tab, line feed, carriage return. */
export const isJsonSpace = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09

/** Where `parseJsonBytes` would cut `bytes` (for tests and benches): indexes of commas. */
export function jsonCuts(bytes: Uint8Array): number[] {
  return findCuts(bytes, jsonPieces.piece)
}

/**
 * The bytes that open the outer array's first element, from its `{` to the `:` after its first
 * key, whitespace and all (`{"event":` in a compact batch); undefined if it does not start so.
 */
function firstOpening(bytes: Uint8Array): Uint8Array | undefined {
  let i = skipSpace(bytes, 0)
  if (bytes[i] !== OPEN_BRACKET) return undefined
  i = skipSpace(bytes, i + 1)
  if (bytes[i] !== OPEN_BRACE) return undefined
  let end = skipSpace(bytes, i + 1)
  if (bytes[end] !== QUOTE) return undefined
  const limit = Math.min(bytes.length, i + MAX_OPENING)
  // The key's closing quote (a key with an escape in it ends the search at its backslash).
  end++
  while (end < limit && bytes[end] !== QUOTE && bytes[end] !== BACKSLASH) end++
  if (bytes[end] !== QUOTE) return undefined
  end = skipSpace(bytes, end + 1)
  return bytes[end] === COLON && end < limit ? bytes.subarray(i, end + 1) : undefined
}

/**
 * Where the pieces end: each a comma that may separate two elements of the outer array (`}`, a
 * comma, and the first element's opening, with any whitespace around the comma).
 */
function findCuts(bytes: Uint8Array, piece: number): number[] {
  const cuts: number[] = []
  const opening = firstOpening(bytes)
  if (!opening) return cuts
  let at = bytes.indexOf(CLOSE_BRACE, piece)
  while (at !== -1) {
    const comma = skipSpace(bytes, at + 1)
    if (bytes[comma] === COMMA && startsWith(bytes, skipSpace(bytes, comma + 1), opening)) {
      cuts.push(comma)
      at = bytes.indexOf(CLOSE_BRACE, comma + piece)
    } else {
      at = bytes.indexOf(CLOSE_BRACE, at + 1)
    }
  }
  return cuts
}

function startsWith(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > bytes.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false
  return true
}

function skipSpace(bytes: Uint8Array, at: number): number {
  let i = at
  while (isJsonSpace(bytes[i])) i++
  return i
}

/**
 * Each piece copied into one scratch buffer between `[` and `]`, decoded and parsed; the
 * elements of all of them, or undefined when one does not parse.
 */
function parsePieces(bytes: Uint8Array, cuts: readonly number[]): unknown[] | undefined {
  // Piece k runs from after cut k - 1 (from the start, for the first) to cut k (to the end, for
  // the last).
  const from = (k: number) => (k === 0 ? 0 : (cuts[k - 1] as number) + 1)
  const to = (k: number) => (k < cuts.length ? (cuts[k] as number) : bytes.length)
  let longest = 0
  for (let k = 0; k <= cuts.length; k++) longest = Math.max(longest, to(k) - from(k))
  const scratch = new Uint8Array(longest + 2)
  const parts: unknown[][] = []
  try {
    for (let k = 0; k <= cuts.length; k++) {
      // The first piece keeps the text's own `[`, the last its own `]`.
      let length = 0
      if (k > 0) scratch[length++] = OPEN_BRACKET
      scratch.set(bytes.subarray(from(k), to(k)), length)
      length += to(k) - from(k)
      if (k < cuts.length) scratch[length++] = CLOSE_BRACKET
      parts.push(JSON.parse(utf8.decode(scratch.subarray(0, length))) as unknown[])
    }
  } catch {
    return undefined
  }
  return ([] as unknown[]).concat(...parts)
}
