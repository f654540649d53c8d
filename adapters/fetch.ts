import type { On, ReceiverHealth, ReceiverSource } from '../src/index.js'
import { attachOn, receiverFrom } from '../src/internal.js'
import { lingerIfUnread, nodeRequestOf } from './shared/node-http.js'
import { handleWebRequest } from './shared/web.js'

/** What handlers get as context from the fetch adapter. */
export interface FetchContext {
  request: Request
  /** The handler's other arguments: Workers' `env` and `ctx`, Bun's `server`, Next.js' `{ params }`. */
  args: readonly unknown[]
}

/** What `createFetchHandler` returns: a `(Request) => Promise<Response>` handler with the receiver's `on` and `health`. */
export type FetchHandler = ((request: Request, ...args: unknown[]) => Promise<Response>) & {
  on: On<FetchContext, FetchHandler>
  health(): Promise<ReceiverHealth>
}

/**
 * A Web-standard `(Request) => Promise<Response>` handler, for Bun, Deno, Cloudflare Workers
 * and Next.js route handlers. Takes a receiver or the options to build one.
 *
 * @example
 * // app/webhooks/sendclean/route.ts (Next.js)
 * import { createFetchHandler } from 'sendclean-webhooks/fetch'
 *
 * const handler = createFetchHandler({ keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? [] })
 *   .on('delivered', (event) => console.log(event._id))
 * export { handler as GET, handler as HEAD, handler as POST }
 */
export function createFetchHandler(receiverOrOptions: ReceiverSource<FetchContext>): FetchHandler {
  // biome-ignore lint/complexity/noArguments: a second argument is possible only from JavaScript
  const extra: unknown = arguments[1]
  const receiver = receiverFrom(receiverOrOptions, extra, 'serve it on its path with your router')
  const handler = (async (request: Request, ...args: unknown[]) => {
    const response = await handleWebRequest(receiver, request, { request, args }, 'fetch')
    // Served by @hono/node-server: a body refused before it was read is closed gracefully.
    lingerIfUnread(nodeRequestOf(args[0]))
    return response
  }) as FetchHandler
  return attachOn<FetchHandler>(handler, receiver)
}
