import { handlerError, invalidEventError, WebhookError } from './errors.js'
import type { WebhookEvent } from './events.js'
import type { HandlerRegistry } from './handlers.js'
import type { ClaimResult, EventOutcome } from './idempotency.js'
import type { Config } from './options.js'
import { type Observation, settledOutcome } from './telemetry.js'
import { within } from './within.js'

/** Tells the error hook; for a handler failure, `'skip'` means give up on that event. */
export type Report<C> = (error: WebhookError, context: C) => Promise<unknown>

/** One batch being run: what every step needs, and how far it got. */
interface BatchRun<C> {
  readonly config: Config<C>
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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
export function inProcess<C>(config: Config<C>, handlers: HandlerRegistry<C>, report: Report<C>) {
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
