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

const AMP = 0x26
const EQ = 0x3d
const PLUS = 0x2b
const PERCENT = 0x25
const SPACE = 0x20

const HEX = new Int8Array(256).fill(-1)
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i
  HEX[0x61 + i] = 10 + i
}

const utf8 = new TextDecoder()
/** Decode `+` and `%XX` in `src[from, to)`. A malformed escape is kept literally, as browsers do. */
export function percentDecode(src: Uint8Array, from: number, to: number): Uint8Array {
  let i = from
  while (i < to) {
    const c = src[i]
    if (c === PERCENT || c === PLUS) break
    i++
  }
  if (i === to) return src.subarray(from, to)

  const out = new Uint8Array(to - from)
  out.set(src.subarray(from, i))
  let o = i - from
  for (; i < to; i++) {
    const c = src[i] as number
    if (c === PLUS) {
      out[o++] = SPACE
    } else if (c === PERCENT && i + 2 < to) {
      const hi = HEX[src[i + 1] as number] as number
      const lo = HEX[src[i + 2] as number] as number
      if (hi >= 0 && lo >= 0) {
        out[o++] = (hi << 4) | lo
        i += 2
      } else {
        out[o++] = c
      }
    } else {
      out[o++] = c
    }
  }
  return out.subarray(0, o)
}

/**
 * Whether the form has more than `max` fields (non-empty `&`-separated segments). Stops
 * counting at `max + 1`, so refusing a body of a million fields costs no more than `max` steps.
 */
export function hasMoreFieldsThan(body: Uint8Array, max: number): boolean {
  let count = 0
  let start = 0
  const n = body.length
  while (start < n) {
    let end = body.indexOf(AMP, start)
    if (end === -1) end = n
    if (end > start && ++count > max) return true
    start = end + 1
  }
  return false
}

/** Split and decode a form body. Empty segments (`a=1&&b=2`) are skipped, as URLSearchParams does. */
export function decodeForm(body: Uint8Array): FormField[] {
  const fields: FormField[] = []
  const n = body.length
  let start = 0
  while (start < n) {
    let end = body.indexOf(AMP, start)
    if (end === -1) end = n
    if (end > start) {
      // Look for '=' inside this segment only: searching the rest of the body for it would
      // make a body of many '='-less fields quadratic.
      let eq = start
      while (eq < end && body[eq] !== EQ) eq++
      const nameBytes = percentDecode(body, start, eq)
      const value = eq < end ? percentDecode(body, eq + 1, end) : body.subarray(end, end)
      fields.push({ name: utf8.decode(nameBytes), nameBytes, value })
    }
    start = end + 1
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
