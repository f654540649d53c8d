/**
 * Delivery: a verified batch's events, validated, then either handed to the queue's sink (queue
 * mode) or run through their handlers in this process, in batch order, each event claimed in the
 * idempotency store first, the whole bounded by `handlerTimeoutMs`.
 */
import { sha256Base64url } from '#platform'
import { DEFAULT_TIMEOUT_MS } from '../constants.js'
import { configurationError, handlerError, positiveInteger, WebhookError } from '../errors.js'
import { canonicalJson } from '../events/identity.js'
import { invalidEventError, parseBatch, type WebhookEvent } from '../events/schemas.js'
import {
  type Observation,
  type OtelSpanContext,
  settledOutcome,
  step,
} from '../telemetry/telemetry.js'
import { sleep, within } from '../time.js'
import { type HandlerRegistry, isThenable } from './handlers.js'
import type { ClaimResult, EventOutcome, IdempotencyStore } from './idempotency.js'

const DEFAULT_IDEMPOTENCY_TTL_MS = 72 * 60 * 60 * 1000
const DEFAULT_LEASE_MS = 30_000
const DEFAULT_STORE_TIMEOUT_MS = 5000
const DEFAULT_QUEUE_TIMEOUT_MS = 5000

/** One event on its way to a queue: its identity (for de-duplication), parsed and as sent. */
export interface QueuedEvent {
  /** The webhook's namespace and the event's identity: equal for retries, unique otherwise. */
  id: string
  event: WebhookEvent
  raw: unknown
  /** The event's JSON text exactly as it arrived (a canonical JSON text for `receive()`). */
  text: string
  /** The receiving span, when traced: a worker's span continues this trace. */
  trace?: OtelSpanContext
}

/** Where queue mode puts batches. Resolve only once every event is durably stored. */
export interface EventSink {
  enqueue(events: readonly QueuedEvent[]): Promise<void>
  /** Resolves when the queue can take a batch (Redis reachable), rejects otherwise; for health(). */
  ready?(): Promise<void>
}

/** The options that say how a verified batch is delivered: part of the receiver's options. */
export interface DeliveryOptions {
  /**
   * A batch's handlers must finish within this many ms, else 503 (SendClean retries) and the
   * rest of the batch is not started. Default 30 s. A handler still running is not cancelled.
   */
  handlerTimeoutMs?: number
  /**
   * Run each event's handlers once across retries, replays, concurrent duplicates and
   * instances (README, "Delivery contract"): `store` claims an event before its handlers run.
   * - `leaseMs` (default 30 s): how long a claim outlives a process that died holding it. A
   *   live process renews its claims every `renewEveryMs` (default a third of `leaseMs`) for
   *   as long as their handlers run, however long that is.
   * - `ttlMs` (default 72 h): how long a done event is remembered.
   * - `storeTimeoutMs` (default 5 s): a store call that takes longer fails the batch with 503
   *   `STORE_FAILED`.
   */
  idempotency?: {
    store: IdempotencyStore
    ttlMs?: number
    leaseMs?: number
    renewEveryMs?: number
    storeTimeoutMs?: number
  }
  /**
   * What keeps two webhooks that share an idempotency store or a queue apart. Default: the URL
   * the request was signed for (the webhook as registered with SendClean), so the instances of
   * one webhook share their records, and two webhooks (SendClean sends an event to each that
   * subscribes to it) never absorb each other's deliveries. `receive()` has no request: it
   * uses this, else the `url` option when it is a string.
   */
  namespace?: string
  /**
   * The identity of an event for de-duplication and queue job ids, given the event and its
   * JSON text as it arrived. Default `eventIdentity`: the type and a SHA-256 of that
   * text. It must be equal for retries of one event and differ between distinct events.
   */
  identity?: (event: WebhookEvent, text: string) => string | Promise<string>
  /**
   * Refuse a whole batch (400) when any event fails its schema, as before `invalid` events
   * existed. Default false: such an event becomes an `invalid` event and the batch goes on.
   */
  strict?: boolean
  /**
   * Queue mode: instead of running handlers, hand each verified, validated batch to `sink`
   * (see `sendclean-webhooks/queue` for BullMQ) and answer 200 once it has taken every event;
   * past `timeoutMs` (default 5 s) or on failure, 503. Handlers then run in workers, so none
   * may be registered here.
   */
  queue?: { sink: EventSink; timeoutMs?: number }
}

