import { malformed } from './decode-batch.js'
import { handlerError, invalidEventError, WebhookError } from './errors.js'
import { describeInvalid, parseEvent, type WebhookEvent } from './events.js'
import type { HandlerRegistry } from './handlers.js'
import type { ClaimResult, EventOutcome } from './idempotency.js'
import type { Config } from './options.js'
import { within } from './within.js'

/** Tells the error hook; for a handler failure, `'skip'` means give up on that event. */
export type Report<C> = (error: WebhookError, context: C) => Promise<unknown>

interface Progress {
  index: number
  timedOut: boolean
  /** Set once anything was awaited: only then can the batch outlive the handler timeout. */
  waiting: boolean
  /** The event being waited for is a duplicate running elsewhere, not this batch's handler. */
  inFlight: boolean
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
  config: Config<C>,
  key: string,
  token: string,
  progress: Progress,
): Promise<ClaimResult | undefined> {
  const store = config.store
  if (!store) return 'claimed'
  let result = await storeCall(() => store.claim(key, token, config.leaseMs))
  for (let delay = 5; result === 'busy'; delay = Math.min(delay * 2, 200)) {
    progress.inFlight = true
    await sleep(delay)
    if (progress.timedOut) return undefined
    result = await storeCall(() => store.claim(key, token, config.leaseMs))
  }
  progress.inFlight = false
  return result
}

/** A handler threw or rejected: report it; `'skip'` gives up on the event, else the batch fails. */
async function handlerFailed<C>(
  event: WebhookEvent,
  index: number,
  cause: unknown,
  context: C,
  report: Report<C>,
  progress: Progress,
): Promise<EventOutcome> {
  if (progress.timedOut) throw cause
  const error = handlerError(event, index, cause)
  if ((await report(error, context)) !== 'skip') throw error
  return 'skipped'
}

/** Run an event's handlers; synchronous (no closure, no microtask) when they all are. */
function runHandlers<C>(
  handlers: HandlerRegistry<C>,
  event: WebhookEvent,
  index: number,
  context: C,
  report: Report<C>,
  progress: Progress,
): EventOutcome | Promise<EventOutcome> {
  let pending: Promise<void> | undefined
  try {
    pending = handlers.run(event, context)
  } catch (cause) {
    progress.waiting = true
    return handlerFailed(event, index, cause, context, report, progress)
  }
  if (!pending) return 'handled'
  progress.waiting = true
  return pending.then(
    () => 'handled' as const,
    (cause: unknown) => handlerFailed(event, index, cause, context, report, progress),
  )
}

/**
 * Run one claimed event's handlers: how it ended, or a rejection that fails the batch. An
 * invalid event is reported first (once, when it is claimed), then goes to its handlers.
 */
function runEvent<C>(
  handlers: HandlerRegistry<C>,
  event: WebhookEvent,
  index: number,
  context: C,
  report: Report<C>,
  progress: Progress,
): EventOutcome | Promise<EventOutcome> {
  if (event.event !== 'invalid')
    return runHandlers(handlers, event, index, context, report, progress)
  progress.waiting = true
  return report(invalidEventError(event, index), context).then(() =>
    runHandlers(handlers, event, index, context, report, progress),
  )
}

async function run<C>(
  config: Config<C>,
  handlers: HandlerRegistry<C>,
  events: WebhookEvent[],
  context: C,
  report: Report<C>,
  progress: Progress,
): Promise<void> {
  const { store } = config
  // Every store call is awaited: the batch's time bound must apply from the start.
  if (store) progress.waiting = true
  // Done markers are written while the next event runs (one round trip per event instead of
  // two); the batch is acknowledged only once every one of them is stored.
  const completions: Promise<void>[] = []
  const attempt = store ? attemptToken() : ''
  for (let i = 0; i < events.length; i++) {
    // After a timeout the batch has been answered 503: start nothing more.
    if (progress.timedOut) break
    progress.index = i
    const event = events[i] as WebhookEvent
    if (!store) {
      const outcome = runEvent(handlers, event, i, context, report, progress)
      if (typeof outcome !== 'string') await outcome
      continue
    }
    const key = await config.identity(event)
    const token = `${attempt}.${i}`
    const claimed = await claim(config, key, token, progress)
    if (claimed !== 'claimed') continue // done elsewhere, or timed out while waiting
    let outcome: EventOutcome
    try {
      outcome = await runEvent(handlers, event, i, context, report, progress)
    } catch (error) {
      // Give the event back so a retry can run it; if this fails, the lease expires anyway.
      await Promise.resolve(store.release(key, token)).catch(() => {})
      throw error
    }
    // Also after a timeout: the handler finished late, and its duplicates are waiting for this.
    const completion = storeCall(() => store.complete(key, token, config.ttlMs, outcome))
    completion.catch(() => {}) // awaited below; a batch that timed out no longer waits
    completions.push(completion)
  }
  await Promise.all(completions)
}

/** Queue mode: hand the batch to the sink, bounded by its timeout. */
async function enqueue<C>(
  config: Config<C>,
  events: WebhookEvent[],
  raw: unknown[],
): Promise<void> {
  const queue = config.queue
  if (!queue) return
  const batch = await Promise.all(
    events.map(async (event, i) => ({ id: await config.identity(event), event, raw: raw[i] })),
  )
  try {
    await within(
      queue.sink.enqueue(batch),
      queue.timeoutMs,
      () => new Error(`the queue did not take the batch within ${queue.timeoutMs} ms`),
    )
  } catch (cause) {
    throw new WebhookError(
      'QUEUE_FAILED',
      'the queue did not take the batch; it was not acknowledged, so SendClean will retry it',
      { cause: cause },
    )
  }
}

/**
 * Every event of a verified batch, validated; in strict mode, an invalid event anywhere refuses
 * the batch (400) before anything runs.
 */
export function parseBatch(raw: readonly unknown[], strict: boolean): WebhookEvent[] {
  const events: WebhookEvent[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const event = parseEvent(raw[i])
    if (strict && event.event === 'invalid') throw malformed(describeInvalid(event, i))
    events[i] = event
  }
  return events
}

/**
 * Validate the batch, then run its handlers in order (or enqueue it, in queue mode). Resolves
 * only when every event was handled, skipped on purpose, or already done; otherwise rejects,
 * and the batch is not acknowledged.
 */
export async function dispatch<C>(
  config: Config<C>,
  handlers: HandlerRegistry<C>,
  raw: unknown[],
  context: C,
  report: Report<C>,
): Promise<void> {
  const events = parseBatch(raw, config.strict)
  if (config.queue) {
    // Workers get invalid events too; the receiver reports them, as in-process mode does.
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as WebhookEvent
      if (event.event === 'invalid') await report(invalidEventError(event, i), context)
    }
    return enqueue(config, events, raw)
  }

  const progress: Progress = { index: 0, timedOut: false, waiting: false, inFlight: false }
  const running = run(config, handlers, events, context, report, progress)
  // Finished without waiting on anything (sync handlers, no store): nothing to time out.
  if (!progress.waiting) return running
  return within(running, config.handlerTimeoutMs, () => {
    progress.timedOut = true
    const i = progress.index
    return handlerError(
      events[i],
      i,
      undefined,
      progress.inFlight ? 'EVENT_IN_FLIGHT' : 'HANDLER_TIMEOUT',
    )
  })
}
