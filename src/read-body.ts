import { WebhookError } from './errors.js'
import { within } from './within.js'

/**
 * What an upstream body parser (express.urlencoded(), @koa/bodyparser) left after consuming
 * the request stream. Adapters wrap it so the core can tell it from a raw body.
 */
export class ParsedBody {
  /**
   * @param value what the parser produced (`undefined` when the stream was consumed and nothing kept)
   * @param hint what to change so the raw body reaches the receiver, for the error message
   * @param nestedHint what to change when the parser turned a field into an object or array
   */
  constructor(
    readonly value: unknown,
    readonly hint = 'mount the receiver before the body parser',
    readonly nestedHint = 'configure the form parser to keep every field a flat string',
  ) {}
}

/**
 * Set by the core when the body took too long; a reader registers `onabort` to release its
 * stream. (An AbortController per request cost a tenth of a small batch's time on Node.)
 */
export class Deadline {
  aborted = false
  onabort: (() => void) | undefined = undefined

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.onabort?.()
  }
}

/**
 * Reads the body itself: fails with a 413 {@link WebhookError} past `limit` bytes, and stops
 * (releasing the stream) when `deadline` aborts, which the core does after its body timeout.
 */
export type BodyReader = (
  limit: number,
  deadline: Deadline,
  /** The announced length (`Content-Length`), when there is one. */
  expected?: number,
) => Promise<Uint8Array>

/**
 * A request body, in any form an adapter has it: raw bytes or text, a stream not read yet,
 * a reader function, or the value a body parser produced.
 */
export type RequestBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | BodyReader
  | ParsedBody
  | null
  | undefined

const encoder = new TextEncoder()

export function tooLarge(limit: number): WebhookError {
  return new WebhookError('PAYLOAD_TOO_LARGE', `the body is larger than the ${limit}-byte limit`)
}

/**
 * Collects a body's chunks up to `limit` bytes. With the announced length (`Content-Length`),
 * chunks are copied into one buffer of that size as they arrive and dropped, so a body costs
 * its size once, not twice (chunks, then their join); without it, they are joined at the end.
 */
export class BodyCollector {
  #chunks: Uint8Array[] = []
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
    if (this.#total === 0 && this.#expected > chunk.length) {
      // The first of several chunks: one buffer of the announced size from now on.
      this.#buffer = new Uint8Array(this.#expected)
    }
    if (this.#buffer && end <= this.#buffer.length) this.#buffer.set(chunk, this.#total)
    else {
      // One chunk, or more than announced (or nothing announced): keep chunks, join at the end.
      if (this.#buffer) {
        this.#chunks.push(this.#buffer.subarray(0, this.#total))
        this.#buffer = undefined
      }
      this.#chunks.push(chunk)
    }
    this.#total = end
    return true
  }

  /** The body: one buffer, no copy for a single chunk. */
  result(): Uint8Array {
    if (this.#buffer) return this.#buffer.subarray(0, this.#total)
    const chunks = this.#chunks
    if (chunks.length === 1) return chunks[0] as Uint8Array
    const out = new Uint8Array(this.#total)
    let offset = 0
    for (const chunk of chunks) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    return out
  }
}

async function readStream(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  deadline: Deadline,
  expected: number | undefined,
): Promise<Uint8Array> {
  const reader = stream.getReader()
  deadline.onabort = () => void reader.cancel().catch(() => {})
  const body = new BodyCollector(limit, expected)
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (!body.push(value)) {
      await reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
  }
  return body.result()
}

/** Run `read` for at most `timeoutMs`; past it, fail with a 408 and abort the read. */
function withTimeout(read: (deadline: Deadline) => Promise<Uint8Array>, timeoutMs: number) {
  const deadline = new Deadline()
  return within(
    read(deadline),
    timeoutMs,
    () => new WebhookError('BODY_TIMEOUT', `the body did not arrive within ${timeoutMs} ms`),
    () => deadline.abort(),
  )
}

/** The body as bytes (or the parsed value), never more than `limit` bytes nor slower than `timeoutMs`. */
export async function readBody(
  body: RequestBody,
  limit: number,
  timeoutMs: number,
  expected?: number,
): Promise<Uint8Array | ParsedBody> {
  let bytes: Uint8Array
  if (body === null || body === undefined) return new Uint8Array(0)
  if (body instanceof ParsedBody) return body
  if (typeof body === 'function') {
    return withTimeout((deadline) => body(limit, deadline, expected), timeoutMs)
  }
  if (typeof body === 'string') bytes = encoder.encode(body)
  else if (body instanceof Uint8Array) bytes = body
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body)
  else return withTimeout((deadline) => readStream(body, limit, deadline, expected), timeoutMs)
  if (bytes.length > limit) throw tooLarge(limit)
  return bytes
}
