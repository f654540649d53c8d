import type { Context, Env } from 'hono'
import type { On, ReceiverHealth, ReceiverSource } from '../src/index.js'
import { attachOn, receiverFrom } from '../src/internal.js'
import { honoNodeRequest, lingerIfUnread, nodeRequestOf } from './shared/node-http.js'
import { drainUnread, fromWebRequest, toWebResponse } from './shared/web.js'

const HINT =
  'do not read the body before the receiver, or read it through c.req (Hono keeps a copy)'

/** What `createHonoHandler` returns: a Hono handler with the receiver's `on` and `health`. */
export type HonoHandler<E extends Env> = ((c: Context<E>) => Promise<Response>) & {
  on: On<Context<E>, HonoHandler<E>>
  health(): Promise<ReceiverHealth>
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
  receiverOrOptions: ReceiverSource<Context<E>>,
): HonoHandler<E> {
  // biome-ignore lint/complexity/noArguments: a second argument is possible only from JavaScript
  const extra: unknown = arguments[1]
  const receiver = receiverFrom(
    receiverOrOptions,
    extra,
    "route it with app.on(['GET', 'HEAD', 'POST'], path, …)",
  )
  const handler = (async (c) => {
    const incoming = nodeRequestOf(c.env)
    const node = honoNodeRequest(c, incoming, HINT)
    if (node) {
      const response = await receiver.handle(node)
      lingerIfUnread(incoming) // a body refused unread is closed gracefully
      return toWebResponse(response)
    }
    const raw = c.req.raw
    // Read earlier through c.req: Hono keeps a copy (the core still applies its size limit).
    const body = raw.bodyUsed ? await c.req.arrayBuffer() : raw.body
    const response = await receiver.handle(fromWebRequest(raw, c, 'hono', body))
    drainUnread(raw)
    return toWebResponse(response)
  }) as HonoHandler<E>
  return attachOn<HonoHandler<E>>(handler, receiver)
}
