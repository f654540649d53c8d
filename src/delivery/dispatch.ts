/**
 * Delivery: a verified batch's events, validated, then either handed to the queue's sink (queue
 * mode) or run through their handlers in this process, in batch order, each event claimed in the
 * idempotency store first, the whole bounded by `handlerTimeoutMs`.
 */
import { DEFAULT_TIMEOUT_MS } from '../constants.js'
import { configurationError, handlerError, positiveInteger, WebhookError } from '../errors.js'
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
const DEFAULT_QUEUE_TIMEOUT_MS = 5000

/** One event on its way to a queue: its identity (for de-duplication), parsed and as sent. */
export interface QueuedEvent {
  id: string
  event: WebhookEvent
  raw: unknown
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
   * instances: `store` claims an event's identity before its handlers run (the claim lasts
   * `leaseMs`, default twice `handlerTimeoutMs`, so a process that dies mid-handler does not
   * block it forever) and remembers it for `ttlMs` (default 72 h) once they succeed.
   */
  idempotency?: { store: IdempotencyStore; ttlMs?: number; leaseMs?: number }
  /**
   * The identity of an event for de-duplication and queue job ids. Default
   * {@link eventIdentity}: the type and a SHA-256 of the event's canonical content. It must be
   * equal for retries of one event and differ between distinct events.
   */
  identity?: (event: WebhookEvent) => string | Promise<string>
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
  identity: (event: WebhookEvent) => string | Promise<string>
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
    if (
      typeof store?.claim !== 'function' ||
      typeof store.complete !== 'function' ||
      typeof store.release !== 'function'
    ) {
      throw configurationError(
        '`idempotency.store` must have claim(), complete() and release() (see IdempotencyStore)',
      )
    }
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
  return {
    handlerTimeoutMs,
    store: idempotency?.store,
    ttlMs: positiveInteger(idempotency?.ttlMs, 'idempotency.ttlMs', DEFAULT_IDEMPOTENCY_TTL_MS),
    leaseMs: positiveInteger(idempotency?.leaseMs, 'idempotency.leaseMs', 2 * handlerTimeoutMs),
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

/** One batch being run: what every step needs, and how far it got. */
interface BatchRun<C> {
  readonly config: DeliveryConfig
  readonly handlers: HandlerRegistry<C>
  readonly context: C
  readonly report: Report<C>
  /** The event running now. */
  index: number
  timedOut: boolean
  /** The event being waited for is a duplicate running elsewhere, not this batch's handler. */
  inFlight: boolean
  /** The request's telemetry, when it is observed. */
  readonly observation: Observation | undefined
}

async function storeCall<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    throw new WebhookError(
      'STORE_FAILED',
      'the idempotency store failed; the batch was not acknowledged',
      { cause: cause },
    )
  }
}

let serial = 0
/**
 * Unique per batch attempt (suffixed with the event's index, unique per claim): a claim that
 * expired and was taken over is never released by us.
 */
function attemptToken(): string {
  serial = (serial + 1) % Number.MAX_SAFE_INTEGER
  const random = globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2)
  return `${random}.${serial}`
}

