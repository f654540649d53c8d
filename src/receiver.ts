import {
  type Deliver,
  type DeliveryConfig,
  type DeliveryOptions,
  deliverer,
  resolveDeliveryOptions,
} from './delivery/dispatch.js'
import { type HandlerMap, HandlerRegistry, type On } from './delivery/handlers.js'
import {
  configurationError,
  excerpt,
  malformed,
  positiveInteger,
  refuseUnknownOptions,
  tooManyEvents,
  WebhookError,
} from './errors.js'
import { canonicalJson, eventIdentity } from './events/identity.js'
import type { InvalidEvent } from './events/schemas.js'
import {
  accepted,
  errorResponse,
  handshake,
  type WebhookRequest,
  type WebhookResponse,
} from './request/request.js'
import {
  type Observation,
  type Telemetry,
  type TelemetryOptions,
  telemetryFor,
} from './telemetry/telemetry.js'
import { within } from './time.js'
import {
  resolveVerifyOptions,
  type VerifyConfig,
  type VerifyOptions,
  verifiedBatch,
} from './verify/verify-request.js'

const DEFAULT_HOOK_TIMEOUT_MS = 5000

/** Options shared by the core and every adapter: how requests are verified, how batches are delivered, and these. */
export interface ReceiverOptions<C = unknown> extends VerifyOptions<C>, DeliveryOptions {
  /** Handlers by event type; `on()` adds more. */
  on?: HandlerMap<C>
  /**
   * Called with every error before it is answered (switch on `error.code`). Without it,
   * 5xx errors (with their cause) and URL mismatches are written to `console.error` (never
   * any key).
   *
   * For a `HANDLER_FAILED` error, return `'skip'` to give up on that event: the batch goes on,
   * and the event is recorded as skipped in the idempotency store (when there is one).
   *
   * The hook is awaited for at most `hookTimeoutMs`; past that the answer goes out without it.
   */
  onError?: (error: WebhookError, context: C) => unknown
  /** How long the error hook may hold an answer, in ms. Default 5 s. */
  hookTimeoutMs?: number
  /**
   * OpenTelemetry traces and metrics (README, "Observability"). By default they go to the
   * global providers whenever `@opentelemetry/api` is installed and an SDK is registered;
   * nothing is recorded otherwise. `false` turns them off.
   */
  openTelemetry?: TelemetryOptions | false
}

/** For a health endpoint: see the README, "Observability". */
export interface ReceiverHealth {
  /** False while the queue (queue mode) cannot take a batch; always true in process. */
  ready: boolean
  /** When a batch with events last passed its signature check in this process. */
  lastVerifiedAt: Date | null
  /** Queue mode: whether the queue answered, and why not. */
  queue?: { ready: boolean; error?: string }
}

/** Options checked once, with every default filled in (the caller's object is left alone). */
interface Config<C> extends VerifyConfig<C>, DeliveryConfig {
  onError: ReceiverOptions<C>['onError']
  hookTimeoutMs: number
  openTelemetry: ReceiverOptions<C>['openTelemetry']
}

/**
 * Every option name, at each level that takes an object. A name not listed is refused: a
 * misspelt option (`maxBodySize`, `secret`, a `path` the receiver does not route by) would
 * otherwise keep its default without a word. The types make each list complete.
 */
const OPTIONS: Record<keyof ReceiverOptions, true> = {
  keys: true,
  url: true,
  trustProxy: true,
  signatureHeader: true,
  eventsField: true,
  maxBodyBytes: true,
  maxFields: true,
  maxEvents: true,
  bodyTimeoutMs: true,
  handlerTimeoutMs: true,
  idempotency: true,
  namespace: true,
  identity: true,
  strict: true,
  queue: true,
  on: true,
  onError: true,
  hookTimeoutMs: true,
  openTelemetry: true,
}
const NESTED_OPTIONS = {
  idempotency: {
    store: true,
    ttlMs: true,
    leaseMs: true,
    renewEveryMs: true,
    storeTimeoutMs: true,
  } satisfies Record<keyof NonNullable<ReceiverOptions['idempotency']>, true>,
  queue: { sink: true, timeoutMs: true } satisfies Record<
    keyof NonNullable<ReceiverOptions['queue']>,
    true
  >,
  openTelemetry: { api: true, tracerProvider: true, meterProvider: true } satisfies Record<
    keyof TelemetryOptions,
    true
  >,
}

