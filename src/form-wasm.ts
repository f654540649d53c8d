/**
 * The form decoder's hot loop in WebAssembly (src/form.wat), for long parts: it skips sixteen
 * plain bytes at a time and costs a third of the JavaScript loop on an event batch
 * (bench/RESULTS.md, issue 14). Optional: where WebAssembly, its SIMD, or compiling a module
 * from bytes is unavailable (Cloudflare Workers, a page whose CSP forbids it), nothing is
 * compiled and the JavaScript loop in src/form.ts decodes alone. Both are tested against the
 * same reference on arbitrary bytes.
 */
import { FORM_WASM_BASE64 } from './form-wasm-bytes.js'

interface FormWasmExports {
  memory: WebAssembly.Memory
  part(from: number, to: number, stop: number, out: number): number
  end: WebAssembly.Global
  changed: WebAssembly.Global
}

/** The module's hex table takes its memory's first 256 bytes; the body is copied in after it. */
const BASE = 256
/**
 * Larger bodies are decoded in JavaScript. The module needs twice the body (the body, then its
 * decoded parts) and its memory never shrinks, so this caps what it holds for the life of the
 * process at about 4 MiB. A SendClean batch of 1000 events is about 0.5 MB; a flood of
 * anonymous 4 MiB bodies costs what it did before the module existed.
 */
export const WASM_MAX_BYTES = 2 * 1024 * 1024
const PAGE = 64 * 1024

/** `null` once compiling failed: then every part is decoded in JavaScript. */
let compiled: WebAssembly.Module | null | undefined
let current: FormWasmExports | undefined

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
 * One body loaded into the module's memory, decoded part by part. Decoding is synchronous, so
 * the module's memory belongs to one body at a time: a body is loaded and all its parts are
 * decoded before anything else can run.
 */
export class WasmBody {
  /** Where the last part ended in the body: the index of its `&`/stop byte, or the length. */
  end = 0
  /** Whether the last part had an escape or a `+` (else its bytes are the body's own). */
  changed = false
  readonly #wasm: FormWasmExports
  readonly #length: number
  #memory: Uint8Array

  constructor(wasm: FormWasmExports, body: Uint8Array) {
    this.#wasm = wasm
    this.#length = body.length
    // The body, then room for its decoded parts (never longer than the body).
    const need = BASE + 2 * body.length
    const have = wasm.memory.buffer.byteLength
    if (have < need) wasm.memory.grow(Math.ceil((need - have) / PAGE))
    this.#memory = new Uint8Array(wasm.memory.buffer)
    this.#memory.set(body, BASE)
  }

  /**
   * The body in the module, or `undefined` when the body is over {@link WASM_MAX_BYTES},
   * WebAssembly is unavailable here, or the engine refuses to grow the module's memory.
   */
  static load(body: Uint8Array): WasmBody | undefined {
    if (body.length > WASM_MAX_BYTES) return undefined
    const wasm = instance()
    if (!wasm) return undefined
    try {
      return new WasmBody(wasm, body)
    } catch {
      return undefined // memory.grow refused: the JavaScript loop decodes this body
    }
  }

  /**
   * Decode the part from `from` up to `&` or `stop`; returns its decoded length. Sets `end`,
   * and `changed`, which says whether `copy()` is needed or the part is the body's own bytes.
   */
  part(from: number, stop: number): number {
    const wasm = this.#wasm
    const output = BASE + this.#length
    const length = wasm.part(BASE + from, BASE + this.#length, stop, output) - output
    this.end = (wasm.end.value as number) - BASE
    this.changed = wasm.changed.value === 1
    return length
  }

  /** Copy the last part's `length` decoded bytes into `out` at `at`. */
  copy(out: Uint8Array, at: number, length: number): void {
    const output = BASE + this.#length
    out.set(this.#memory.subarray(output, output + length), at)
  }
}

/** Whether parts are decoded by the WebAssembly module on this runtime (for tests and benches). */
export function formWasmAvailable(): boolean {
  return instance() !== undefined
}

/** The memory the module holds now, in bytes (0 before its first body). For tests. */
export function formWasmMemoryBytes(): number {
  return current?.memory.buffer.byteLength ?? 0
}
