/**
 * The JSON text of each event as it arrived: the elements of the events array, cut out of the
 * text that was parsed. Event identities and queued jobs are taken from these texts, so two
 * events that differ in any byte (an own `__proto__` key, an integer above 2^53, a field the
 * receiver would later add) never look alike, while SendClean's retry (the same bytes) does.
 *
 * The text has already been through `JSON.parse`, so it is valid JSON: these functions only
 * find where values end (strings, brackets), they do not check anything.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c

function skipSpace(text: string, i: number): number {
  let c = text.charCodeAt(i)
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i)
  return i
}

/** Past the closing quote of the string that opens at `i`. */
function skipString(text: string, i: number): number {
  let end = text.indexOf('"', i + 1)
  for (;;) {
    // Unterminated (not the parsed text): the rest is this string, never a loop.
    if (end === -1) return text.length
    // A quote preceded by an odd number of backslashes is escaped.
    let slashes = 0
    while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return end + 1
    end = text.indexOf('"', end + 1)
  }
}

/** Past the value that starts at `i` (no leading space). */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i)
  if (first === QUOTE) return skipString(text, i)
  if (first !== 0x5b && first !== 0x7b) {
    // A number, true, false or null: up to the next delimiter.
    let c = text.charCodeAt(i)
    while (
      i < text.length &&
      c !== 0x2c &&
      c !== 0x5d &&
      c !== 0x7d &&
      c !== 0x20 &&
      c !== 0x0a &&
      c !== 0x0d &&
      c !== 0x09
    ) {
      c = text.charCodeAt(++i)
    }
    return i
  }
  let depth = 0
  for (; i < text.length; ) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i = skipString(text, i)
      continue
    }
    if (c === 0x5b || c === 0x7b) depth++
    else if (c === 0x5d || c === 0x7d) {
      depth--
      if (depth === 0) return i + 1
    }
    i++
  }
  return i
}

/** The elements of the array that starts at `i`, each as its own text. */
function elementsAt(text: string, i: number): string[] {
  const out: string[] = []
  i = skipSpace(text, i + 1)
  if (text.charCodeAt(i) === 0x5d) return out
  while (i < text.length) {
    const start = skipSpace(text, i)
    const end = skipValue(text, start)
    out.push(text.slice(start, end))
    i = skipSpace(text, end)
    if (text.charCodeAt(i) !== 0x2c) return out
    i++
  }
  return out
}

/** The text of each element of the JSON array `text` holds; `undefined` when it holds no array. */
export function elementTexts(text: string): string[] | undefined {
  const i = skipSpace(text, 0)
  return text.charCodeAt(i) === 0x5b ? elementsAt(text, i) : undefined
}

/**
 * The text of each element of the array held by member `key` of the JSON object `text` holds;
 * `undefined` when that member is not an array. Of a key given twice, the last counts, as in
 * `JSON.parse`.
 */
export function memberElementTexts(text: string, key: string): string[] | undefined {
  let i = skipSpace(text, 0)
  if (text.charCodeAt(i) !== 0x7b) return undefined
  let found: number | undefined
  i = skipSpace(text, i + 1)
  while (text.charCodeAt(i) === QUOTE) {
    const keyEnd = skipString(text, i)
    const name = JSON.parse(text.slice(i, keyEnd)) as string
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1)
    if (name === key) found = valueStart
    i = skipSpace(text, skipValue(text, valueStart))
    if (text.charCodeAt(i) !== 0x2c) break
    i = skipSpace(text, i + 1)
  }
  return found !== undefined && text.charCodeAt(found) === 0x5b
    ? elementsAt(text, found)
    : undefined
}