/** The delivery options, checked once, with every default filled in. */
export interface DeliveryConfig {
  handlerTimeoutMs: number
  store: IdempotencyStore | undefined
  ttlMs: number
  leaseMs: number
  renewEveryMs: number
  storeTimeoutMs: number
  namespace: string | undefined
  identity: (event: WebhookEvent, text: string) => string | Promise<string>
  strict: boolean
  queue: { sink: EventSink; timeoutMs: number } | undefined
}

/**
 * Check the delivery options and fill in their defaults (misconfiguration throws here);
 * `defaultIdentity` is `eventIdentity`, passed in by the receiver.
 */
export function resolveDeliveryOptions(
  options: DeliveryOptions,
  defaultIdentity: DeliveryConfig['identity'],
): DeliveryConfig {
  const { idempotency, queue } = options
  if (idempotency !== undefined) {
    const store = idempotency?.store
    const methods = ['claim', 'renew', 'progress', 'complete', 'release'] as const
    if (methods.some((name) => typeof store?.[name] !== 'function')) {
      throw configurationError(
        '`idempotency.store` must have claim(), renew(), progress(), complete() and release() (see IdempotencyStore)',
      )
    }
  }
  // An empty namespace (a variable left unset) would put every webhook in one.
  if (
    options.namespace !== undefined &&
    (typeof options.namespace !== 'string' || !options.namespace)
  ) {
    throw configurationError('`namespace` must be a non-empty string')
  }
  // `strict: 'true'` (from an environment variable) would silently not be strict.
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw configurationError('`strict` must be true or false')
  }
  if (options.identity !== undefined && typeof options.identity !== 'function') {
    throw configurationError('`identity` must be a function of the event')
  }
  if (queue !== undefined && typeof queue?.sink?.enqueue !== 'function') {
    throw configurationError('`queue.sink` must have an enqueue() method')
  }
  const handlerTimeoutMs = positiveInteger(
    options.handlerTimeoutMs,
    'handlerTimeoutMs',
    DEFAULT_TIMEOUT_MS,
  )
  const leaseMs = positiveInteger(idempotency?.leaseMs, 'idempotency.leaseMs', DEFAULT_LEASE_MS)
  const renewEveryMs = positiveInteger(
    idempotency?.renewEveryMs,
    'idempotency.renewEveryMs',
    Math.max(1, Math.floor(leaseMs / 3)),
  )
  if (renewEveryMs >= leaseMs) {
    throw configurationError(
      `\`idempotency.renewEveryMs\` (${renewEveryMs}) must be shorter than \`idempotency.leaseMs\` (${leaseMs}), or a live handler's claim would expire between renewals`,
    )
  }
  return {
    handlerTimeoutMs,
    store: idempotency?.store,
    ttlMs: positiveInteger(idempotency?.ttlMs, 'idempotency.ttlMs', DEFAULT_IDEMPOTENCY_TTL_MS),
    leaseMs,
    renewEveryMs,
    storeTimeoutMs: positiveInteger(
      idempotency?.storeTimeoutMs,
      'idempotency.storeTimeoutMs',
      DEFAULT_STORE_TIMEOUT_MS,
    ),
    namespace: options.namespace,
    identity: options.identity ?? defaultIdentity,
    strict: options.strict === true,
    queue: queue && {
      sink: queue.sink,
      timeoutMs: positiveInteger(queue.timeoutMs, 'queue.timeoutMs', DEFAULT_QUEUE_TIMEOUT_MS),
    },
  }
}

