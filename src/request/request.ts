/**
 * What an adapter hands the core (`WebhookRequest`) and what the core answers
 * (`WebhookResponse`): the handshake, an accepted batch, or an error's public message.
 */
import { ALLOWED_METHODS, HANDSHAKE_BODY } from '../constants.js'
import type { WebhookError } from '../errors.js'

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
 * The part of a Node.js readable stream (an `http.IncomingMessage`) the core reads, by shape:
 * the core imports nothing from Node. Pass the request itself while nothing has read it.
 */
export interface NodeReadable {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  on(event: 'end' | 'close' | 'error', listener: (error?: unknown) => void): unknown
  off(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  off(event: 'end' | 'close' | 'error', listener: (error?: unknown) => void): unknown
  resume(): unknown
}

/**
 * A request body, in whichever form the framework has it: bytes or text in hand, a Web stream
 * or a Node stream nobody has read yet, or what a body parser left after consuming the stream.
 * The core reads streams itself, within its size limit and body timeout.
 */
export type RequestBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | NodeReadable
  | ParsedBody
  | null
  | undefined

/** Reads a request header, case-insensitively. A Web `Headers` object is one. */
export interface HeaderReader {
  get(name: string): string | null | undefined
}

/** What an adapter hands the core: a request, framework-free. */
export interface WebhookRequest<C = unknown> {
  /** HTTP method, any case. */
  method: string
  /** The absolute URL the request arrived at, as the server saw it (scheme, Host header, path, query). */
  url: string
  headers: HeaderReader
  body: RequestBody
  /** The framework's own context, passed on to handlers and the error hook (optional). */
  context?: C
  /** Which integration built the request (`express`, `koa`, …), for telemetry. */
  adapter?: string
}

/** What the core answers; adapters write it out as is. */
export interface WebhookResponse {
  status: number
  headers: Record<string, string>
  /** Empty for HEAD. */
  body: string
}

const TEXT = 'text/plain; charset=utf-8'
const encoder = new TextEncoder()
const HANDSHAKE_LENGTH = String(encoder.encode(HANDSHAKE_BODY).length)

/** The answer to a handshake: GET, HEAD (headers only), or a POST with no events. */
export function handshake(head = false): WebhookResponse {
  return {
    status: 200,
    headers: { 'content-type': TEXT, 'content-length': HANDSHAKE_LENGTH },
    body: head ? '' : HANDSHAKE_BODY,
  }
}

/** The answer to a batch that was fully handled: the same text SendClean requires ("always"). */
export const accepted = (): WebhookResponse => handshake()

/** The error's status and its public message (no key material, no URL, no stack). */
export function errorResponse(error: WebhookError): WebhookResponse {
  const body = error.publicMessage
  const headers: Record<string, string> = {
    'content-type': TEXT,
    'content-length': String(encoder.encode(body).length),
  }
  if (error.status === 405) headers.allow = ALLOWED_METHODS
  return { status: error.status, headers, body }
}
