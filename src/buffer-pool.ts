/**
 * Buffers for a request's body and its decoded form, kept between requests.
 *
 * Why: a typed array past a few dozen bytes lives outside V8's heap, in memory the C allocator
 * hands out, and is freed only when a collection finds it dead, together with every other
 * buffer that died since. On Linux, glibc's malloc then gives the free top of its heap back to
 * the system when more than its trim threshold (128 KiB at first) is free there, and the next
 * requests take it back page by page, each page a fault. In the HTTP bench at N = 100 that
 * happened all the time: 10–20 page faults per request, and the server's CPU per request
 * 1.5–2.5 times what it was without them (bench/RESULTS.md, issue 14, twelfth pass). Two
 * things stop it, and both are needed:
 *
 * - The core's own buffers (the body joined in one, the decoded form) come from here and go
 *   back when the request's bytes are no longer needed, so a steady server frees none of them.
 * - The framework's body chunks (Node's HTTP parser copies each into a fresh buffer) cannot be
 *   kept. glibc raises its trim threshold by itself, to twice the size, the first time it frees a
 *   chunk it had to map apart from its heap; a process that once handled a large buffer has had
 *   that happen. {@link Buffers} makes it happen once, with a buffer of {@link HINT_BYTES} that is
 *   never written (so never made resident) and dies at once. Where the threshold was set by
 *   hand (`MALLOC_TRIM_THRESHOLD_`), glibc keeps that setting; other allocators ignore it.
 *
 * Ownership: one {@link Buffers} per request. Every pooled buffer taken through it is returned
 * by {@link Buffers.release}, after which no view of it may be read or written; the caller
 * (src/verified-batch.ts) releases only after the events were parsed into their own values.
 * The pool never hands out bytes it did not write: a view is as long as asked, and the code
 * that takes one writes it before reading it.
 */

/**
 * Smaller buffers are not pooled: they come from the allocator's own free lists and cost no
 * faults (and up to {@link SLAB_UP_TO_BYTES}, from a slab instead: see {@link carve}).
 */
export const POOL_FROM_BYTES = 16 * 1024
/**
 * Larger buffers are not pooled (a 1000-event batch, about 480 KB, is not): a pool would keep
 * them alive after the request, and they are rarer. The largest class holds up to this.
 */
export const POOL_UP_TO_BYTES = 256 * 1024
/** A class keeps at most this many bytes of free buffers (so at most 1 MiB ÷ its size of them). */
const KEEP_BYTES_PER_CLASS = 1024 * 1024

/** The buffer whose death raises glibc's thresholds (to 4 MiB mapped, 8 MiB trimmed). */
export const HINT_BYTES = 4 * 1024 * 1024

let hinted = false

/** Once per process, on Linux: see the top of this file. Exported for tests. */
export function hintAllocator(): boolean {
  if (hinted) return false
  hinted = true
  if ((globalThis as { process?: { platform?: unknown } }).process?.platform !== 'linux') {
    return false
  }
  // Allocated, read, and dropped: dead from the next collection on.
  return new ArrayBuffer(HINT_BYTES).byteLength === HINT_BYTES
}

/**
 * Buffers up to this size are carved from a shared slab (see {@link carve}): a fresh
 * `ArrayBuffer` of a few hundred bytes costs more than the work done with it at N = 1.
 */
export const SLAB_UP_TO_BYTES = 4 * 1024
const SLAB_BYTES = 64 * 1024
let slab: ArrayBuffer | undefined
let slabUsed = 0

/**
 * A view of `bytes` fresh bytes from the current slab, or a new slab when it is full. A slab is
 * never reused (only dropped, once no view of it is alive), so a view shares nothing with
 * another request: no release, no ownership to get wrong. The bytes are zero, never written
 * before.
 */
function carve(bytes: number): Uint8Array {
  if (!slab || slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    slabUsed = 0
  }
  const view = new Uint8Array(slab, slabUsed, bytes)
  slabUsed += (bytes + 7) & ~7
  return view
}

/** Free buffers by size class (a power of two), shared by every receiver in the process. */
const free = new Map<number, ArrayBuffer[]>()

function sizeClass(bytes: number): number {
  return 2 ** Math.ceil(Math.log2(bytes))
}

/** The buffers one request took; {@link release} returns them. */
export class Buffers {
  #taken: ArrayBuffer[] | undefined
  #released = false

  /**
   * A view of `bytes` bytes: cut from a slab when small, pooled when the size is in the pooled
   * range, else fresh; contents undefined.
   */
  take(bytes: number): Uint8Array {
    if (bytes <= SLAB_UP_TO_BYTES) return carve(bytes)
    if (this.#released || bytes < POOL_FROM_BYTES || bytes > POOL_UP_TO_BYTES) {
      return new Uint8Array(bytes)
    }
    hintAllocator()
    const size = sizeClass(bytes)
    const buffer = free.get(size)?.pop() ?? new ArrayBuffer(size)
    if (this.#taken) this.#taken.push(buffer)
    else this.#taken = [buffer]
    return new Uint8Array(buffer, 0, bytes)
  }

  /** Return every buffer taken; nothing may touch their views afterwards. Idempotent. */
  release(): void {
    if (this.#released) return
    this.#released = true
    const taken = this.#taken
    this.#taken = undefined
    if (!taken) return
    for (const buffer of taken) {
      const size = buffer.byteLength
      let list = free.get(size)
      if (!list) {
        list = []
        free.set(size, list)
      }
      if ((list.length + 1) * size <= KEEP_BYTES_PER_CLASS) list.push(buffer)
    }
  }
}

/** `bytes` bytes from `buffers` when the caller has them (so releases them), else a fresh buffer. */
export function allocate(buffers: Buffers | undefined, bytes: number): Uint8Array {
  return buffers ? buffers.take(bytes) : new Uint8Array(bytes)
}

/** Bytes held by free buffers in the pool (for tests). */
export function pooledBytes(): number {
  let total = 0
  for (const [size, list] of free) total += size * list.length
  return total
}