/** Tells the error hook; for a handler failure, `'skip'` means give up on that event. */
export type Report<C> = (error: WebhookError, context: C) => Promise<unknown>

/** A verified batch on its way to delivery. */
export interface IncomingBatch {
  /** The events as parsed; delivery empties this array once they are validated. */
  events: unknown[]
  /** The JSON text of each event as it arrived, when the request had it. */
  texts?: () => readonly string[] | undefined
  /** The URL the request was signed for (the default namespace). */
  url?: string
}

/** What a batch's run is waiting for: told in the 503 when `handlerTimeoutMs` runs out. */
type Waiting = 'handler' | 'store' | 'duplicate'

/** One batch being run: what every step needs, and how far it got. */
interface BatchRun<C> {
  readonly config: DeliveryConfig
  readonly handlers: HandlerRegistry<C>
  readonly context: C
  readonly report: Report<C>
  /** The event running now. */
  index: number
  timedOut: boolean
  waiting: Waiting
  /** The request's telemetry, when it is observed. */
  readonly observation: Observation | undefined
}

function storeFailed(cause: unknown): WebhookError {
  return new WebhookError(
    'STORE_FAILED',
    'the idempotency store failed; the batch was not acknowledged',
    { cause },
  )
}

/** A store call, bounded by `storeTimeoutMs`; any failure is `STORE_FAILED`. */
async function storeCall<T, C>(batch: BatchRun<C>, run: () => T | Promise<T>): Promise<T> {
  const { storeTimeoutMs } = batch.config
  const waiting = batch.waiting
  batch.waiting = 'store'
  try {
    const result = run()
    if (!isThenable(result)) return result
    return await within(
      Promise.resolve(result),
      storeTimeoutMs,
      () => new Error(`the store did not answer within ${storeTimeoutMs} ms (storeTimeoutMs)`),
    )
  } catch (cause) {
    throw storeFailed(cause)
  } finally {
    batch.waiting = waiting
  }
}

let serial = 0
/**
 * Unique per batch attempt (suffixed with the event's index, unique per claim): a claim that
 * expired and was taken over is never written by us again.
 */
function attemptToken(): string {
  serial = (serial + 1) % Number.MAX_SAFE_INTEGER
  const random = globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2)
  return `${random}.${serial}`
}

/** Claim, waiting while a duplicate runs elsewhere; `undefined` when the batch timed out. */
async function claim<C>(
  batch: BatchRun<C>,
  store: IdempotencyStore,
  key: string,
  token: string,
): Promise<Exclude<ClaimResult, 'busy'> | undefined> {
  const { leaseMs } = batch.config
  let result = await storeCall(batch, () => store.claim(key, token, leaseMs))
  for (let delay = 5; result === 'busy'; delay = Math.min(delay * 2, 200)) {
    batch.waiting = 'duplicate'
    await sleep(delay)
    batch.waiting = 'handler'
    if (batch.timedOut) return undefined
    result = await storeCall(batch, () => store.claim(key, token, leaseMs))
  }
  return result
}

function claimLost(event: WebhookEvent, index: number): WebhookError {
  return new WebhookError(
    'CLAIM_LOST',
    `the claim on event ${index} (${event.event}) expired while its handlers ran (the store was unreachable for longer than leaseMs), so another delivery may run it; this batch was not acknowledged`,
    { event, index },
  )
}

/**
 * A held claim: renewed every `renewEveryMs` while the event's handlers run, so that only a
 * process that died loses it. A renewal that finds the claim gone is reported at once.
 */
class Lease<C> {
  lost: WebhookError | undefined
  readonly #timer: ReturnType<typeof setInterval>
  #renewing = false