/** What other webhook libraries call an option, or where it belongs instead. */
const ELSEWHERE: Record<string, string> = {
  secret: ' (SendClean calls it the webhook key: `keys`)',
  secrets: ' (SendClean calls it the webhook key: `keys`)',
  path: ': mount the receiver on its path with your router (only the Koa, node and Fastify adapters take `path`)',
}

/** Refuse option names the receiver does not know, at the top level and inside its objects. */
function refuseUnknownReceiverOptions(options: ReceiverOptions<unknown>): void {
  if (typeof options !== 'object' || options === null) return // resolveVerifyOptions says so
  refuseUnknownOptions(options, OPTIONS, { hints: ELSEWHERE })
  for (const [name, names] of Object.entries(NESTED_OPTIONS)) {
    const value = options[name as keyof typeof NESTED_OPTIONS]
    if (typeof value === 'object' && value !== null) {
      refuseUnknownOptions(value, names, { prefix: `${name}.` })
    }
  }
}

/** Check the options and fill in defaults; misconfiguration throws here, not at the first request. */
function resolveOptions<C>(options: ReceiverOptions<C>): Config<C> {
  refuseUnknownReceiverOptions(options as ReceiverOptions<unknown>)
  const verify = resolveVerifyOptions(options)
  const delivery = resolveDeliveryOptions(options, eventIdentity)
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw configurationError('`onError` must be a function')
  }
  const telemetry = options.openTelemetry
  if (
    telemetry !== undefined &&
    telemetry !== false &&
    (typeof telemetry !== 'object' || telemetry === null)
  ) {
    throw configurationError('`openTelemetry` must be an object of options, or false')
  }
  if (
    options.queue !== undefined &&
    (options.on !== undefined || options.idempotency !== undefined)
  ) {
    throw configurationError(
      'in queue mode events are handled by workers: pass the handlers (and rely on job ids for de-duplication) there, not `on` or `idempotency` here',
    )
  }
  return {
    ...verify,
    ...delivery,
    onError: options.onError,
    hookTimeoutMs: positiveInteger(options.hookTimeoutMs, 'hookTimeoutMs', DEFAULT_HOOK_TIMEOUT_MS),
    openTelemetry: telemetry,
  }
}

class HookTimeout extends Error {}

/** Each receiver's error hook, for adapters that find an error after the answer (internal.ts). */
const reporters = new WeakMap<object, (error: WebhookError, context: unknown) => Promise<unknown>>()

/**
 * Tell a receiver's error hook (or its default log) about an error an adapter found after the
 * receiver answered, such as a response a handler had already sent.
 */
export function reportTo(
  receiver: Receiver<never>,
  error: WebhookError,
  context: unknown,
): Promise<unknown> {
  return reporters.get(receiver)?.(error, context) ?? Promise.resolve()
}

/**
 * The framework-free receiver: its options and handlers, built once. Every adapter takes one
 * (or options to build one), so one receiver can serve several mounts; `handle()` answers a
 * request without a framework, and `receive()` runs handlers on events without HTTP.
 *
 * @example
 * const receiver = createReceiver({ keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? [] })
 *   .on('hard_bounce', (event) => suppress(event.msg.bounceDesc))
 * app.use('/webhooks/sendclean', createExpressMiddleware(receiver))
 * const { status, headers, body } = await receiver.handle({ method, url, headers, body })
 */
export class Receiver<C = unknown> {
  /** Add a handler for one event type, several, `unknown` or `*`. Chainable. */
  readonly on: On<C, this>
  readonly #config: Config<C>
  readonly #handlers = new HandlerRegistry<C>()
  /** Errors already passed to the hook (handler failures are reported where they happen). */
  readonly #reported = new WeakSet<WebhookError>()
  /** Where verified batches go: the queue's sink, or the handlers, in this process. */
  readonly #deliver: Deliver<C>
  /** OpenTelemetry (`undefined`: not installed, or turned off). */
  readonly #telemetry: Telemetry | undefined
  /** When a batch with events last passed its signature check (ms since the epoch). */
  #lastVerified: number | undefined

