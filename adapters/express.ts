import type { NextFunction, Request, Response } from 'express'
import type { On, ReceiverHealth, ReceiverSource } from '../src/index.js'
import { attachOn, receiverFrom, reportTo } from '../src/internal.js'
import {
  nodeBody,
  nodeRequest,
  RequestAndResponse,
  requestUrl,
  responseSent,
  writeNodeResponse,
} from './shared/node-http.js'

/** What handlers get as context from the Express adapter. */
export interface ExpressContext {
  req: Request
  res: Response
}

type Middleware = (req: Request, res: Response, next: NextFunction) => Promise<void>
/** What `createExpressMiddleware` returns: Express middleware with the receiver's `on` and `health`. */
export type ExpressMiddleware = Middleware & {
  on: On<ExpressContext, ExpressMiddleware>
  health(): Promise<ReceiverHealth>
}

const HINT =
  'mount the receiver before express.json(), or keep the raw body: express.json({ verify: (req, _res, buf) => { Object.assign(req, { rawBody: buf }) } })'

const NESTED_HINT =
  'parse forms with the extended option off (express.urlencoded({ extended: false }))'

function body(req: Request) {
  const raw = (req as { rawBody?: unknown }).rawBody
  if (raw instanceof Uint8Array || typeof raw === 'string') return raw
  // express.raw() / express.text() leave the raw body itself.
  if (typeof req.body === 'string' || req.body instanceof Uint8Array) return req.body
  return nodeBody(req, req.body, HINT, NESTED_HINT)
}

/**
 * Express 5 (and 4) middleware for one webhook endpoint. Mount it on the path registered
 * with SendClean; it answers everything that reaches it. Takes a receiver (shared with other
 * mounts, tested apart) or the options to build one.
 *
 * Works before any body parser, after `express.urlencoded()` (the form signature covers the
 * decoded fields), and after `express.json()` when `verify` keeps `req.rawBody`.
 *
 * @example
 * import express from 'express'
 * import { createExpressMiddleware } from 'sendclean-webhooks/express'
 *
 * const app = express()
 * app.use(
 *   '/webhooks/sendclean',
 *   createExpressMiddleware({ keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? [] })
 *     .on('hard_bounce', (event, { req }) => req.app.locals.suppress(event._id)),
 * )
 */
export function createExpressMiddleware(
  receiverOrOptions: ReceiverSource<ExpressContext>,
): ExpressMiddleware {
  // biome-ignore lint/complexity/noArguments: a second argument is possible only from JavaScript
  const extra: unknown = arguments[1]
  const receiver = receiverFrom(
    receiverOrOptions,
    extra,
    'mount it on its path with app.use(path, …)',
  )
  const middleware = (async (req, res, next) => {
    try {
      const url = requestUrl(req, req.originalUrl)
      const context = new RequestAndResponse(req, res)
      const response = await receiver.handle(nodeRequest('express', req, body(req), context, url))
      if (!writeNodeResponse(req, res, response)) {
        await reportTo(receiver as never, responseSent(response.status), context)
      }
    } catch (error) {
      next(error)
    }
  }) as ExpressMiddleware
  return attachOn<ExpressMiddleware>(middleware, receiver)
}
