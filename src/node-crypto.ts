/**
 * `node:crypto`, when the runtime exposes it through `process.getBuiltinModule` (Node ≥ 20.16,
 * Bun, Deno). The core never imports it, so Workers and browsers fall back to Web Crypto.
 */
interface NodeHmac {
  update(data: string | Uint8Array): NodeHmac
  digest(encoding: 'base64'): string
}
interface NodeHash {
  update(data: string): NodeHash
  digest(encoding: 'base64url'): string
}
export interface NodeCrypto {
  createHmac(algorithm: 'sha1', key: string | object): NodeHmac
  createSecretKey(key: Uint8Array): object
  createHash(algorithm: 'sha256'): NodeHash
}

function load(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined
    return typeof mod?.createHmac === 'function' &&
      typeof mod.createSecretKey === 'function' &&
      typeof mod.createHash === 'function'
      ? mod
      : undefined
  } catch {
    return undefined
  }
}

export const nodeCrypto: NodeCrypto | undefined = load()