  constructor(options: ReceiverOptions<C>) {
    this.#config = resolveOptions(options)
    this.#handlers.addMap(options.on)
    this.#deliver = deliverer(this.#config, this.#handlers, this.#report)
    this.#telemetry = telemetryFor(this.#config.openTelemetry, () => this.#lastVerified)
    reporters.set(this, this.#report as (error: WebhookError, context: unknown) => Promise<unknown>)
    this.on = ((types: string | readonly string[], handler: unknown) => {
      if (this.#config.queue) {
        throw configurationError(
          'in queue mode events are handled by workers: register handlers there',
        )
      }
      this.#handlers.add(types, handler)
      return this
    }) as On<C, this>
  }

  /** Answer one request. Never throws: every failure becomes a status (README, "What it answers"). */
  handle(request: WebhookRequest<C>): Promise<WebhookResponse> {
    // Not `async`: an unobserved request's answer is #answer's own promise, not one wrapped in
    // another (OpenTelemetry's API without an SDK records nothing, so it observes nothing).
    let observation: Observation | undefined
    try {
      observation = this.#telemetry?.begin(request.adapter)
    } catch (error) {
      return Promise.reject(error)
    }
    return observation ? this.#observed(request, observation) : this.#answer(request, undefined)
  }

  async #observed(request: WebhookRequest<C>, observation: Observation): Promise<WebhookResponse> {
    const response = await observation.run(() => this.#answer(request, observation))
    observation.end(response.status, observation.outcome, observation.events, observation.bytes)
    return response
  }

  /**
   * Run the handlers (or, in queue mode, the sink) on events already verified, without a
   * signature check: for tests, and for events that reached you another way (a replay from your
   * own store). Each event is validated as in a request, claimed in the idempotency store when
   * there is one, and handled once; resolves when every event was handled, skipped or already
   * done, and rejects with the `WebhookError` a request would have been answered with.
   *
   * @example
   * await receiver.receive([sampleEvent('hard_bounce')])
   */
  async receive(events: readonly unknown[], context?: C): Promise<void> {
    if (!Array.isArray(events)) throw malformed('receive() takes an array of events')
    const { maxEvents } = this.#config
    if (events.length > maxEvents) throw tooManyEvents(events.length, maxEvents)
    // A copy: delivery empties the array it is given once the events are validated.
    const { url } = this.#config
    await this.#deliver(
      { events: [...events], url: typeof url === 'string' ? url : undefined },
      context as C,
      undefined,
    )
  }

  /**
   * Readiness and recency, for a health endpoint: `ready` is false while the queue (queue
   * mode) cannot take a batch; `lastVerifiedAt` is when a batch with events last passed its
   * signature check in this process.
   */
  async health(): Promise<ReceiverHealth> {
    const lastVerifiedAt = this.#lastVerified === undefined ? null : new Date(this.#lastVerified)
    const { queue } = this.#config
    if (!queue) return { ready: true, lastVerifiedAt }
    const { sink, timeoutMs } = queue
    try {
      if (sink.ready) {
        await within(sink.ready(), timeoutMs, () => new Error('the queue did not answer in time'))
      }
      return { ready: true, lastVerifiedAt, queue: { ready: true } }
    } catch (error) {
      const reason = (error as Error).message
      return { ready: false, lastVerifiedAt, queue: { ready: false, error: reason } }
    }
  }

  /**
   * The request's answer. One async frame: what was `#handle` is inline, so a request awaits
   * its body, its verification and its delivery here and nowhere else in the receiver.
   */
  async #answer(
    request: WebhookRequest<C>,
    observation: Observation | undefined,
  ): Promise<WebhookResponse> {
    try {
      const method = request.method.toUpperCase()
      if (method === 'GET' || method === 'HEAD') {
        if (observation) observation.outcome = 'HANDSHAKE'
        return handshake(method === 'HEAD')
      }
      if (method !== 'POST') {
        throw new WebhookError(
          'METHOD_NOT_ALLOWED',
          `method ${excerpt(method, 16)} is not allowed; SendClean sends GET, HEAD and POST`,
        )
      }
      const batch = await verifiedBatch(this.#config, request, observation)
      if (!batch) {
        if (observation) observation.outcome = 'HANDSHAKE'
        return handshake()
      }
      this.#lastVerified = Date.now()
      if (observation) observation.events = batch.events.length
      await this.#deliver(batch, request.context as C, observation)
      return accepted()
    } catch (caught) {
      const error =
        caught instanceof WebhookError
          ? caught
          : new WebhookError('INTERNAL_ERROR', 'unexpected failure while handling the request', {
              cause: caught,
            })
      if (observation) observation.outcome = error.code
      if (!this.#reported.has(error)) await this.#report(error, request.context as C)
      return errorResponse(error)
    }
  }

  /**
   * Tell the error hook (or the default log); returns what the hook returned. The hook is
   * awaited for at most `hookTimeoutMs`: it can delay an answer, never hold it.
   */
  readonly #report = async (error: WebhookError, context: C): Promise<unknown> => {
    this.#reported.add(error)
    const { onError, hookTimeoutMs } = this.#config
    if (onError) {
      try {
        return await within(
          Promise.resolve().then(() => onError(error, context)),
          hookTimeoutMs,
          () => new HookTimeout(),
        )
      } catch (failure) {
        if (failure instanceof HookTimeout) {
          console.error(
            `sendclean-webhooks: onError did not settle within ${hookTimeoutMs} ms (hookTimeoutMs); answered without it (${error.code})`,
          )
        }
        // An error hook that fails must not change the answer SendClean gets.
        return undefined
      }
    }
    logByDefault(error, (message, detail) => {
      if (detail === undefined) console.error(message)
      else console.error(message, detail.event ?? detail.cause)
    })
    return undefined
  }
}