  constructor(
    readonly batch: BatchRun<C>,
    readonly store: IdempotencyStore,
    readonly key: string,
    readonly token: string,
    readonly event: WebhookEvent,
    readonly index: number,
  ) {
    const { leaseMs, renewEveryMs } = batch.config
    this.#timer = setInterval(() => {
      if (this.#renewing || this.lost) return
      this.#renewing = true
      Promise.resolve()
        .then(() => store.renew(key, token, leaseMs))
        .then(
          (held) => {
            if (!held) this.#lose()
          },
          () => {}, // a failed renewal is tried again; the lease tells when it was too late
        )
        .finally(() => {
          this.#renewing = false
        })
    }, renewEveryMs)
  }

  #lose(): void {
    if (this.lost) return
    this.lost = claimLost(this.event, this.index)
    clearInterval(this.#timer)
    this.batch.report(this.lost, this.batch.context).catch(() => {})
  }

  /** Record that the first `handlersDone` handlers completed; throws if the claim is lost. */
  async progress(handlersDone: number): Promise<void> {
    this.check()
    const { ttlMs } = this.batch.config
    const held = await storeCall(this.batch, () =>
      this.store.progress(this.key, this.token, handlersDone, ttlMs),
    )
    if (!held) this.#lose()
    this.check()
  }

  /** Throws once the claim is known to be lost. */
  check(): void {
    if (this.lost) throw this.lost
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}

/** A handler threw or rejected: report it; `'skip'` gives up on the event, else the batch fails. */
async function handlerFailed<C>(
  batch: BatchRun<C>,
  event: WebhookEvent,
  index: number,
  cause: unknown,
): Promise<EventOutcome> {
  if (batch.timedOut) throw cause
  const error = handlerError(event, index, cause)
  if ((await batch.report(error, batch.context)) !== 'skip') throw error
  return 'skipped'
}

/**
 * Run an event's handlers from the `from`-th on (those before it completed in an earlier
 * attempt), recording each one's completion in the lease when there is one: `handled`, or
 * `skipped` when the error hook gave up on the event.
 */
async function runHandlers<C>(
  batch: BatchRun<C>,
  event: WebhookEvent,
  index: number,
  from: number,
  lease: Lease<C> | undefined,
): Promise<EventOutcome> {
  if (event.event === 'invalid' && from === 0) {
    await batch.report(invalidEventError(event, index), batch.context)
  }
  const chain = batch.handlers.chain(event.event)
  for (let h = from; h < chain.length; h++) {
    try {
      const result = (chain[h] as (typeof chain)[number])(event, batch.context)
      if (isThenable(result)) await result
    } catch (cause) {
      return handlerFailed(batch, event, index, cause)
    }
    if (lease && h + 1 < chain.length) await lease.progress(h + 1)
  }
  return 'handled'
}

/** What an event's run came to; `undefined` when the batch timed out waiting for a duplicate. */
type RunResult = EventOutcome | 'duplicate' | undefined

/** One event, claimed in the store and held while its handlers run. */
async function claimAndRun<C>(
  batch: BatchRun<C>,
  store: IdempotencyStore,
  event: WebhookEvent,
  index: number,
  key: string,
  token: string,
  completions: Promise<void>[],
): Promise<RunResult> {
  const { ttlMs } = batch.config
  const claimed = await claim(batch, store, key, token)
  if (claimed === undefined) return undefined
  if (claimed === 'done') return 'duplicate'
  const lease = new Lease(batch, store, key, token, event, index)
  let outcome: EventOutcome
  try {
    outcome = await runHandlers(batch, event, index, claimed.handlersDone, lease)
    lease.check()
  } catch (error) {
    lease.stop()
    // Give the event back (with the handlers that completed) so a retry can run the rest; if
    // this fails, the lease expires anyway.
    await Promise.resolve()
      .then(() => store.release(key, token))
      .catch(() => {})
    throw error
  }
  lease.stop()
  // Written while the next event runs, also after a timeout: the handler finished late, and
  // its duplicates are waiting for this.
  const completion = storeCall(batch, () => store.complete(key, token, ttlMs, outcome)).then(
    (held) => {
      if (!held) throw claimLost(event, index)
    },
  )
  completion.catch(() => {}) // awaited below; a batch that timed out no longer waits
  completions.push(completion)
  return outcome
}

