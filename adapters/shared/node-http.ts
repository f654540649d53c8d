// Internal: the Node `http` plumbing shared by the Express, Koa, node, Hono and fetch adapters
// (reading a body within the core's limits, the URL and headers as the core wants them,
// writing the answer, the lingering close). Not a package entry.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HeaderReader, RequestBody, WebhookRequest, WebhookResponse } from '../../src/index.js'
import { ParsedBody, WebhookError } from '../../src/internal.js'

/**
 * The body for the core: the request stream itself while nobody has read it (the core reads it
 * within its limits), else what the body parser left (`parsed`), with hints for the error.
 */
export function nodeBody(
  req: IncomingMessage,
  parsed: unknown,
  hint?: string,
  nestedHint?: string,
): RequestBody {
  if (!req.readableDidRead && !req.readableEnded) return req
  return new ParsedBody(parsed, hint, nestedHint)
}

/** `{ req, res }`: the context the Express and node adapters give handlers. */
export class RequestAndResponse<Req extends IncomingMessage, Res extends ServerResponse> {
  constructor(
    public req: Req,
    public res: Res,
  ) {}
}

/** The core's request for a Node request; `url` defaults to the URL this server saw. */
export function nodeRequest<C>(
  adapter: string,
  req: IncomingMessage,
  body: RequestBody,
  context: C,
  url = requestUrl(req),
): WebhookRequest<C> {
  return { method: req.method ?? 'GET', url, headers: new NodeHeaders(req), body, context, adapter }
}

/** `scheme://host/path?query` as this server saw it (no proxy headers: the core applies `trustProxy`). */
export function requestUrl(req: IncomingMessage, pathAndQuery = req.url ?? '/'): string {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'
  return `${scheme}://${req.headers.host ?? 'localhost'}${pathAndQuery}`
}

/** A Node request's headers, read case-insensitively as the core asks for them. */
class NodeHeaders implements HeaderReader {
  readonly #req: IncomingMessage
  constructor(req: IncomingMessage) {
    this.#req = req
  }
  get(name: string): string | undefined {
    const value = this.#req.headers[name.toLowerCase()]
    return Array.isArray(value) ? value.join(', ') : value
  }
}

/** How long a connection whose body was refused keeps reading (and dropping) what is still in flight. */
const LINGER_MS = 5000
const LINGERING = Symbol('sendclean-webhooks.lingering')

/**
 * A lingering close for a request whose body was not read to its end (413, 408): Node closes
 * such a connection with `socket.destroySoon()`, which destroys it right after the answer is
 * flushed; bytes the client is still sending then reset the connection, and the reset can
 * discard the answer before the client has read it. Instead: send the answer and a FIN, keep
 * reading and dropping what arrives for at most `LINGER_MS`, then close. Works on node:http
 * and on @hono/node-server (which also closes through `destroySoon`).
 */
export function lingerIfUnread(req: IncomingMessage | undefined): void {
  if (!req || req.complete) return
  const socket = req.socket as (IncomingMessage['socket'] & { [LINGERING]?: true }) | null
  if (!socket || socket.destroyed || socket[LINGERING]) return
  socket[LINGERING] = true
  socket.destroySoon = function lingeringClose() {
    this.end()
    const timer = setTimeout(() => this.destroy(), LINGER_MS)
    timer.unref?.()
    this.once('close', () => clearTimeout(timer))
  }
  // Read and drop the rest from now on, as Node's own dump does. The app's own listeners stay;
  // a reader that will never read again (a Web stream wrapping the request, on node-server)
  // would pause the flow, so while lingering a pause is undone.
  req.on('pause', () => req.resume())
  req.resume()
}

/** The Node request under @hono/node-server's `env` (`{ incoming, outgoing }`), if any. */
export function nodeRequestOf(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: Partial<IncomingMessage> } | undefined)?.incoming
  return typeof incoming?.on === 'function' && typeof incoming.headers === 'object'
    ? (incoming as IncomingMessage)
    : undefined
}

/**
 * The Node request under @hono/node-server, read directly: when `c.env.incoming` (documented by
 * node-server) is the Node request and nothing has read the body through Hono yet, the core
 * reads the Node stream instead of the Web `Request` node-server would build for it. Whether Hono
 * has read the body is told by its `bodyCache`, which Hono does not document: it is
 * feature-detected, and without it (a Hono that renamed it) every request takes the Web path.
 * Anything else (Bun, Deno, Workers, a body already read) takes the Web path too. `incoming` is
 * `nodeRequestOf(c.env)`.
 */
export function honoNodeRequest<C extends { env: unknown; req: { url: string } }>(
  c: C,
  incoming: IncomingMessage | undefined,
  hint: string,
): WebhookRequest<C> | undefined {
  const cache = (c.req as { bodyCache?: unknown }).bodyCache
  if (!incoming || typeof cache !== 'object' || cache === null) return undefined
  if (Object.keys(cache).length > 0) return undefined
  // node-server's own rawBody (set when it already buffered the request).
  const raw = (incoming as { rawBody?: unknown }).rawBody
  const body = raw instanceof Uint8Array ? raw : nodeBody(incoming, undefined, hint)
  return nodeRequest('hono', incoming, body, c, c.req.url)
}

/** Headers to add when the request body was not read to its end (413, 408): close the connection, gracefully. */
export function closeIfUnread(req: IncomingMessage): Record<string, string> {
  if (req.complete) return {}
  lingerIfUnread(req)
  return { connection: 'close' }
}

/**
 * Write the receiver's answer; false (nothing written) when a handler already sent a response
 * itself: the adapter reports that (`RESPONSE_SENT`) instead of throwing where nobody catches.
 */
export function writeNodeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: WebhookResponse,
): boolean {
  if (res.headersSent || res.writableEnded) return false
  res.writeHead(response.status, { ...response.headers, ...closeIfUnread(req) })
  res.end(response.body)
  return true
}

/** The error an adapter reports when a handler sent the response before the receiver could. */
export function responseSent(status: number): WebhookError {
  return new WebhookError(
    'RESPONSE_SENT',
    `a handler sent the response itself, so the receiver's answer (${status}) was not sent; handlers must not write the response`,
  )
}
