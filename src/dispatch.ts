import { malformed } from './decode-batch.js'
import { invalidEventError, WebhookError } from './errors.js'
import { describeInvalid, validateEvent, type WebhookEvent } from './events.js'
import type { HandlerRegistry } from './handlers.js'
import type { Config } from './options.js'
import { inProcess, type Report } from './run-in-process.js'
import { type Observation, step } from './telemetry.js'
import { within } from './within.js'

export type { Report }

/**
 * Where a verified batch goes: validated, then resolves once every event is handled (in
 * process) or safely taken (queue mode); a rejection means the batch is not acknowledged.
 */
export type Deliver<C> = (
  raw: unknown[],
  context: C,
  observation: Observation | undefined,
) => Promise<void>

/**
 * Every event of a verified batch, validated; in strict mode, an invalid event anywhere refuses
 * the batch (400) before anything runs. `owned`: the caller parsed `raw` itself and keeps no
 * other use for it, so valid events may be its objects (see {@link validateEvent}).
 */
export function parseBatch(
  raw: readonly unknown[],
  strict: boolean,
  owned: boolean,
): WebhookEvent[] {
  const events: WebhookEvent[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const event = validateEvent(raw[i], owned)
    if (strict && event.event === 'invalid') throw malformed(describeInvalid(event, i))
    events[i] = event
  }
  return events
}

/** The receiver's delivery, chosen once: its queue's sink, or its handlers in this process. */
export function deliverer<C>(
  config: Config<C>,
  handlers: HandlerRegistry<C>,
  report: Report<C>,
): Deliver<C> {
  if (config.queue) return queued(config, report)
  const runBatch = inProcess(config, handlers, report)
  return (raw, context, observation) => {
    // The core parsed `raw` from the body and nothing else holds it: valid events are its own
    // objects, not copies.
    const events = step(observation, 'sendclean.validate', () =>
      parseBatch(raw, config.strict, true),
    )
    // What validation did copy (a numeric string made a number) leaves its original garbage,
    // unless something still points at this array, and the frames below this one do until the
    // batch is done. Emptying it means a batch in hand never holds two copies of an event.
    raw.length = 0
    return runBatch(events, context, observation)
  }
}

/**
 * Queue mode: hand the batch to the sink, bounded by its timeout. Workers get invalid events
 * too; the receiver reports them here, as in-process mode does.
 */
function queued<C>(config: Config<C>, report: Report<C>): Deliver<C> {
  const queue = config.queue
  if (!queue) throw new Error('unreachable: queued() without a queue')
  return async (raw, context, observation) => {
    // Not owned: each job carries its event exactly as sent (`raw[i]`), which validation must
    // not add `date` to.
    const events = step(observation, 'sendclean.validate', () =>
      parseBatch(raw, config.strict, false),
    )
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
