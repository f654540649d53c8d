import { createHash } from 'node:crypto'
import type { ConnectionOptions, Job, JobsOptions, Queue, Worker, WorkerOptions } from 'bullmq'
import {
  type EventSink,
  type HandlerMap,
  type OtelSpanContext,
  parseEvent,
  type TelemetryOptions,
} from '../src/index.js'
import {
  eventTypeName,
  HandlerRegistry,
  settledOutcome,
  telemetryFor,
  within,
} from '../src/internal.js'
import { bullmq } from './bullmq.js'

/**
 * Queue mode on BullMQ: the receiver verifies and validates, adds one job per event, and answers
 * 200 once Redis has them all; workers run the same typed handlers, with BullMQ's retries.
 */

/** What a queued job carries: the event exactly as SendClean sent it. */
export interface EventJobData {
  event: unknown
  /** The receiving request's span, when it was traced (OpenTelemetry). */
  trace?: OtelSpanContext
}

/** What worker handlers get as context. */
export interface WorkerContext {
  job: Job<EventJobData>
}

/** Defaults for each event's job: retried with backoff, kept a while so duplicates collapse. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // A job id exists only while its job does: keep finished jobs long enough for SendClean's
  // retries and replays to collapse onto them.
  removeOnComplete: { age: 72 * 60 * 60, count: 100_000 },
  // Failed jobs stay for inspection (Queue#getFailed, Bull Board, …).
  removeOnFail: false,
}

/**
 * A BullMQ job id for an event identity. Ids may not contain ':' (or be integers), and
 * identities have both, so they are hashed.
 */
export function jobIdFor(identity: string): string {
  return `sc-${createHash('sha1').update(identity).digest('hex')}`
}

/** How long a batch waits for the queue's first connection to Redis. */
const FIRST_CONNECTION_WAIT_MS = 250

/**
 * A Queue set up for the receiver: commands fail at once while Redis is unreachable (no offline
 * queue), so a batch is answered 503 instead of waiting.
 *
 * @example
 * const queue = createQueue('sendclean-events', { connection: { host: '127.0.0.1', port: 6379 } })
 */
export function createQueue(
  name: string,
  options: { connection: ConnectionOptions; prefix?: string },
): Queue {
  const connection =
    typeof options.connection === 'object' && !('status' in options.connection)
      ? { ...options.connection, enableOfflineQueue: false }
      : options.connection
  const { Queue } = bullmq()
  return new Queue(name, { connection: connection as ConnectionOptions, prefix: options.prefix })
}

/**
 * The receiver's `queue.sink` for a BullMQ queue: one job per event, id from the event's
 * identity (duplicates and replays collapse), all added in one atomic call.
 *
 * @example
 * createExpressMiddleware({ keys, queue: { sink: bullmqSink(createQueue('sendclean-events', { connection })) } })
 */
export function bullmqSink(
  queue: Queue,
  { jobOptions = {} }: { jobOptions?: JobsOptions } = {},
): EventSink {
  // BullMQ holds every command until its first connection: before Redis has ever answered,
  // wait only briefly, so a receiver started while Redis is down answers 503 at once.
  let ready = false
  const firstConnection = queue.waitUntilReady().then(
    () => {
      ready = true
    },
    () => {},
  )
  return {
    async enqueue(events) {
      if (!ready) {
        await within(
          firstConnection,
          FIRST_CONNECTION_WAIT_MS,
          () => new Error('Redis has not been reachable since the queue was created'),
        )
      }
      await queue.addBulk(
        events.map((e) => ({
          name: e.event.event === 'unknown' ? e.event.type : e.event.event,
          data: { event: e.raw, ...(e.trace ? { trace: e.trace } : {}) } satisfies EventJobData,
          opts: { ...DEFAULT_JOB_OPTIONS, ...jobOptions, jobId: jobIdFor(e.id) },
        })),
      )
    },
    // Readiness for a health check: Redis answers a command (one that works on BullMQ 5 and 6).
    async ready() {
      await queue.count()
    },
  }
}

/**
 * A BullMQ worker that runs the same handler map as in-process mode, with the event narrowed
 * per type; `context.job` is the BullMQ job. A handler that throws fails the attempt, and
 * BullMQ retries with the job's backoff; an event that fails its schema goes to `invalid`.
 *
 * `await worker.close()` lets in-flight jobs finish; a worker that dies mid-job leaves its job
 * to be picked up again once its lock expires (BullMQ's stalled-job check).
 *
 * @example
 * const worker = createWorker('sendclean-events', {
 *   hard_bounce: async (event) => suppressions.add(event._id),
 * }, { connection, concurrency: 10 })
 * process.on('SIGTERM', () => worker.close())
 */
export function createWorker(
  queueName: string,
  handlers: HandlerMap<WorkerContext>,
  options: WorkerOptions & {
    /** OpenTelemetry, as the receiver's `openTelemetry` option (README, "Observability"). */
    openTelemetry?: TelemetryOptions | false
  },
): Worker<EventJobData> {
  const registry = new HandlerRegistry<WorkerContext>()
  registry.addMap(handlers)
  const { openTelemetry, ...workerOptions } = options
  const telemetry = telemetryFor(openTelemetry)
  const { Worker } = bullmq()
  return new Worker<EventJobData>(
    queueName,
    async (job) => {
      // An event that fails its schema reaches the `invalid` handlers, as in-process.
      const event = parseEvent(job.data?.event)
      const context: WorkerContext = { job }
      const observation = telemetry?.beginJob({
        type: eventTypeName(event),
        id: job.id,
        attempt: job.attemptsMade + 1,
        enqueuedAt: job.timestamp,
        trace: job.data?.trace,
      })
      if (!observation) return registry.run(event, context)
      try {
        await observation.run(() => registry.run(event, context))
      } catch (error) {
        observation.end('failed')
        throw error
      }
      observation.end(settledOutcome(event))
    },
    workerOptions,
  )
}

export type { Queue, Worker } from 'bullmq'
