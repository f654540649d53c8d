import type { IncomingMessage } from 'node:http'
import type { Context, Env } from 'hono'
import {
  createReceiver,
  type On,
  type ReceiverOptions,
  type RequestBody,
  type WebhookRequest,
} from '../src/index.js'
import { attachOn, drainUnread, fromWebRequest, tooLarge, toWebResponse } from '../src/internal.js'
import { headerReader, lingerIfUnread, nodeBody, nodeRequestOf } from './node-http.js'

const HINT =
  'do not read the body before the receiver, or read it through c.req (Hono keeps a copy)'

/**
 * On @hono/node-server, `c.env.incoming` is the Node request. Reading it directly skips the
 * Web Request and ReadableStream that node-server would otherwise build: several times faster
 * for small batches. Only used while nothing has read the body yet.
 */
function nodeIncoming(c: Context): IncomingMessage | undefined {
  return Object.keys(c.req.bodyCache).length === 0 ? nodeRequestOf(c.env) : undefined
}

export type HonoHandler<E extends Env> = ((c: Context<E>) => Promise<Response>) & {
  on: On<Context<E>, HonoHandler<E>>
}

/**
 * A Hono 4 handler; event handlers get Hono's `c` (typed by `E`). Runs wherever Hono runs
 * (Node via @hono/node-server, Bun, Deno, Cloudflare Workers).
 *
 * @example
 * import { Hono } from 'hono'
 * import { createHonoHandler } from 'sendclean-webhooks/hono'
 *
 * type E = { Bindings: { SENDCLEAN_WEBHOOK_KEY: string } }
 * const app = new Hono<E>()
 * app.on(
 *   ['GET', 'HEAD', 'POST'],
 *   '/webhooks/sendclean',
 *   createHonoHandler<E>({ keys: ({ context: c }) => c.env.SENDCLEAN_WEBHOOK_KEY })
 *     .on('spam', (event, c) => console.log(event.msg.feedback.sourceIp, c.req.path)),
 * )
 */
export function createHonoHandler<E extends Env = Env>(
  options: ReceiverOptions<Context<E>>,
): HonoHandler<E> {
  const receiver = createReceiver<Context<E>>(options)
  const handler = (async (c) => {
    let request: WebhookRequest<Context<E>>
    const incoming = nodeIncoming(c)
    if (incoming) {
      const raw = (incoming as { rawBody?: unknown }).rawBody
      const body: RequestBody =
        raw instanceof Uint8Array ? raw : nodeBody(incoming, undefined, HINT)
      request = {
        method: c.req.method,
        url: c.req.url,
        headers: headerReader(incoming),
        body,
        context: c,
      }
    } else {
      request = fromWebRequest(c.req.raw, c)
      // An earlier middleware read the body through c.req: Hono keeps a copy, use it.
      if (c.req.raw.bodyUsed) {
        request.body = async (limit: number) => {
          const bytes = new Uint8Array(await c.req.arrayBuffer())
          if (bytes.length > limit) throw tooLarge(limit)
          return bytes
        }
      }
    }
    const response = await receiver.handle(request)
    // A body refused before it was read is closed gracefully: drained, on any runtime.
    if (incoming) lingerIfUnread(incoming)
    else drainUnread(c.req.raw)
    return toWebResponse(response)
  }) as HonoHandler<E>
  return attachOn<HonoHandler<E>>(handler, receiver)
}
