import { malformed } from './decode-batch.js'
import { invalidEventError, WebhookError } from './errors.js'
import { describeInvalid, parseEvent, type WebhookEvent } from './events.js'
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

/** The receiver's delivery, chosen once: its queue's sink, or its handlers in this process. */
export function deliverer<C>(
  config: Config<C>,
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
function queued<C>(config: Config<C>, report: Report<C>): Deliver<C> {
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