/** Claim, waiting while a duplicate runs elsewhere; `undefined` when the batch timed out. */
async function claim<C>(
  batch: BatchRun<C>,
  key: string,
  token: string,
): Promise<ClaimResult | undefined> {
  const { config } = batch
  const store = config.store
  if (!store) return 'claimed'
  let result = await storeCall(() => store.claim(key, token, config.leaseMs))
  for (let delay = 5; result === 'busy'; delay = Math.min(delay * 2, 200)) {
    batch.inFlight = true
    await sleep(delay)
    if (batch.timedOut) return undefined
    result = await storeCall(() => store.claim(key, token, config.leaseMs))
  }
  batch.inFlight = false
  return result
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

/** Run an event's handlers: `handled`, or `skipped` when the error hook gave up on it. */
async function runHandlers<C>(
  batch: BatchRun<C>,
  event: WebhookEvent,
  index: number,
): Promise<EventOutcome> {
  try {
    await batch.handlers.run(event, batch.context)
    return 'handled'
  } catch (cause) {
    return handlerFailed(batch, event, index, cause)
  }
}

/**
 * Run one claimed event's handlers: how it ended, or a rejection that fails the batch. An
 * invalid event is reported first (once, when it is claimed), then goes to its handlers.
 */
async function runEvent<C>(
  batch: BatchRun<C>,
  event: WebhookEvent,
  index: number,
): Promise<EventOutcome> {
  if (event.event === 'invalid') await batch.report(invalidEventError(event, index), batch.context)
  return runHandlers(batch, event, index)
}

/**
 * One event, claimed first when there is a store: how it ended; `duplicate` when it was done
 * elsewhere; `undefined` when the batch timed out while waiting for a duplicate.
 */
async function claimAndRun<C>(
  batch: BatchRun<C>,
  event: WebhookEvent,
  index: number,
  attempt: string,
  completions: Promise<void>[],
): Promise<EventOutcome | 'duplicate' | undefined> {
  const { config } = batch
  const store = config.store
  if (!store) return runEvent(batch, event, index)
  const key = await config.identity(event)
  const token = `${attempt}.${index}`
  const claimed = await claim(batch, key, token)
  if (claimed === undefined) return undefined
  if (claimed !== 'claimed') return 'duplicate'
  let outcome: EventOutcome
  try {
    outcome = await runEvent(batch, event, index)
  } catch (error) {
    // Give the event back so a retry can run it; if this fails, the lease expires anyway.
    await Promise.resolve(store.release(key, token)).catch(() => {})
    throw error
  }
  // Also after a timeout: the handler finished late, and its duplicates are waiting for this.
  const completion = storeCall(() => store.complete(key, token, config.ttlMs, outcome))
  completion.catch(() => {}) // awaited below; a batch that timed out no longer waits
  completions.push(completion)
  return outcome
}

/** {@link claimAndRun} as a span and data points: the event's type and what became of it. */
async function observed(
  observation: Observation,
  event: WebhookEvent,
  index: number,
  run: () => Promise<EventOutcome | 'duplicate' | undefined>,
): Promise<void> {
  const watch = observation.eventStart(event, index)
  let result: EventOutcome | 'duplicate' | undefined
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

/** Run the batch's events in order; resolves once every done marker is stored. */
async function run<C>(batch: BatchRun<C>, events: WebhookEvent[]): Promise<void> {
  const { config, observation } = batch
  // Done markers are written while the next event runs (one round trip per event instead of
  // two); the batch is acknowledged only once every one of them is stored.
  const completions: Promise<void>[] = []
  const attempt = config.store ? attemptToken() : ''
  for (let i = 0; i < events.length; i++) {
    // After a timeout the batch has been answered 503: start nothing more.
    if (batch.timedOut) break
    batch.index = i
    const event = events[i] as WebhookEvent
    if (!observation && !config.store && event.event !== 'invalid') {
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
    const runOne = () => claimAndRun(batch, event, i, attempt, completions)
    if (observation) await observed(observation, event, i, runOne)
    else await runOne()
  }
  if (completions.length > 0) await Promise.all(completions)
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
      inFlight: false,
      observation,
    }
    return within(run(batch, events), config.handlerTimeoutMs, () => {
      batch.timedOut = true
      const i = batch.index
      return handlerError(
        events[i],
        i,
        undefined,
        batch.inFlight ? 'EVENT_IN_FLIGHT' : 'HANDLER_TIMEOUT',
      )
    })
  }
}

/**
 * Where a verified batch goes: validated, then resolves once every event is handled (in
 * process) or safely taken (queue mode); a rejection means the batch is not acknowledged.
 */
export type Deliver<C> = (
  raw: unknown[],
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
  return (raw, context, observation) => {
    const events = step(observation, 'sendclean.validate', () => parseBatch(raw, config.strict))
    // Validation copied every event: emptying the parsed array means a batch in hand does not
    // hold two copies of each while its handlers run.
    raw.length = 0
    return runBatch(events, context, observation)
  }
}

/**
 * Queue mode: hand the batch to the sink, bounded by its timeout. Workers get invalid events
 * too; the receiver reports them here, as in-process mode does.
 */
function queued<C>(config: DeliveryConfig, report: Report<C>): Deliver<C> {
  const queue = config.queue
  if (!queue) throw new Error('unreachable: queued() without a queue')
  return async (raw, context, observation) => {
    // Each job carries its event exactly as sent (`raw[i]`); validation leaves it as it was.
    const events = step(observation, 'sendclean.validate', () => parseBatch(raw, config.strict))
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as WebhookEvent
      if (event.event === 'invalid') await report(invalidEventError(event, i), context)
    }
    const trace = observation?.carrier()
    const batch = await Promise.all(
      events.map(async (event, i) => ({
        id: await config.identity(event),
        event,
        raw: raw[i],
        ...(trace ? { trace } : {}),
      })),
    )
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
