/**
 * Constant-time comparison of two byte sequences. The length check returns early: lengths
 * are not secret (a signature is always 28 base64 characters), contents are.
 *
 * Works on views: only the bytes inside each view's window are compared.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** The same for strings, code unit by code unit (for base64 signatures, which are ASCII). */
export function timingSafeEqualString(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}
