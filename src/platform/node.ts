/**
 * The platform layer for runtimes with Node's modules (Node, Bun, Deno): HMAC and SHA-256 from
 * `node:crypto`, `require` for optional peers, and the form decoder's WebAssembly loop. Chosen
 * when the package's import of `#platform` resolves (the `node`, `bun` and `deno` export
 * conditions in package.json); `web.ts` is the same interface on Web APIs alone.
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { FORM_WASM_BASE64 } from './form-wasm-bytes.js'

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

// ---------------------------------------------------------------------------------------------

/**
 * The form decoder's hot loop in WebAssembly (`form.wat`, shipped compiled in
 * `form-wasm-bytes.ts`), used by the Node platform file only: it decodes a part sixteen bytes at a
 * time, escapes included, into the same bytes as the JavaScript loop in `src/request/form.ts`
 * (both are tested against one reference on arbitrary bytes). The module is compiled once per
 * process; each receiver gets its own instance (and its 192 KiB of memory), so no state is shared
 * between receivers. If the engine refuses to compile it (`node --jitless`), the JavaScript loop
 * decodes.
 */
interface FormWasmExports {
  memory: WebAssembly.Memory
  part(from: number, limit: number, end: number, stop: number, out: number): number
  at: WebAssembly.Global
  changed: WebAssembly.Global
  stopped: WebAssembly.Global
}

/** The module's hex and compaction tables take its memory's first 2304 bytes; chunks go after. */
const BASE = 256 + 2048
/** A body goes through the module this many bytes at a time, so its memory stays three pages. */
const CHUNK_BYTES = 64 * 1024 - 64
/** Room for the two bytes of an escape that starts at a chunk's last byte, and a vector store. */
const SLACK = 32

/** The compiled module (an immutable cache), or `null` once the engine refused to compile it. */
let compiled: WebAssembly.Module | null | undefined

function compile(): WebAssembly.Module | null {
  try {
    const binary = atob(FORM_WASM_BASE64)
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return new WebAssembly.Module(bytes)
  } catch {
    return null
  }
}

/**
 * A new decoder with its own instance of the module, or `undefined` when the engine will not
 * compile it. `chunkBytes` is for tests (small chunks put chunk ends everywhere).
 */
export function createFormLoop(chunkBytes = CHUNK_BYTES): WasmChunks | undefined {
  // A chunk must hold a whole escape (3 bytes), or the loop could not move past one.
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 3 || chunkBytes > CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be a whole number from 3 to ${CHUNK_BYTES}`)
  }
  if (compiled === undefined) compiled = compile()
  if (compiled === null) return undefined
  const exports = new WebAssembly.Instance(compiled).exports as unknown as FormWasmExports
  return new WasmChunks(exports, chunkBytes)
}

/**
 * Decodes one chunk of a part at a time in its module instance. Decoding is synchronous: each
 * chunk is copied in, decoded and copied out, and its results read, before anything else runs.
 */
export class WasmChunks {
  /** Where the last chunk stopped in the body: its `&`/stop byte, or where the next begins. */
  at = 0
  /** Whether the last chunk had an escape or a `+` (else its output is its input). */
  changed = false
  /** Whether the part ended in the last chunk, at `&` or the stop byte. */
  stopped = false
  /** How many bytes the last chunk decoded to. */
  length = 0
  readonly #wasm: FormWasmExports
  /** The module's memory (three pages, never grown, so this view stays valid). */
  readonly #memory: Uint8Array
  /** Where the last chunk's output starts in the memory. */
  #output = 0

  readonly #chunkBytes: number

  constructor(wasm: FormWasmExports, chunkBytes: number) {
    this.#wasm = wasm
    this.#memory = new Uint8Array(wasm.memory.buffer)
    this.#chunkBytes = chunkBytes
  }

  /** The instance's memory, in bytes (it never grows). */
  get memoryBytes(): number {
    return this.#wasm.memory.buffer.byteLength
  }

  /** Decode the chunk of `src` from `from` (up to `&`, `stop` or the chunk's end). */
  run(src: Uint8Array, from: number, stop: number): void {
    const n = src.length
    const last = n - from <= this.#chunkBytes
    // Two bytes past the chunk are loaded too, so an escape that starts in it is whole.
    const end = last ? n : Math.min(n, from + this.#chunkBytes + 2)
    this.#memory.set(src.subarray(from, end), BASE)
    const loaded = BASE + (end - from)
    const wasm = this.#wasm
    const output = BASE + this.#chunkBytes + SLACK
    this.#output = output
    this.length = wasm.part(BASE, last ? loaded : loaded - 2, loaded, stop, output) - output
    this.at = from + ((wasm.at.value as number) - BASE)
    this.changed = wasm.changed.value === 1
    this.stopped = wasm.stopped.value === 1
  }

  /** Copy the last chunk's decoded bytes into `out` at `at`. */
  copy(out: Uint8Array, at: number): void {
    out.set(this.#memory.subarray(this.#output, this.#output + this.length), at)
  }
}
