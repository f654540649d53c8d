import { malformed } from './decode-batch.js'
import { HandlerError, InternalError } from './errors.js'
import { eventIdentity, parseEvent, type WebhookEvent } from './events.js'
import type { HandlerRegistry } from './handlers.js'
import type { EventOutcome } from './idempotency.js'
import type { Config } from './options.js'
import { within } from './within.js'

/** Reports a handler failure to the error hook; `'skip'` means give up on that event. */
export type Report<C> = (error: HandlerError, context: C) => Promise<unknown>

interface Progress {
  index: number
  timedOut: boolean
  /** Set once anything was awaited: only then can the batch outlive the handler timeout. */
  waiting: boolean
}

async function storeCall<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    throw new InternalError(
      'the idempotency store failed; the batch was not acknowledged',
      cause,
      'STORE_FAILED',
    )
  }
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
  for (let i = 0; i < events.length; i++) {
    // After a timeout the batch has been answered 503: start nothing more.
    if (progress.timedOut) return
    progress.index = i
    const event = events[i] as WebhookEvent
    const key = store ? eventIdentity(event) : ''
    if (store) {
      progress.waiting = true
      if (await storeCall(() => store.has(key))) continue
    }
    let outcome: EventOutcome = 'handled'
    try {
      const pending = handlers.run(event, context)
      if (pending) {
        progress.waiting = true
        await pending
      }
    } catch (cause) {
      if (progress.timedOut) return
      const error = new HandlerError(event, i, cause)
      if ((await report(error, context)) !== 'skip') throw error
      outcome = 'skipped'
    }
    if (store && !progress.timedOut) await storeCall(() => store.mark(key, config.ttlMs, outcome))
  }
}

/** Queue mode: hand the batch to the sink, bounded by its timeout. */
async function enqueue<C>(
  config: Config<C>,
  events: WebhookEvent[],
  raw: unknown[],
): Promise<void> {
  const queue = config.queue
  if (!queue) return
  const batch = events.map((event, i) => ({ id: eventIdentity(event), event, raw: raw[i] }))
  try {
    await within(
      queue.sink.enqueue(batch),
      queue.timeoutMs,
      () => new Error(`the queue did not take the batch within ${queue.timeoutMs} ms`),
    )
  } catch (cause) {
    throw new InternalError(
      'the queue did not take the batch; it was not acknowledged, so SendClean will retry it',
      cause,
      'QUEUE_FAILED',
    )
  }
}

/**
 * Validate the whole batch, then run its handlers in order (or enqueue it, in queue mode).
 * Resolves only when every event was handled, skipped on purpose, or already seen; otherwise
 * rejects, and the batch is not acknowledged.
 */
export async function dispatch<C>(
  config: Config<C>,
  handlers: HandlerRegistry<C>,
  raw: unknown[],
  context: C,
  report: Report<C>,
): Promise<void> {
  // Validate first: a bad event at the end must not leave the batch half-handled.
  const events: WebhookEvent[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const result = parseEvent(raw[i])
    if (!result.ok) throw malformed(`event ${i} ${result.message}`)
    events[i] = result.event
  }
  if (config.queue) return enqueue(config, events, raw)

  const progress: Progress = { index: 0, timedOut: false, waiting: false }
  const running = run(config, handlers, events, context, report, progress)
  // Finished without waiting on anything (sync handlers, no store): nothing to time out.
  if (!progress.waiting) return running
  return within(running, config.handlerTimeoutMs, () => {
    progress.timedOut = true
    const i = progress.index
    return new HandlerError(events[i], i, undefined, 'HANDLER_TIMEOUT')
  })
}
