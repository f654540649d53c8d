/**
 * One-pass decoder for application/x-www-form-urlencoded bodies, straight into bytes.
 *
 * SendClean signs the *decoded* field values, so verification needs them as bytes anyway;
 * decoding into bytes (rather than strings, as URLSearchParams does) means the HMAC and
 * JSON.parse read the same buffer, and a value without escapes is a zero-copy view.
 */

export interface FormField {
  /** The decoded field name. */
  readonly name: string
  /** The decoded name as UTF-8 bytes (what is signed). */
  readonly nameBytes: Uint8Array
  /**
   * The decoded value (what is signed): bytes from this decoder, or the string a form parser
   * (express.urlencoded()) left, signed as its UTF-8.
   */
  readonly value: Uint8Array | string
}

/** What SendClean signed after the URL: a form's decoded fields, or a JSON body's raw bytes. */
export type Signed = { readonly fields: readonly FormField[] } | { readonly body: Uint8Array }

const AMP = 0x26
const EQ = 0x3d
const PLUS = 0x2b
const PERCENT = 0x25
const SPACE = 0x20

// A hex digit's value (low nibble), and the same shifted into the high nibble; -1 for any other
// byte, so `HIGH[a] | LOW[b]` is a byte when both are hex digits and negative otherwise.
const LOW = new Int16Array(256).fill(-1)
const HIGH = new Int16Array(256).fill(-1)
for (const [from, first, count] of [
  [0x30, 0, 10],
  [0x41, 10, 6],
  [0x61, 10, 6],
] as const) {
  for (let i = 0; i < count; i++) {
    LOW[from + i] = first + i
    HIGH[from + i] = (first + i) << 4
  }
}

/**
 * A faster loop for long parts (the Node platform file's WebAssembly decoder): decodes the chunk
 * of a part from `from`, then says where it stopped, whether it changed anything, whether the
 * part ended, and how many bytes it decoded to, which `copy` writes out.
 */
export interface FormLoop {
  readonly at: number
  readonly changed: boolean
  readonly stopped: boolean
  readonly length: number
  run(src: Uint8Array, from: number, stop: number): void
  copy(out: Uint8Array, at: number): void
}

/** Bodies from this size on go through a {@link FormLoop} when there is one; below, copying costs more than it saves. */
export const FORM_LOOP_FROM_BYTES = 512

// Names are decoded as URLSearchParams does ("UTF-8 decode without BOM"): a leading U+FEFF stays.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * Decodes the parts of one form body in a single pass over its bytes: each part ends at `&` (or,
 * for a name, `=`), found by the same loop that decodes it. Parts with escapes are written to
 * one buffer shared by the whole body, allocated at the first escape; a part without escapes is
 * a view of the body.
 */
class PartDecoder {
  /** Where the last part ended: the index of its `&`/`=`, or the body's length. */
  end = 0
  readonly #src: Uint8Array
  #out: Uint8Array | undefined
  #used = 0
  readonly #loop: FormLoop | undefined

  constructor(src: Uint8Array, loop: FormLoop | undefined) {
    this.#src = src
    this.#loop = loop
  }

  /** Decode `+` and `%XX` from `from` up to `&` or `stop`. A malformed escape is kept as is. */
  part(from: number, stop: number): Uint8Array {
    if (this.#loop) return this.#loopPart(this.#loop, from, stop)
    const src = this.#src
    const n = src.length
    let i = from
    let c = 0
    for (; i < n; i++) {
      c = src[i] as number
      if (c === PERCENT || c === PLUS || c === AMP || c === stop) break
    }
    if (i === n || c === AMP || c === stop) {
      this.end = i
      return src.subarray(from, i)
    }
    const out = this.#buffer(from)
    const begin = this.#used
    out.set(src.subarray(from, i), begin)
    let o = begin + (i - from)
    for (; i < n; i++) {
      c = src[i] as number
      if (c === PERCENT) {
        const byte =
          i + 2 < n
            ? (HIGH[src[i + 1] as number] as number) | (LOW[src[i + 2] as number] as number)
            : -1
        if (byte >= 0) {
          out[o++] = byte
          i += 2
        } else out[o++] = c
      } else if (c === PLUS) out[o++] = SPACE
      else if (c === AMP || c === stop) break
      else out[o++] = c
    }
    this.end = i
    this.#used = o
    return out.subarray(begin, o)
  }

  /** The buffer escaped parts share, made at the first one (from `from`, where it starts). */
  #buffer(from: number): Uint8Array {
    // Decoded bytes never outnumber encoded ones, so what is left of the body always fits.
    this.#out ??= new Uint8Array(this.#src.length - from)
    return this.#out
  }

  /** {@link part} by the loop, chunk by chunk: the same bytes, in the same buffer. */
  #loopPart(loop: FormLoop, from: number, stop: number): Uint8Array {
    const src = this.#src
    const begin = this.#used
    let out: Uint8Array | undefined
    let length = 0
    let i = from
    do {
      loop.run(src, i, stop)
      if (loop.changed && !out) {
        // The first change: what came before it is the body's own bytes.
        out = this.#buffer(from)
        out.set(src.subarray(from, i), begin)
      }
      if (out) loop.copy(out, begin + length)
      length += loop.length
      i = loop.at
    } while (!loop.stopped && i < src.length)
    this.end = i
    if (!out) return src.subarray(from, i)
    this.#used = begin + length
    return out.subarray(begin, begin + length)
  }
}

/**
 * Split and decode a form body in one pass. Empty segments (`a=1&&b=2`) are skipped, as
 * URLSearchParams does. Returns `undefined` as soon as a field past `maxFields` starts, so a
 * body of a million fields costs `maxFields` fields of work, not a million.
 */
export function decodeForm(
  body: Uint8Array,
  maxFields = Number.POSITIVE_INFINITY,
  /** The platform's faster loop, for bodies of `loopFrom` bytes or more. */
  loop?: FormLoop,
  /** Tests set 0, so that every body goes through `loop`. */
  loopFrom = FORM_LOOP_FROM_BYTES,
): FormField[] | undefined {
  const fields: FormField[] = []
  const decoder = new PartDecoder(body, body.length >= loopFrom ? loop : undefined)
  const n = body.length
  let i = 0
  while (i < n) {
    if (body[i] === AMP) {
      i++
      continue
    }
    if (fields.length === maxFields) return undefined
    const nameBytes = decoder.part(i, EQ)
    const at = decoder.end
    const value = at < n && body[at] === EQ ? decoder.part(at + 1, AMP) : body.subarray(at, at)
    fields.push({ name: utf8.decode(nameBytes), nameBytes, value })
    i = decoder.end + 1
  }
  return fields
}

/** Byte-wise order of UTF-8 names (the order PHP's ksort gives SendClean's signer). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}
