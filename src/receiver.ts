import { type Deliver, deliverer } from './dispatch.js'
import { configurationError, WebhookError } from './errors.js'
import { canonicalJson } from './event-identity.js'
import type { InvalidEvent } from './events.js'
import { HandlerRegistry, type On } from './handlers.js'
import { type Config, resolveOptions } from './options.js'
import { accepted, errorResponse, handshake } from './responses.js'
import { type Observation, type Telemetry, telemetryFor } from './telemetry.js'
import type { ReceiverHealth, ReceiverOptions, WebhookRequest, WebhookResponse } from './types.js'
import { verifiedBatch } from './verified-batch.js'
import { within } from './within.js'

class HookTimeout extends Error {}

/**
 * The framework-free receiver: verifies, answers the handshake, parses and dispatches.
 * Adapters wrap `handle()`; use it directly for a framework without an adapter.
 *
 * @example
 * const receiver = createReceiver({ keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? [] })
 *   .on('hard_bounce', (event) => suppress(event.msg.bounceDesc))
 * const { status, headers, body } = await receiver.handle({ method, url, headers, body, context })
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
          `method ${method} is not allowed; SendClean sends GET, HEAD and POST`,
        )
      }
      const raw = await verifiedBatch(this.#config, request, observation)
      if (!raw) {
        if (observation) observation.outcome = 'HANDSHAKE'
        return handshake()
      }
      this.#lastVerified = Date.now()
      if (observation) observation.events = raw.length
      await this.#deliver(raw, request.context, observation)
      return accepted()
    } catch (caught) {
      const error =
        caught instanceof WebhookError
          ? caught
          : new WebhookError('INTERNAL_ERROR', 'unexpected failure while handling the request', {
              cause: caught,
            })
      if (observation) observation.outcome = error.code
      if (!this.#reported.has(error)) await this.#report(error, request.context)
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
    if (error.code === 'INVALID_EVENT') {
      // Acknowledged but not handled by its type's handlers: the raw event goes to the log, so
      // nothing is lost silently.
      console.error(error.message, canonicalJson((error.event as InvalidEvent).raw))
      return undefined
    }
    if (error.status >= 500 || error.code === 'URL_MISMATCH') {
      // The cause (your handler's error, a resolver's) stays in your logs; SendClean never sees it.
      if (error.cause === undefined) console.error(error.message)
      else console.error(error.message, error.cause)
    }
    return undefined
  }
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