/**
 * What the default log writes, to `write`: an invalid event with its raw content (acknowledged
 * but not handled by its type's handlers, so nothing is lost silently), 5xx errors with their
 * cause (your handler's error, a resolver's: it stays in your logs, SendClean never sees it),
 * and URL mismatches. Nothing else, and never a key. Adapters with a logger of their own (Fastify's
 * `request.log`) write the same through it.
 */
export function logByDefault(
  error: WebhookError,
  write: (message: string, detail?: { cause?: unknown; event?: string }) => void,
): void {
  if (error.code === 'INVALID_EVENT') {
    write(error.message, { event: canonicalJson((error.event as InvalidEvent).raw) })
  } else if (error.status >= 500 || error.code === 'URL_MISMATCH') {
    write(error.message, error.cause === undefined ? undefined : { cause: error.cause })
  }
}

/** What every adapter accepts: a receiver (shared by several mounts), or options to build one. */
export type ReceiverSource<C> = Receiver<C> | Receiver<unknown> | ReceiverOptions<C>

/** The receiver given, or a new one built from the options given. */
export function receiverFrom<C>(
  source: ReceiverSource<C>,
  /** A second argument the adapter was given (`arguments[1]`): it takes no mount. */
  extra: unknown = undefined,
  /** How that adapter is mounted on a path, for the refusal of a second argument. */
  mountWith = '',
): Receiver<C> {
  // Possible only from JavaScript: `(receiver, { path })`, as the Koa and node adapters take it,
  // would be dropped, and the adapter would answer every path that reaches it. (Not any second
  // argument: `sources.map(createFetchHandler)` passes an index.)
  if (typeof extra === 'object' && extra !== null) {
    throw configurationError(
      `this adapter takes one argument, a receiver or its options, and no mount: ${mountWith}`,
    )
  }
  return source instanceof Receiver ? (source as Receiver<C>) : new Receiver<C>(source)
}

/**
 * For adapters with options of their own (`path`): the receiver given, with `mount`, or one
 * built from options that also carry the adapter's own (`{ ...receiverOptions, path }`).
 */
export function receiverWithPath<C>(
  source: ReceiverSource<C> & { path?: string },
  mount: { path?: string } = {},
): { receiver: Receiver<C>; path: string | undefined } {
  if (source instanceof Receiver) {
    refuseUnknownOptions(mount, { path: true })
    return { receiver: source as Receiver<C>, path: checkPath(mount.path) }
  }
  if (Object.keys(mount).length > 0) {
    throw configurationError(
      'the second argument is the mount of a receiver built once; with options, put `path` in them',
    )
  }
  const { path, ...options } = source as ReceiverOptions<C> & { path?: string }
  return { receiver: new Receiver<C>(options), path: checkPath(path) }
}

/**
 * A mount's `path`, compared with the request's path as it arrives: one that cannot equal any
 * (no leading `/`, a whole URL, a query) would let every delivery fall through to a 404.
 */
function checkPath(path: unknown): string | undefined {
  if (path === undefined) return undefined
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#]/.test(path)) {
    const url = typeof path === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(path)
    throw configurationError(
      url
        ? '`path` is the path of the registered URL (`/webhooks/sendclean`), not the whole URL; give the URL as `url`'
        : '`path` must be the path of the registered URL, starting with `/` and without a query (`/webhooks/sendclean`)',
    )
  }
  return path
}

/**
 * Create a framework-free receiver. See {@link ReceiverOptions}.
 *
 * @example
 * const receiver = createReceiver({ keys: ['old-key', 'new-key'], url: 'https://example.com/hook' })
 */
export function createReceiver<C = unknown>(options: ReceiverOptions<C>): Receiver<C> {
  return new Receiver(options)
}
