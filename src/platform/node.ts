/**
 * The platform layer for runtimes with Node's modules: Node, Bun and Deno. Chosen when the
 * package's import of `#platform` resolves (the `node`, `bun` and `deno` export conditions in
 * package.json); `web.ts` is the same interface on Web APIs alone. Nothing here is probed at
 * run time.
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'

/** Which of the two platform files this is (for tests and the runtime matrix). */
export const PLATFORM = 'node'

/** What is signed, in order: strings are taken as UTF-8. */
export type SignedPart = string | Uint8Array

const encoder = new TextEncoder()
// A handful of keys per app; the bound only stops a resolver that returns endless keys from leaking.
const MAX_CACHED_KEYS = 256
// A KeyObject per key: createHmac with a string key derives the key again on every call.
const keys = new Map<string, KeyObject>()

/** base64(HMAC-SHA1(key, parts concatenated)). */
export async function hmacSha1Base64(key: string, parts: readonly SignedPart[]): Promise<string> {
  let secret = keys.get(key)
  if (!secret) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear()
    secret = createSecretKey(encoder.encode(key))
    keys.set(key, secret)
  }
  const hmac = createHmac('sha1', secret)
  for (const part of parts) hmac.update(part)
  return hmac.digest('base64')
}

/** base64url(SHA-256(text as UTF-8)). */
export async function sha256Base64url(text: string): Promise<string> {
  return createHash('sha256').update(text).digest('base64url')
}

const require = createRequire(import.meta.url)

/** An optional peer dependency (`@opentelemetry/api`), or `undefined` when it is not installed. */
export function optionalPeer(id: string): unknown {
  try {
    return require(id)
  } catch {
    return undefined
  }
}
