/**
 * HMAC-SHA1 → base64, on whatever the runtime offers. `node:crypto` is faster and is used when
 * the runtime exposes it through `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno); the
 * core never imports it, so Workers and browsers fall back to Web Crypto.
 */

import { type NodeCrypto, nodeCrypto } from './node-crypto.js'

/** What is signed, in order: strings are taken as UTF-8. */
export type SignedPart = string | Uint8Array

type HmacFn = (key: string, parts: readonly SignedPart[]) => string | Promise<string>

const encoder = new TextEncoder()
// A handful of keys per app; the bound only stops a resolver that returns endless keys from leaking.
const MAX_CACHED_KEYS = 256

export const nodeHmacSha1Base64 = (crypto: NodeCrypto): HmacFn => {
  // A KeyObject per key: createHmac with a string re-derives the key on every call.
  const keys = new Map<string, object>()
  return (key, parts) => {
    let secret = keys.get(key)
    if (!secret) {
      if (keys.size >= MAX_CACHED_KEYS) keys.clear()
      secret = crypto.createSecretKey(encoder.encode(key))
      keys.set(key, secret)
    }
    const hmac = crypto.createHmac('sha1', secret)
    for (const part of parts) hmac.update(part)
    return hmac.digest('base64')
  }
}

export const webHmacSha1Base64 = (subtle: SubtleCrypto): HmacFn => {
  const keys = new Map<string, Promise<CryptoKey>>()
  const importKey = (key: string): Promise<CryptoKey> => {
    let cached = keys.get(key)
    if (!cached) {
      if (keys.size >= MAX_CACHED_KEYS) keys.clear()
      cached = subtle.importKey(
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
  return async (key, parts) => {
    const bytes = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part))
    let total = 0
    for (const part of bytes) total += part.length
    const data = new Uint8Array(total)
    let offset = 0
    for (const part of bytes) {
      data.set(part, offset)
      offset += part.length
    }
    const digest = new Uint8Array(await subtle.sign('HMAC', await importKey(key), data))
    let binary = ''
    for (const byte of digest) binary += String.fromCharCode(byte)
    return btoa(binary)
  }
}

function pick(): HmacFn {
  const node = nodeCrypto
  if (node) return nodeHmacSha1Base64(node)
  const subtle = globalThis.crypto?.subtle
  if (subtle) return webHmacSha1Base64(subtle)
  return () => {
    throw new Error('sendclean-webhooks: this runtime has neither node:crypto nor Web Crypto')
  }
}

/** base64(HMAC-SHA1(key, parts concatenated)). */
export const hmacSha1Base64: HmacFn = pick()