/** An event's run as a span and data points: the event's type and what became of it. */
async function observed(
  observation: Observation,
  event: WebhookEvent,
  index: number,
  run: () => Promise<RunResult>,
): Promise<void> {
  const watch = observation.eventStart(event, index)
  let result: RunResult
  try {
    result = await observation.within(watch, run)
  } catch (error) {
    observation.eventEnd(watch, 'failed', true)
    throw error
  }
  if (result === undefined) return observation.eventEnd(watch, 'failed', false)
  if (result === 'duplicate') return observation.eventEnd(watch, 'duplicate', false)
  observation.eventEnd(watch, result === 'skipped' ? 'skipped' : settledOutcome(event), true)
}

/** The store keys of a batch's events: the namespace's hash, then each event's identity. */
async function storeKeys(
  config: DeliveryConfig,
  events: readonly WebhookEvent[],
  texts: readonly string[],
  url: string | undefined,
): Promise<string[]> {
  const namespace = await sha256Base64url(config.namespace ?? url ?? '')
  const prefix = `${namespace.slice(0, 22)}:`
  const keys: string[] = new Array(events.length)
  for (let i = 0; i < events.length; i++) {
    keys[i] = prefix + (await config.identity(events[i] as WebhookEvent, texts[i] as string))
  }
  return keys
}

/** Run the batch's events in order; resolves once every done marker is stored. */
async function run<C>(
  batch: BatchRun<C>,
  events: WebhookEvent[],
  keys: readonly string[] | undefined,
): Promise<void> {
  const { config, observation } = batch
  const store = config.store
  // Done markers are written while the next event runs (one round trip per event instead of
  // two); the batch is acknowledged only once every one of them is stored.
  const completions: Promise<void>[] = []
  const attempt = store ? attemptToken() : ''
  for (let i = 0; i < events.length; i++) {
    // After a timeout the batch has been answered 503: start nothing more.
    if (batch.timedOut) break
    batch.index = i
    const event = events[i] as WebhookEvent
    if (!observation && !store && event.event !== 'invalid') {
      // Nothing to claim, report or observe: the handlers run here, and only a promise a
      // handler returns is awaited, so synchronous handlers cost no promise per event.
      try {
        for (const handler of batch.handlers.chain(event.event)) {
          const result = handler(event, batch.context)
          if (isThenable(result)) await result
        }
      } catch (cause) {
        await handlerFailed(batch, event, i, cause)
      }
      continue
    }
    const runOne = (): Promise<RunResult> =>
      store && keys
        ? claimAndRun(batch, store, event, i, keys[i] as string, `${attempt}.${i}`, completions)
        : runHandlers(batch, event, i, 0, undefined)
    if (observation) await observed(observation, event, i, runOne)
    else await runOne()
  }
  if (completions.length > 0) await Promise.all(completions)
}

/**
 * The JSON text of each event as it arrived; for events given as values (`receive()`), or a
 * body whose texts cannot be found, their canonical JSON.
 */
function textsOf(batch: IncomingBatch): readonly string[] {
  const texts = batch.texts?.()
  if (texts && texts.length === batch.events.length) return texts
  return batch.events.map((event) => canonicalJson(event))
}

/**
 * In-process delivery: run each event's handlers in batch order, each event claimed in the
 * idempotency store first, the whole bounded by `handlerTimeoutMs`. Resolves only when every
 * event was handled, skipped on purpose, or already done; otherwise rejects.
 */
export function inProcess<C>(
  config: DeliveryConfig,
  handlers: HandlerRegistry<C>,
  report: Report<C>,
) {
  return (
    events: WebhookEvent[],
    keys: readonly string[] | undefined,
    context: C,
    observation: Observation | undefined,
  ): Promise<void> => {
    const batch: BatchRun<C> = {
      config,
      handlers,
      context,
      report,
      index: 0,
      timedOut: false,
      waiting: 'handler',
      observation,
    }
    return within(run(batch, events, keys), config.handlerTimeoutMs, () => {
      batch.timedOut = true
      const i = batch.index
      if (batch.waiting === 'store') {
        return storeFailed(
          new Error(
            `no answer from the store within handlerTimeoutMs (${config.handlerTimeoutMs} ms)`,
          ),
        )
      }
      const code = batch.waiting === 'duplicate' ? 'EVENT_IN_FLIGHT' : 'HANDLER_TIMEOUT'
      return handlerError(events[i], i, undefined, code)
    })
  }
}

