import { PassThrough } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { WebhookError } from '../src/errors.js'
import { BodyCollector, readBody } from '../src/request/read-body.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('BodyCollector', () => {
  it('copies chunks into one buffer of the announced length (up to 64 KiB)', () => {
    const body = new BodyCollector(100, 6)
    for (const chunk of ['ab', 'cd', 'ef']) expect(body.push(bytes(chunk))).toBe(true)
    expect(text(body.result())).toBe('abcdef')
    expect(body.result().buffer.byteLength).toBe(6)
  })

  it('keeps a single chunk as it is', () => {
    const chunk = bytes('abcdef')
    const body = new BodyCollector(100, 6)
    body.push(chunk)
    expect(body.result()).toBe(chunk)
  })

  it('still joins correctly when more arrives than was announced, or nothing was', () => {
    for (const expected of [3, undefined]) {
      const body = new BodyCollector(100, expected)
      for (const chunk of ['ab', 'cd', 'ef']) body.push(bytes(chunk))
      expect(text(body.result())).toBe('abcdef')
    }
  })

  it('keeps a single chunk as it is without an announced length too, and an empty body is empty', () => {
    const chunk = bytes('abcdef')
    const body = new BodyCollector(100)
    body.push(new Uint8Array(0))
    body.push(chunk)
    expect(body.result()).toBe(chunk)
    expect(new BodyCollector(100, 6).result()).toEqual(new Uint8Array(0))
  })

  it('joins any chunking to the same bytes, whatever length was announced', () => {
    const chunking = fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 6 })
    fc.assert(
      fc.property(chunking, fc.integer({ min: -3, max: 3 }), fc.boolean(), (chunks, off, say) => {
        const all = Uint8Array.from(chunks.flatMap((chunk) => [...chunk]))
        const body = new BodyCollector(100, say ? Math.max(0, all.length + off) : undefined)
        for (const chunk of chunks) expect(body.push(chunk)).toBe(true)
        expect(body.result()).toEqual(all)
      }),
    )
  })

  it('a promised length is not allocated before its bytes arrive: at most 64 KiB at first, then growth with the bytes', () => {
    const body = new BodyCollector(8 * 1024 * 1024, 4 * 1024 * 1024)
    body.push(bytes('0123456789'))
    body.push(bytes('abcdefghij'))
    expect(text(body.result())).toBe('0123456789abcdefghij')
    expect(body.result().buffer.byteLength).toBe(64 * 1024)
    // As bytes keep coming the buffer doubles, never past the announced length.
    const big = new BodyCollector(8 * 1024 * 1024, 300 * 1024)
    const chunk = new Uint8Array(16 * 1024).fill(7)
    for (let i = 0; i < 18; i++) big.push(chunk)
    big.push(new Uint8Array(12 * 1024).fill(7))
    expect(big.result().length).toBe(300 * 1024)
    expect(big.result().buffer.byteLength).toBe(300 * 1024)
    expect(big.result().every((b) => b === 7)).toBe(true)
  })

  it('refuses past the limit, also when the announced length lied', () => {
    const body = new BodyCollector(5, 4)
    expect(body.push(bytes('abcd'.slice(0, 2)))).toBe(true)
    expect(body.push(bytes('cd'))).toBe(true)
    expect(body.push(bytes('ef'))).toBe(false)
  })
})

/** One body arriving as chunks, as a Web stream and as a Node stream; `end: false` never finishes. */
function streams(chunks: string[], end = true) {
  const web = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(bytes(chunk))
        if (end) controller.close()
      },
    })
  const node = () => {
    const stream = new PassThrough()
    for (const chunk of chunks) stream.write(chunk)
    if (end) stream.end()
    return stream
  }
  return [
    ['Web stream', web],
    ['Node stream', node],
  ] as const
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: WebhookError) => `${error.status} ${error.code}`,
  )

describe('readBody: the core reads Web and Node streams with the same policy', () => {
  for (const [kind, make] of streams(['ab', 'cd', 'ef'])) {
    it(`${kind}: reads every chunk, in order`, async () => {
      const body = await readBody(make(), 100, 1000, 6)
      expect(text(body as Uint8Array)).toBe('abcdef')
    })
    it(`${kind}: 413 past the limit`, async () => {
      expect(await codeOf(readBody(make(), 5, 1000))).toBe('413 PAYLOAD_TOO_LARGE')
    })
  }

  for (const [kind, make] of streams(['ab'], false)) {
    it(`${kind}: 408 when the rest never arrives, and the stream is released`, async () => {
      const stream = make()
      expect(await codeOf(readBody(stream, 100, 50))).toBe('408 BODY_TIMEOUT')
      if (stream instanceof PassThrough) {
        expect(stream.listenerCount('data')).toBe(0)
        expect(stream.readableFlowing).toBe(true) // still drained, so the answer can be written
      } else expect(stream.locked).toBe(true)
    })
  }

  it('Web stream: 408 on time even when cancelling does not end the pending read', async () => {
    // Not every runtime's stream settles a pending read on cancel; the deadline must not wait for it.
    let cancelled = false
    const stuck = {
      getReader: () => ({
        read: () => new Promise<never>(() => {}),
        cancel: async () => {
          cancelled = true
        },
      }),
    } as unknown as ReadableStream<Uint8Array>
    expect(await codeOf(readBody(stuck, 100, 50))).toBe('408 BODY_TIMEOUT')
    expect(cancelled).toBe(true)
  })

  it('Web stream: a read that fails passes its error on, and the deadline is cleared', async () => {
    const failure = new Error('reset')
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(failure)
      },
    })
    await expect(readBody(stream, 100, 30)).rejects.toBe(failure)
  })

  it('Node stream: a connection closed mid-body, or a stream error, is a 400', async () => {
    const closed = new PassThrough()
    closed.write('ab')
    const read = codeOf(readBody(closed, 100, 1000))
    closed.destroy()
    expect(await read).toBe('400 MALFORMED_PAYLOAD')
    const failed = new PassThrough()
    const read2 = codeOf(readBody(failed, 100, 1000))
    failed.destroy(new Error('socket hang up'))
    expect(await read2).toBe('400 MALFORMED_PAYLOAD')
  })

  it('bytes, text and ArrayBuffer in hand: only the limit applies', async () => {
    expect(text((await readBody('abc', 3, 1)) as Uint8Array)).toBe('abc')
    expect(await codeOf(readBody(bytes('abcd').buffer, 3, 1))).toBe('413 PAYLOAD_TOO_LARGE')
  })
})
