import type { Context, Env } from 'hono'
import {
  attachOn,
  createReceiver,
  fromWebRequest,
  type On,
  type ReceiverOptions,
  tooLarge,
  toWebResponse,
} from '../src/index.js'

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
    const request = fromWebRequest(c.req.raw, c)
    // An earlier middleware read the body through c.req: Hono keeps a copy, use it.
    if (c.req.raw.bodyUsed) {
      request.body = async (limit: number) => {
        const bytes = new Uint8Array(await c.req.arrayBuffer())
        if (bytes.length > limit) throw tooLarge(limit)
        return bytes
      }
    }
    return toWebResponse(await receiver.handle(request))
  }) as HonoHandler<E>
  return attachOn<HonoHandler<E>>(handler, receiver)
}
