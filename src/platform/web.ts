/**
 * The platform layer on Web APIs alone (Web Crypto): Cloudflare Workers, browsers and any
 * runtime the `node`, `bun` and `deno` export conditions do not name. Same interface as
 * `node.ts`; chosen when the package's import of `#platform` resolves.
 */

/** Which of the two platform files this is (for tests and the runtime matrix). */
export const PLATFORM = 'web'

/** What is signed, in order: strings are taken as UTF-8. */
export type SignedPart = string | Uint8Array

const encoder = new TextEncoder()
// A handful of keys per app; the bound only stops a resolver that returns endless keys from leaking.
const MAX_CACHED_KEYS = 256
const keys = new Map<string, Promise<CryptoKey>>()

function importKey(key: string): Promise<CryptoKey> {
  let cached = keys.get(key)
  if (!cached) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear()
    cached = crypto.subtle.importKey(
      'raw',
      encoder.encode(key),
      { name: 'HMAC', hash: 'SHA-1' },
      false,
      ['sign'],
    )
    keys.set(key, cached)
  }
  return cached
}

function concat(parts: readonly SignedPart[]): Uint8Array<ArrayBuffer> {
  const bytes = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part))
  let total = 0
  for (const part of bytes) total += part.length
  const data = new Uint8Array(total)
  let offset = 0
  for (const part of bytes) {
    data.set(part, offset)
    offset += part.length
  }
  return data
}

function base64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** base64(HMAC-SHA1(key, parts concatenated)). */
export async function hmacSha1Base64(key: string, parts: readonly SignedPart[]): Promise<string> {
  const digest = await crypto.subtle.sign('HMAC', await importKey(key), concat(parts))
  return base64(new Uint8Array(digest))
}

/** base64url(SHA-256(text as UTF-8)). */
export async function sha256Base64url(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text))
  return base64(new Uint8Array(digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Optional peers are not loaded here: a Web runtime has no synchronous `require`. Pass
 * `@opentelemetry/api` as `openTelemetry.api` instead.
 */
export function optionalPeer(_id: string): unknown {
  return undefined
}

/** No WebAssembly loop here (Workers refuse to compile from bytes): the JavaScript loop decodes. */
export function createFormLoop(): undefined {
  return undefined
}
