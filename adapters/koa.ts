import type { Context, Next } from 'koa'
import type { On, Receiver, ReceiverHealth, ReceiverOptions } from '../src/index.js'
import { attachOn, receiverWithPath, reportTo } from '../src/internal.js'
import {
  closeIfUnread,
  nodeBody,
  nodeRequest,
  requestUrl,
  responseSent,
} from './shared/node-http.js'

/** Where the Koa middleware answers. */
export interface KoaMount {
  /** Only answer this path; other requests go to the next middleware. Leave out under @koa/router. */
  path?: string
}

export interface KoaOptions extends ReceiverOptions<Context>, KoaMount {}

/** What `createKoaMiddleware` returns: Koa middleware with the receiver's `on` and `health`. */
export type KoaMiddleware = ((ctx: Context, next: Next) => Promise<void>) & {
  on: On<Context, KoaMiddleware>
  health(): Promise<ReceiverHealth>
}

const HINT =
  'mount the receiver before the body parser, or use @koa/bodyparser, which keeps ctx.request.rawBody'

function body(ctx: Context) {
  const request = ctx.request as { rawBody?: unknown; body?: unknown }
  if (typeof request.rawBody === 'string') return request.rawBody
  return nodeBody(ctx.req, request.body, HINT)
}

/**
 * Koa 3 middleware; handlers get Koa's `ctx`.
 *
 * @example
 * import Koa from 'koa'
 * import { createKoaMiddleware } from 'sendclean-webhooks/koa'
 *
 * const app = new Koa()
 * app.use(
 *   createKoaMiddleware({ path: '/webhooks/sendclean', keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? [] })
 *     .on('click', (event, ctx) => ctx.state.clicks.push(event.msg.clicks[0]?.clickUrl)),
 * )
 */
export function createKoaMiddleware(options: KoaOptions): KoaMiddleware
/** The same, for a receiver built once (shared with other mounts, tested apart). */
export function createKoaMiddleware(
  receiver: Receiver<Context> | Receiver<unknown>,
  mount?: KoaMount,
): KoaMiddleware
export function createKoaMiddleware(
  source: KoaOptions | Receiver<Context> | Receiver<unknown>,
  mount: KoaMount = {},
): KoaMiddleware {
  const { receiver, path } = receiverWithPath<Context>(source, mount)
  const middleware = (async (ctx, next) => {
    if (path !== undefined && ctx.path !== path) return next()
    const response = await receiver.handle(
      nodeRequest('koa', ctx.req, body(ctx), ctx, requestUrl(ctx.req, ctx.originalUrl)),
    )
    if (ctx.headerSent || !ctx.writable) {
      await reportTo(receiver as never, responseSent(response.status), ctx)
      return
    }
    // Body before status: Koa turns a null body (HEAD) into 204 unless the status comes after.
    ctx.body = response.body === '' ? null : response.body
    ctx.status = response.status
    ctx.set({ ...response.headers, ...closeIfUnread(ctx.req) })
  }) as KoaMiddleware
  return attachOn<KoaMiddleware>(middleware, receiver)
}
