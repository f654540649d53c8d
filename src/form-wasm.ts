/**
 * The form decoder's hot loop in WebAssembly (src/form.wat), for long parts: it decodes sixteen
 * bytes at a time, escapes included, and costs 0.27–0.29× the JavaScript loop on an event
 * batch (bench/RESULTS.md, issue 14). Optional: where WebAssembly, its SIMD, or compiling a module
 * from bytes is unavailable (Cloudflare Workers, a page whose CSP forbids it), nothing is
 * compiled and the JavaScript loop in src/form.ts decodes alone. Both are tested against the
 * same reference on arbitrary bytes.
 */
import { FORM_WASM_BASE64 } from './form-wasm-bytes.js'

interface FormWasmExports {
  memory: WebAssembly.Memory
  part(from: number, limit: number, end: number, stop: number, out: number): number
  at: WebAssembly.Global
  changed: WebAssembly.Global
  stopped: WebAssembly.Global
}

/** The module's hex and compaction tables take its memory's first 2304 bytes; chunks go after. */
const BASE = 256 + 2048
/**
 * A body goes through the module this many bytes at a time, so its memory stays three pages
 * (192 KiB) whatever the body's size. Tests make it small to put chunk ends everywhere.
 */
export const formWasmChunk = { bytes: 64 * 1024 - 64 }
/** Room for the two bytes of an escape that starts at a chunk's last byte, and a vector store. */
const SLACK = 32

/** `null` once compiling failed: then every part is decoded in JavaScript. */
let compiled: WebAssembly.Module | null | undefined
let current: FormWasmExports | undefined
/** The one decoder over `current`, made with it. */
let chunks: WasmChunks | undefined

function compile(): WebAssembly.Module | null {
  try {
    const binary = atob(FORM_WASM_BASE64)
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return new WebAssembly.Module(bytes)
  } catch {
    // No WebAssembly or no SIMD (a CompileError), or code generation from bytes disallowed by
    // the host (Workers, a CSP): decode in JavaScript.
    return null
  }
}

function instance(): FormWasmExports | undefined {
  if (current) return current
  if (compiled === undefined) compiled = compile()
  if (compiled === null) return undefined
  current = new WebAssembly.Instance(compiled).exports as unknown as FormWasmExports
  return current
}

/**
 * Decodes one chunk of a part at a time in the module. Decoding is synchronous, so one decoder
 * serves every body: each chunk is copied in, decoded and copied out, and its results read,
 * before anything else can run.
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

  constructor(wasm: FormWasmExports) {
    this.#wasm = wasm
    this.#memory = new Uint8Array(wasm.memory.buffer)
  }

  /** The decoder, or `undefined` when WebAssembly is unavailable here. */
  static get(): WasmChunks | undefined {
    const wasm = instance()
    if (!wasm) return undefined
    chunks ??= new WasmChunks(wasm)
    return chunks
  }

  /** Decode the chunk of `src` from `from` (up to `&`, `stop` or the chunk's end). */
  run(src: Uint8Array, from: number, stop: number): void {
    const n = src.length
    const last = n - from <= formWasmChunk.bytes
    // Two bytes past the chunk are loaded too, so an escape that starts in it is whole.
    const end = last ? n : Math.min(n, from + formWasmChunk.bytes + 2)
    this.#memory.set(src.subarray(from, end), BASE)
    const loaded = BASE + (end - from)
    const wasm = this.#wasm
    const output = BASE + formWasmChunk.bytes + SLACK
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

/** Whether parts are decoded by the WebAssembly module on this runtime (for tests and benches). */
export function formWasmAvailable(): boolean {
  return instance() !== undefined
}

/** The memory the module holds, in bytes (0 before its first body). For tests. */
export function formWasmMemoryBytes(): number {
  return current?.memory.buffer.byteLength ?? 0
}
