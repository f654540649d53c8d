import { PassThrough } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import {
  Buffers,
  HINT_BYTES,
  hintAllocator,
  POOL_FROM_BYTES,
  POOL_UP_TO_BYTES,
  pooledBytes,
  SLAB_UP_TO_BYTES,
} from '../src/buffer-pool.js'
import { createReceiver, type WebhookEvent } from '../src/index.js'
import { readBody } from '../src/read-body.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'

// One module instance per test file (vitest isolates files), so the pool starts empty here.

describe('Buffers', () => {
  it('gives sizes outside the pooled range fresh buffers, and keeps none of them', () => {
    const before = pooledBytes()
    const buffers = new Buffers()
    const small = buffers.take(POOL_FROM_BYTES - 1)
    const large = buffers.take(POOL_UP_TO_BYTES + 1)
    expect(small.buffer.byteLength).toBe(POOL_FROM_BYTES - 1)
    expect(large.buffer.byteLength).toBe(POOL_UP_TO_BYTES + 1)
    buffers.release()
    expect(pooledBytes()).toBe(before)
  })

  it('carves small buffers from a shared slab, never the same bytes twice, even after a release', () => {
    const first = new Buffers()
    const a = first.take(300)
    const b = first.take(SLAB_UP_TO_BYTES)
    first.release()
    const c = new Buffers().take(300)
    expect([a.length, b.length, c.length]).toEqual([300, SLAB_UP_TO_BYTES, 300])
    // One slab (the first in this file), larger than any view of it; nothing pooled for it.
    expect(new Set([a.buffer, b.buffer, c.buffer]).size).toBe(1)
    expect(a.buffer.byteLength).toBeGreaterThan(2 * SLAB_UP_TO_BYTES)
    expect(pooledBytes()).toBe(0)
    // Disjoint windows in the order taken: c, taken after a was released, does not reuse a's.
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.length)
    expect(c.byteOffset).toBeGreaterThanOrEqual(b.byteOffset + b.length)
  })

  it('hands a released buffer to the next request of its size class, as long as asked', () => {
    const first = new Buffers()
    const view = first.take(40_000)
    expect(view.length).toBe(40_000)
    expect(view.buffer.byteLength).toBe(64 * 1024)
    const buffer = view.buffer
    first.release()
    const second = new Buffers()
    // 50 000 bytes fall in the same 64 KiB class.
    const again = second.take(50_000)
    expect(again.buffer).toBe(buffer)
    expect(again.length).toBe(50_000)
    // Taken and not released: the pool no longer holds it.
    expect(new Buffers().take(60_000).buffer).not.toBe(buffer)
    second.release()
  })

  it('returns nothing twice, and a take after release is not pooled', () => {
    const buffers = new Buffers()
    buffers.take(20_000)
    buffers.release()
    const held = pooledBytes()
    buffers.release()
    expect(pooledBytes()).toBe(held)
    const late = buffers.take(20_000)
    expect(late.buffer.byteLength).toBe(20_000)
    buffers.release()
    expect(pooledBytes()).toBe(held)
  })

  it('keeps at most 1 MiB of free buffers per size class', () => {
    const requests = Array.from({ length: 40 }, () => new Buffers())
    for (const buffers of requests) buffers.take(100_000) // the 128 KiB class
    for (const buffers of requests) buffers.release()
    const kept = new Set<ArrayBufferLike>()
    const again = Array.from({ length: 40 }, () => new Buffers())
    for (const buffers of again) kept.add(buffers.take(100_000).buffer)
    // Eight 128 KiB buffers came back from the pool; the other 32 takes are fresh (and distinct).
    expect(kept.size).toBe(40)
    for (const buffers of again) buffers.release()
    expect(pooledBytes()).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024 + 32 * 1024 + 256 * 1024 * 4)
  })

  it('hints the allocator once per process, only on Linux', async () => {
    expect(HINT_BYTES).toBeGreaterThan(128 * 1024) // past glibc's first mmap threshold
    // The pooled takes above already gave the hint.
    expect(hintAllocator()).toBe(false)
    vi.resetModules()
    const fresh = await import('../src/buffer-pool.js')
    expect(fresh.hintAllocator()).toBe(process.platform === 'linux')
    expect(fresh.hintAllocator()).toBe(false)
  })
})

