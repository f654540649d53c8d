import { malformed, WebhookError } from '../errors.js'
import { type NodeReadable, ParsedBody, type RequestBody } from './request.js'

const encoder = new TextEncoder()

const bodyTimeout = (ms: number) =>
  new WebhookError('BODY_TIMEOUT', `the body did not arrive within ${ms} ms`)

export function tooLarge(limit: number): WebhookError {
  return new WebhookError('PAYLOAD_TOO_LARGE', `the body is larger than the ${limit}-byte limit`)
}

/** The most a body buffer starts with, whatever `Content-Length` promises. */
const FIRST_BUFFER_MAX = 64 * 1024

/**
 * Collects a body's chunks up to `limit` bytes into one buffer that grows with the bytes that
 * arrive: it starts at the announced length (`Content-Length`) but at most 64 KiB, and doubles
 * (up to the announced length, when it is still ahead) only when a chunk does not fit. So a
 * client that promises 4 MiB and sends 20 bytes costs 64 KiB, not 4 MiB, and a body costs at
 * most about twice its size in copies. A body that came in one chunk is that chunk, not a copy.
 */
export class BodyCollector {
  /** The only chunk so far (no copy for a body that came in one). */
  #first: Uint8Array | undefined
  #buffer: Uint8Array | undefined
  #expected: number
  #total = 0

  constructor(
    readonly limit: number,
    expected?: number,
  ) {
    this.#expected = expected !== undefined && expected > 0 && expected <= limit ? expected : 0
  }

  /** Add a chunk; false once the body is over the limit (stop reading, answer 413). */
  push(chunk: Uint8Array): boolean {
    const end = this.#total + chunk.length
    if (end > this.limit) return false
    if (this.#total === 0) {
      this.#first = chunk
    } else {
      if (!this.#buffer || end > this.#buffer.length) this.#grow(end)
      ;(this.#buffer as Uint8Array).set(chunk, this.#total)
    }
    this.#total = end
    return true
  }

  /** A buffer for at least `needed` bytes, holding what came so far. */
  #grow(needed: number): void {
    const size = this.#buffer?.length ?? 0
    let capacity = Math.max(needed, size * 2, Math.min(this.#expected, FIRST_BUFFER_MAX))
    // Never past the announced length while it is still ahead, nor past the limit.
    if (this.#expected >= needed) capacity = Math.min(capacity, this.#expected)
    capacity = Math.min(capacity, this.limit)
    const buffer = new Uint8Array(capacity)
    if (this.#buffer) buffer.set(this.#buffer.subarray(0, this.#total))
    else if (this.#first) buffer.set(this.#first)
    this.#buffer = buffer
    this.#first = undefined
  }

  /** The body: one buffer, no copy for a single chunk. */
  result(): Uint8Array {
    if (this.#buffer) return this.#buffer.subarray(0, this.#total)
    return this.#first ?? new Uint8Array(0)
  }
}

/**
 * Read a Web stream. Past the limit or the deadline the read fails at once and the stream is
 * cancelled; a stream that never settles its pending read cannot hold the answer.
 */
function readWebStream(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  timeoutMs: number,
  expected: number | undefined,
): Promise<Uint8Array> {
  const reader = stream.getReader()
  const body = new BodyCollector(limit, expected)
  return new Promise((resolve, reject) => {
    let failed = false
    // Past the deadline, past the limit, or a failed read (the stream's own error is passed
    // on). Settling twice is harmless: once rejected, nothing else counts.
    const fail = (error: unknown) => {
      failed = true
      clearTimeout(timer)
      reject(error)
      reader.cancel().catch(() => {})
    }
    const onChunk = ({ done, value }: ReadableStreamReadResult<Uint8Array>) => {
      // A read still pending when the request failed: nothing counts any more.
      if (failed) return
      if (done) {
        clearTimeout(timer)
        resolve(body.result())
      } else if (body.push(value)) reader.read().then(onChunk, fail)
      else fail(tooLarge(limit))
    }
    const timer = setTimeout(() => fail(bodyTimeout(timeoutMs)), timeoutMs)
    reader.read().then(onChunk, fail)
  })
}

/**
 * Read a Node stream. Past the limit or the deadline it stops buffering but keeps the stream
 * flowing (dropping what arrives), so the answer can still be written; the adapter closes the
 * connection after it.
 */
function readNodeStream(
  stream: NodeReadable,
  limit: number,
  timeoutMs: number,
  expected: number | undefined,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const body = new BodyCollector(limit, expected)
    const stop = (error?: WebhookError) => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
      if (error) reject(error)
    }
    const onData = (chunk: Uint8Array) => {
      if (body.push(chunk)) return
      stop(tooLarge(limit))
      stream.resume()
    }
    const onEnd = () => {
      stop()
      resolve(body.result())
    }
    const onError = () => stop(malformed('the request body could not be read'))
    const onClose = () => stop(malformed('the client closed the connection mid-body'))
    const timer = setTimeout(() => {
      stop(bodyTimeout(timeoutMs))
      stream.resume()
    }, timeoutMs)
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    stream.on('close', onClose)
  })
}

function isWebStream(body: object): body is ReadableStream<Uint8Array> {
  return typeof (body as Partial<ReadableStream>).getReader === 'function'
}

/** The body as bytes (or the parsed value), never more than `limit` bytes nor slower than `timeoutMs`. */
export function readBody(
  body: RequestBody,
  limit: number,
  timeoutMs: number,
  expected?: number,
): Promise<Uint8Array | ParsedBody> {
  let bytes: Uint8Array
  if (body === null || body === undefined) bytes = new Uint8Array(0)
  else if (body instanceof ParsedBody) return Promise.resolve(body)
  else if (typeof body === 'string') bytes = encoder.encode(body)
  else if (body instanceof Uint8Array) bytes = body
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body)
  // Not an `async` function: the stream's own promise is returned, not wrapped in another.
  // A Web stream is told first: its `getReader` is found at once, a missing `on` is not.
  else if (isWebStream(body)) return readWebStream(body, limit, timeoutMs, expected)
  else return readNodeStream(body, limit, timeoutMs, expected)
  return bytes.length > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(bytes)
}
