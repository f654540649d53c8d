import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { On, Receiver, ReceiverHealth, ReceiverOptions, ReceiverSource } from '../src/index.js'
import { attachOn, logByDefault, receiverFrom, reportTo, WebhookError } from '../src/internal.js'
import {
  closeIfUnread,
  nodeBody,
  nodeRequest,
  requestUrl,
  responseSent,
} from './shared/node-http.js'

/** What handlers get as context from the Fastify adapter. */
export class FastifyContext {
  constructor(
    readonly request: FastifyRequest,
    readonly reply: FastifyReply,
  ) {}
}

/** What `createFastifyHandler` returns: a Fastify route handler with the receiver's `on` and `health`. */
export type FastifyHandler = ((
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined>) & {
  on: On<FastifyContext, FastifyHandler>
  health(): Promise<ReceiverHealth>
}

/** Where the plugin answers: the path registered with SendClean (under the plugin's prefix). */
export interface FastifyMount {
  path: string
}

/**
 * The plugin's options: the receiver's options and `path`, or a receiver built once (shared,
 * tested apart) and `path`.
 */
export type FastifyPluginOptions =
  | (ReceiverOptions<FastifyContext> & FastifyMount)
  | ({ receiver: Receiver<FastifyContext> | Receiver<unknown> } & FastifyMount)

const HINT =
  'register the sendcleanWebhooks plugin instead of your own route, or keep the raw body (request.rawBody)'

/**
 * Without an `onError` of yours, errors go to Fastify's logger (`request.log`), as the default
 * log writes them (`logByDefault`): invalid events with their raw content, 5xx errors with their
 * cause, URL mismatches; never a key.
 */
function logTo(error: WebhookError, { request }: FastifyContext): void {
  logByDefault(error, (message, detail) =>
    request.log.error({ code: error.code, event: detail?.event, err: detail?.cause }, message),
  )
}

/** The options Fastify's `register` itself takes, which it also hands to the plugin. */
type RegisterOptions = { prefix?: unknown; logLevel?: unknown; logSerializers?: unknown }

function receiverOf(options: FastifyPluginOptions): Receiver<FastifyContext> {
  const {
    path: _path,
    prefix: _prefix,
    logLevel: _logLevel,
    logSerializers: _logSerializers,
    ...rest
  } = options as FastifyPluginOptions & RegisterOptions
  if (!('receiver' in rest)) return receiverFrom<FastifyContext>({ onError: logTo, ...rest })
  const { receiver, ...others } = rest
  const names = Object.keys(others)
  if (names.length > 0) {
    throw new WebhookError(
      'CONFIGURATION',
      `pass either \`receiver\` or the receiver's options, not both (here also ${names.map((name) => `\`${name}\``).join(', ')})`,
    )
  }
  return receiverFrom<FastifyContext>(receiver)
}

/** The raw body in hand (a raw-body plugin's `request.rawBody`), or the stream nobody has read. */
function body(request: FastifyRequest) {
  const raw = (request as { rawBody?: unknown }).rawBody
  if (raw instanceof Uint8Array || typeof raw === 'string') return raw
  return nodeBody(request.raw, request.body, HINT)
}

/**
 * A route handler for one webhook endpoint, for a route of your own (GET, HEAD and POST on the
 * registered path). The body must reach it unread, or as a raw-body plugin keeps it, or as
 * `@fastify/formbody` parsed it (the form signature covers the decoded fields). The
 * {@link sendcleanWebhooks} plugin sets all of this up.
 */
export function createFastifyHandler(source: ReceiverSource<FastifyContext>): FastifyHandler {
  // biome-ignore lint/complexity/noArguments: a second argument is possible only from JavaScript
  const extra: unknown = arguments[1]
  const receiver = receiverFrom<FastifyContext>(
    source,
    extra,
    "route it with app.route({ method: ['GET', 'HEAD', 'POST'], url: path, … })",
  )
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const context = new FastifyContext(request, reply)
    const url = requestUrl(request.raw)
    const response = await receiver.handle(
      nodeRequest('fastify', request.raw, body(request), context, url),
    )
    if (reply.sent) {
      await reportTo(receiver as never, responseSent(response.status), context)
      return undefined
    }
    return reply
      .code(response.status)
      .headers({ ...response.headers, ...closeIfUnread(request.raw) })
      .send(response.body)
  }
  return attachOn<FastifyHandler>(handler, receiver)
}

/**
 * A Fastify 5 plugin for one webhook endpoint: `GET`, `HEAD` and `POST` on `path` (405 to other
 * methods). Inside its
 * own encapsulation context it replaces every content-type parser with one that leaves the body
 * unread, so the receiver reads the exact bytes within its own limits, whatever parsers (JSON,
 * `@fastify/formbody`) the rest of the app registers. Given options without an `onError`, errors
 * go to `request.log` (a receiver you built keeps its own `onError`, or the default log).
 * Handlers get `{ request, reply }`.
 *
 * @example
 * import Fastify from 'fastify'
 * import { sendcleanWebhooks } from 'sendclean-webhooks/fastify'
 *
 * const app = Fastify({ logger: true })
 * await app.register(sendcleanWebhooks, {
 *   path: '/webhooks/sendclean',
 *   keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? '',
 *   on: { hard_bounce: (event, { request }) => request.log.info({ id: event._id }, 'bounced') },
 * })
 */
export async function sendcleanWebhooks(
  fastify: FastifyInstance,
  options: FastifyPluginOptions,
): Promise<void> {
  if (typeof options?.path !== 'string' || !options.path.startsWith('/')) {
    throw new TypeError('sendcleanWebhooks: `path` must be the path registered with SendClean')
  }
  const handler = createFastifyHandler(receiverOf(options))
  // This plugin's context only (it is not wrapped with fastify-plugin): the app's parsers stay
  // as they are everywhere else.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
  // Every method: the receiver answers GET, HEAD and POST, and 405 with `Allow` to the others.
  fastify.all(options.path, handler)
}
