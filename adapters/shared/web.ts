// Internal: the Web `Request`/`Response` plumbing shared by the fetch and Hono adapters. Not a
// package entry.
import type { Receiver, RequestBody, WebhookRequest, WebhookResponse } from '../../src/index.js'
import { ParsedBody } from '../../src/internal.js'

/**
 * A Web `Request` as the core's request. A body already read (`bodyUsed`) is reported as
 * consumed, unless the adapter passes the `body` it kept.
 */
export function fromWebRequest<C>(
  request: Request,
  context: C,
  adapter?: string,
  body: RequestBody = request.bodyUsed
    ? new ParsedBody(undefined, 'do not read the request body before the receiver, or pass a clone')
    : request.body,
): WebhookRequest<C> {
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    body,
    context,
    adapter,
  }
}

/** The core's answer as a Web `Response`. */
export function toWebResponse(response: WebhookResponse): Response {
  return new Response(response.body === '' ? null : response.body, {
    status: response.status,
    headers: response.headers,
  })
}

/** How long a body refused before it was read is still read (and dropped) after the answer. */
const DRAIN_MS = 5000

/**
 * Read and drop what is left of a body the receiver refused without reading (413 from
 * Content-Length, 405, 415), for a bounded time, then cancel it. A body left unread holds the
 * connection's flow back, and the server may then reset the connection, which can discard the
 * answer before a client that writes its whole body first has read it.
 */
export function drainUnread(request: Request): void {
  const body = request.body
  // A body the core read is locked by its reader: the usual case, told without `bodyUsed`.
  if (!body || body.locked || request.bodyUsed) return
  const reader = body.getReader()
  const until = Date.now() + DRAIN_MS
  const drain = async () => {
    while (Date.now() < until) if ((await reader.read()).done) return
    await reader.cancel()
  }
  drain().catch(() => {})
}

/** Handle a Web `Request` end to end. */
export async function handleWebRequest<C>(
  receiver: Receiver<C>,
  request: Request,
  context: C,
  adapter?: string,
): Promise<Response> {
  const response = toWebResponse(await receiver.handle(fromWebRequest(request, context, adapter)))
  drainUnread(request)
  return response
}
