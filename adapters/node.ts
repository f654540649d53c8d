import type { IncomingMessage, ServerResponse } from 'node:http'
import type { On, Receiver, ReceiverHealth, ReceiverOptions } from '../src/index.js'
import { attachOn, receiverWithPath, reportTo } from '../src/internal.js'
import {
  nodeBody,
  nodeRequest,
  RequestAndResponse,
  responseSent,
  writeNodeResponse,
} from './shared/node-http.js'

/** What handlers get as context from the Node adapter. */
export interface NodeContext {
  req: IncomingMessage
  res: ServerResponse
}

/** Where the `node:http` handler answers. */
export interface NodeMount {
  /** Only answer this path (query ignored); others go to `next()`, or get 404 without one. */
  path?: string
}

export interface NodeHandlerOptions extends ReceiverOptions<NodeContext>, NodeMount {}

/** What `createNodeHandler` returns: a `node:http` request listener (or Connect middleware) with the receiver's `on` and `health`. */
export type NodeHandler = ((
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>) & {
  on: On<NodeContext, NodeHandler>
  health(): Promise<ReceiverHealth>
}

/**
 * A plain `node:http` handler (also usable as Connect/Express middleware).
 *
 * @example
 * import { createServer } from 'node:http'
 * import { createNodeHandler } from 'sendclean-webhooks/node'
 *
 * const handler = createNodeHandler({ keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? [], path: '/webhooks/sendclean' })
 *   .on('open', (event) => console.log(event.msg.opens[0]?.openIp))
 * createServer(handler).listen(3000)
 */
export function createNodeHandler(options: NodeHandlerOptions): NodeHandler
/** The same, for a receiver built once (shared with other mounts, tested apart). */
export function createNodeHandler(
  receiver: Receiver<NodeContext> | Receiver<unknown>,
  mount?: NodeMount,
): NodeHandler
export function createNodeHandler(
  source: NodeHandlerOptions | Receiver<NodeContext> | Receiver<unknown>,
  mount: NodeMount = {},
): NodeHandler {
  const { receiver, path } = receiverWithPath<NodeContext>(source, mount)
  const handler = (async (req, res, next) => {
    if (path !== undefined && (req.url ?? '/').split('?')[0] !== path) {
      if (next) return next()
      writeNodeResponse(req, res, {
        status: 404,
        headers: { 'content-type': 'text/plain' },
        body: 'Not Found',
      })
      return
    }
    const body = nodeBody(req, (req as { body?: unknown }).body)
    const context = new RequestAndResponse(req, res)
    const response = await receiver.handle(nodeRequest('node', req, body, context))
    if (!writeNodeResponse(req, res, response)) {
      await reportTo(receiver as never, responseSent(response.status), context)
    }
  }) as NodeHandler
  return attachOn<NodeHandler>(handler, receiver)
}