describe('a Web stream whose pending read settles after the body failed', () => {
  it('writes nothing into the buffer it gave back', async () => {
    let deliver: ((chunk: ReadableStreamReadResult<Uint8Array>) => void) | undefined
    let reads = 0
    // A reader that does not settle its pending read on cancel (as a careless one might).
    const stream = {
      getReader: () => ({
        read: () => {
          reads++
          if (reads === 1) {
            return Promise.resolve({ done: false as const, value: new Uint8Array(20_000) })
          }
          return new Promise<ReadableStreamReadResult<Uint8Array>>((resolve) => {
            deliver = resolve
          })
        },
        cancel: () => Promise.resolve(),
      }),
    } as unknown as ReadableStream<Uint8Array>
    const buffers = new Buffers()
    await expect(readBody(stream, 100_000, 30, 40_000, buffers)).rejects.toMatchObject({
      code: 'BODY_TIMEOUT',
    })
    buffers.release()
    const next = new Buffers()
    const reused = next.take(40_000)
    reused.fill(0xaa)
    deliver?.({ done: false, value: new Uint8Array(20_000).fill(0x55) })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(reused.every((byte) => byte === 0xaa)).toBe(true)
    next.release()
  })
})

/** A batch of `count` seed events, each with its own `_id`, tagged with `tag`. */
function batch(tag: string, count: number): { text: string; ids: string[] } {
  const events = Array.from({ length: count }, (_, i) => ({
    ...(SEED_EVENTS[i % SEED_EVENTS.length] as object),
    _id: `${tag}-${i}`,
  }))
  return { text: JSON.stringify(events), ids: events.map((e) => e._id) }
}

describe('the receiver with pooled buffers', () => {
  it('gives every one of many interleaved requests its own events, with keys that take a while', async () => {
    const seen = new Map<string, string[]>()
    const receiver = createReceiver<string>({
      url: URL_REGISTERED,
      // A key source that yields to the event loop: other requests' chunks arrive meanwhile.
      keys: async () => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
        return KEY
      },
    }).on('*', (event: WebhookEvent, tag) => {
      const ids = seen.get(tag) ?? []
      ids.push(String((event as { _id?: unknown })._id))
      seen.set(tag, ids)
    })
    const requests = Array.from({ length: 8 }, (_, r) => {
      const tag = `r${r}`
      const { text, ids } = batch(tag, 50 + r * 10)
      // A forged signature for one of them: refused, its buffers returned all the same.
      const { body, signature } = formDelivery(text, r === 3 ? { key: 'wrong' } : {})
      const bytes = new TextEncoder().encode(body)
      expect(bytes.length).toBeGreaterThanOrEqual(POOL_FROM_BYTES)
      return { tag, ids, bytes, signature, stream: new PassThrough() }
    })
    const answers = requests.map(({ tag, bytes, signature, stream }) =>
      receiver.handle({
        method: 'POST',
        url: URL_REGISTERED,
        headers: new Headers({
          'content-type': FORM,
          'content-length': String(bytes.length),
          [SIGNATURE_HEADER]: signature,
        }),
        body: stream,
        context: tag,
      }),
    )
    // Round-robin chunks of 3000 bytes, a turn of the event loop between rounds.
    for (let at = 0; requests.some(({ bytes }) => at < bytes.length); at += 3000) {
      for (const { bytes, stream } of requests) {
        if (at < bytes.length) stream.write(bytes.subarray(at, at + 3000))
        if (at + 3000 >= bytes.length && at < bytes.length) stream.end()
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    const statuses = (await Promise.all(answers)).map((answer) => answer.status)
    expect(statuses).toEqual([200, 200, 200, 401, 200, 200, 200, 200])
    for (const [r, { tag, ids }] of requests.entries()) {
      expect(seen.get(tag)).toEqual(r === 3 ? undefined : ids)
    }
    expect(pooledBytes()).toBeGreaterThan(0)
  })

  it('decodes the same batch the same way each time a pooled buffer is reused', async () => {
    const receiver = createReceiver<undefined>({ url: URL_REGISTERED, keys: KEY })
    const got: string[][] = []
    receiver.on('*', (event: WebhookEvent) => void got.at(-1)?.push(JSON.stringify(event)))
    for (const size of [60, 45, 60, 50, 60]) {
      got.push([])
      const { text } = batch('same', size)
      const { body, signature } = formDelivery(text)
      const answer = await receiver.handle({
        method: 'POST',
        url: URL_REGISTERED,
        headers: new Headers({
          'content-type': FORM,
          'content-length': String(Buffer.byteLength(body)),
          [SIGNATURE_HEADER]: signature,
        }),
        body: PassThrough.from([body.slice(0, 5000), body.slice(5000)]),
        context: undefined,
      })
      expect(answer.status).toBe(200)
    }
    expect(got[2]).toEqual(got[0])
    expect(got[4]).toEqual(got[0])
    expect(got[1]).toEqual(got[0]?.slice(0, 45))
    expect(pooledBytes()).toBeGreaterThan(0)
  })
})
