// Internal: the Node `http` plumbing shared by the Express, Koa, node, Hono and fetch adapters
// (reading a body within the core's limits, the URL and headers as the core wants them,
// writing the answer, the lingering close). Not a package entry.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HeaderReader, RequestBody, WebhookResponse } from '../src/index.js'
import {
  BodyCollector,
  type Deadline,
  ParsedBody,
  tooLarge,
  WebhookError,
} from '../src/internal.js'

/** Read a Node request body, up to `limit` bytes; past it, the rest is drained and a 413 error thrown. */
export function readNodeBody(
  req: IncomingMessage,
  limit: number,
  deadline?: Deadline,
  expected?: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const body = new BodyCollector(limit, expected)
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
      if (deadline) deadline.onabort = undefined
    }
    const onAbort = () => {
      cleanup()
      // Stop buffering; the response carries `connection: close`, which ends the socket.
      req.resume()
      reject(new WebhookError('BODY_TIMEOUT', 'the body did not arrive in time'))
    }
    const onData = (chunk: Buffer) => {
      if (!body.push(chunk)) {
        cleanup()
        // Keep draining (and dropping) the rest so the 413 can still be written.
        req.resume()
        reject(tooLarge(limit))
      }
    }
    const onEnd = () => {
      cleanup()
      resolve(body.result())
    }
    const onError = () => {
      cleanup()
      reject(new WebhookError('MALFORMED_PAYLOAD', 'the request body could not be read'))
    }
    const onClose = () => {
      cleanup()
      reject(new WebhookError('MALFORMED_PAYLOAD', 'the client closed the connection mid-body'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
    if (deadline) deadline.onabort = onAbort
  })
}

/**
 * The body for the core: the stream while nobody has read it, else what the body parser left
 * (`parsed`), with `hint` saying how to keep the raw body.
 */
export function nodeBody(
  req: IncomingMessage,
  parsed: unknown,
  hint?: string,
  nestedHint?: string,
): RequestBody {
  if (!req.readableDidRead && !req.readableEnded) {
    return (limit, deadline, expected) => readNodeBody(req, limit, deadline, expected)
  }
  return new ParsedBody(parsed, hint, nestedHint)
}

/** `scheme://host/path?query` as this server saw it (no proxy headers: the core applies `trustProxy`). */
export function requestUrl(req: IncomingMessage, pathAndQuery = req.url ?? '/'): string {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'
  return `${scheme}://${req.headers.host ?? 'localhost'}${pathAndQuery}`
}

export function headerReader(req: IncomingMessage): HeaderReader {
  return {
    get(name) {
      const value = req.headers[name.toLowerCase()]
      return Array.isArray(value) ? value.join(', ') : value
    },
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
  // Read and drop the rest from now on, as Node's own dump does: a reader that will never read
  // (a Web stream wrapping the request, on node-server) would otherwise hold the flow back.
  req.removeAllListeners('data')
  req.resume()
}

/** The Node request under @hono/node-server's `env` (`{ incoming, outgoing }`), if any. */
export function nodeRequestOf(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: Partial<IncomingMessage> } | undefined)?.incoming
  return typeof incoming?.on === 'function' && typeof incoming.headers === 'object'
    ? (incoming as IncomingMessage)
    : undefined
}

/** Headers to add when the request body was not read to its end (413, 408): close the connection, gracefully. */
export function closeIfUnread(req: IncomingMessage): Record<string, string> {
  if (req.complete) return {}
  lingerIfUnread(req)
  return { connection: 'close' }
}

export function writeNodeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: WebhookResponse,
): void {
  res.writeHead(response.status, { ...response.headers, ...closeIfUnread(req) })
  res.end(response.body)
}