/**
 * Where a verified batch goes: validated, then resolves once every event is handled (in
 * process) or safely taken (queue mode); a rejection means the batch is not acknowledged.
 */
export type Deliver<C> = (
  batch: IncomingBatch,
  context: C,
  observation: Observation | undefined,
) => Promise<void>

/** The receiver's delivery, chosen once: its queue's sink, or its handlers in this process. */
export function deliverer<C>(
  config: DeliveryConfig,
  handlers: HandlerRegistry<C>,
  report: Report<C>,
): Deliver<C> {
  if (config.queue) return queued(config, report)
  const runBatch = inProcess(config, handlers, report)
  if (!config.store) {
    return (batch, context, observation) => {
      const { events: raw } = batch
      // Only identities read the events' texts: dropping them lets the events text go.
      batch.texts = undefined
      const events = step(observation, 'sendclean.validate', () => parseBatch(raw, config.strict))
      // Validation copied every event: emptying the parsed array means a batch in hand does
      // not hold two copies of each while its handlers run.
      raw.length = 0
      return runBatch(events, undefined, context, observation)
    }
  }
  return async (batch, context, observation) => {
    const { events, keys } = await validatedWithKeys(config, batch, observation)
    return runBatch(events, keys, context, observation)
  }
}

/**
 * Validation and the store keys, in a frame of its own: the events' texts (and the events text
 * they are cut from) are not held while the handlers run.
 */
async function validatedWithKeys(
  config: DeliveryConfig,
  batch: IncomingBatch,
  observation: Observation | undefined,
): Promise<{ events: WebhookEvent[]; keys: string[] }> {
  const { events: raw } = batch
  // Identity comes from each event as it arrived, before validation adds anything.
  const texts = textsOf(batch)
  batch.texts = undefined
  const events = step(observation, 'sendclean.validate', () => parseBatch(raw, config.strict))
  raw.length = 0
  return { events, keys: await storeKeys(config, events, texts, batch.url) }
}

/**
 * Queue mode: hand the batch to the sink, bounded by its timeout. Workers get invalid events
 * too; the receiver reports them here, as in-process mode does.
 */
function queued<C>(config: DeliveryConfig, report: Report<C>): Deliver<C> {
  const queue = config.queue
  if (!queue) throw new Error('unreachable: queued() without a queue')
  return async (incoming, context, observation) => {
    const raw = incoming.events
    const texts = textsOf(incoming)
    // Each job carries its event exactly as sent; validation leaves `raw` as it was.
    const events = step(observation, 'sendclean.validate', () => parseBatch(raw, config.strict))
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as WebhookEvent
      if (event.event === 'invalid') await report(invalidEventError(event, i), context)
    }
    const trace = observation?.carrier()
    const keys = await storeKeys(config, events, texts, incoming.url)
    const batch = events.map((event, i) => ({
      id: keys[i] as string,
      event,
      raw: raw[i],
      text: texts[i] as string,
      ...(trace ? { trace } : {}),
    }))
    const enqueue = () =>
      within(
        queue.sink.enqueue(batch),
        queue.timeoutMs,
        () => new Error(`the queue did not take the batch within ${queue.timeoutMs} ms`),
      )
    try {
      await step(observation, 'sendclean.enqueue', enqueue, 'enqueueDuration')
      observation?.countEvents(events, 'enqueued')
    } catch (cause) {
      throw new WebhookError(
        'QUEUE_FAILED',
        'the queue did not take the batch; it was not acknowledged, so SendClean will retry it',
        { cause: cause },
      )
    }
  }
}
