import { createHash } from 'node:crypto'
import type { ConnectionOptions, Job, JobsOptions, Queue, Worker, WorkerOptions } from 'bullmq'
import {
  type EventSink,
  type HandlerMap,
  type OtelSpanContext,
  parseEvent,
  type TelemetryOptions,
  WebhookError,
} from '../src/index.js'
import {
  eventTypeName,
  HandlerRegistry,
  refuseUnknownOptions,
  requireMethods,
  settledOutcome,
  telemetryFor,
  within,
} from '../src/internal.js'
import { bullmq } from './bullmq.js'

/**
 * Queue mode on BullMQ: the receiver verifies and validates, adds one job per event, and answers
 * 200 once Redis has them all; workers run the same typed handlers, with BullMQ's retries.
 */

/**
 * What a queued job carries: the event's JSON text exactly as SendClean sent it (a text, so an
 * event nested deeper than `JSON.stringify` can recurse still fits in a job). Jobs queued by
 * earlier versions carry the parsed `event` instead; workers read both.
 */
export interface EventJobData {
  text?: string
  event?: unknown
  /** The receiving request's span, when it was traced (OpenTelemetry). */
  trace?: OtelSpanContext
}

/** What worker handlers get as context. */
export interface WorkerContext {
  job: Job<EventJobData>
}

/** Defaults for each event's job: retried with backoff. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // How long finished jobs stay is for inspection only: duplicates are told by a key of
  // their own that lives `window` ms (see bullmqSink), whatever the volume.
  removeOnComplete: { age: 24 * 60 * 60, count: 10_000 },
  // Failed jobs stay for inspection (Queue#getFailed, Bull Board, …).
  removeOnFail: false,
}

/** How long the sink remembers an event it took: SendClean's retries and replays within it collapse. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 72 * 60 * 60 * 1000

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
  if (typeof options !== 'object' || options === null || options.connection === undefined) {
    throw new WebhookError('CONFIGURATION', 'createQueue needs `connection` (your Redis)')
  }
  refuseUnknownOptions(options, { connection: true, prefix: true })
  const connection =
    typeof options.connection === 'object' && !('status' in options.connection)
      ? { ...options.connection, enableOfflineQueue: false }
      : options.connection
  const { Queue } = bullmq()
  return new Queue(name, { connection: connection as ConnectionOptions, prefix: options.prefix })
}

/**
 * The receiver's `queue.sink` for a BullMQ queue: one job per event, its id from the event's
 * identity, all added in one call. An event is remembered for `window` ms (default 72 h) by a
 * key of its own in the queue's Redis, however many jobs complete meanwhile: a retry or replay
 * within the window adds nothing, even after its job was removed (and while its job is still
 * in Redis, BullMQ's job id keeps it out too).
 *
 * @example
 * createExpressMiddleware({ keys, queue: { sink: bullmqSink(createQueue('sendclean-events', { connection })) } })
 */
export function bullmqSink(
  queue: Queue,
  options: { jobOptions?: JobsOptions; window?: number } = {},
): EventSink {
  refuseUnknownOptions(options, { jobOptions: true, window: true })
  requireMethods(
    queue,
    ['addBulk', 'waitUntilReady', 'toKey', 'count'],
    'bullmqSink needs a BullMQ Queue (createQueue makes one)',
  )
  const { jobOptions = {}, window = DEFAULT_DUPLICATE_WINDOW_MS } = options
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new WebhookError('CONFIGURATION', '`window` must be a positive whole number of ms')
  }
  // BullMQ holds every command until its first connection: before Redis has ever answered,
  // wait only briefly, so a receiver started while Redis is down answers 503 at once.
  let ready = false
  const firstConnection = queue.waitUntilReady().then(
    () => {
      ready = true
    },
    () => {},
  )
  const seenKey = (jobId: string) => queue.toKey(`sendclean-seen:${jobId}`)
  const seen = seenKeys(queue)
  return {
    async enqueue(events) {
      if (!ready) {
        await within(
          firstConnection,
          FIRST_CONNECTION_WAIT_MS,
          () => new Error('Redis has not been reachable since the queue was created'),
        )
      }
      const ids = events.map((e) => jobIdFor(e.id))
      // Events seen within the window are left out; the rest are added, then remembered (in
      // that order, so a failed add is never remembered). Two copies racing past the check
      // collapse on their job id.
      const known = await Promise.all(ids.map((id) => seen.has(seenKey(id))))
      const fresh = events.flatMap((e, i) => (known[i] ? [] : [{ e, id: ids[i] as string }]))
      if (fresh.length === 0) return
      await queue.addBulk(
        fresh.map(({ e, id }) => ({
          name: e.event.event === 'unknown' ? e.event.type : e.event.event,
          data: { text: e.text, ...(e.trace ? { trace: e.trace } : {}) } satisfies EventJobData,
          opts: { ...DEFAULT_JOB_OPTIONS, ...jobOptions, jobId: id },
        })),
      )
      await Promise.all(fresh.map(({ id }) => seen.remember(seenKey(id), window)))
    },
    // Readiness for a health check: Redis answers a command (one that works on BullMQ 5 and 6).
    async ready() {
      await queue.count()
    },
  }
}

/** The queue's own Redis connection, as BullMQ 5 (`queue.client`) and 6 (its backend's) expose it. */
interface SeenKeys {
  has(key: string): Promise<boolean>
  remember(key: string, ms: number): Promise<void>
}

function seenKeys(queue: Queue): SeenKeys {
  // BullMQ 6: the Redis backend's client, whose `set` takes `{ PX }`; BullMQ 5: `queue.client`,
  // the ioredis connection, whose `set` takes `'PX', ms`.
  const backend = (queue as { getBackend?: () => { client?: Promise<unknown> } }).getBackend?.()
  if (backend && !backend.client) {
    throw new WebhookError('CONFIGURATION', 'bullmqSink needs a queue backed by Redis')
  }
  const client = (
    backend ? backend.client : (queue as unknown as { client: Promise<unknown> }).client
  ) as Promise<{
    get(key: string): Promise<string | null>
    set(key: string, value: string, ...expiry: unknown[]): Promise<unknown>
  }>
  const expiry = (ms: number): unknown[] => (backend ? [{ PX: ms }] : ['PX', ms])
  return {
    has: async (key) => (await (await client).get(key)) !== null,
    remember: async (key, ms) => void (await (await client).set(key, '1', ...expiry(ms))),
  }
}

/**
 * A BullMQ worker that runs the same handler map as in-process mode, with the event narrowed
 * per type; `context.job` is the BullMQ job. A handler that throws fails the attempt, and
 * BullMQ retries with the job's backoff, from the failed handler on: the job's progress
 * records how many of the event's handlers completed. An event that fails its schema goes to
 * `invalid`.
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
  if (typeof options !== 'object' || options === null) {
    throw new WebhookError(
      'CONFIGURATION',
      "createWorker needs BullMQ's worker options, `connection` at least",
    )
  }
  const registry = new HandlerRegistry<WorkerContext>()
  registry.addMap(handlers)
  const { openTelemetry, ...workerOptions } = options
  const telemetry = telemetryFor(openTelemetry)
  const { Worker } = bullmq()
  return new Worker<EventJobData>(
    queueName,
    async (job) => {
      // An event that fails its schema reaches the `invalid` handlers, as in-process.
      const data = job.data
      const event = parseEvent(typeof data?.text === 'string' ? JSON.parse(data.text) : data?.event)
      const context: WorkerContext = { job }
      // Handlers that completed in an earlier attempt are not run again.
      const from = typeof job.progress === 'number' ? job.progress : 0
      const runAll = () =>
        registry.runFrom(event, context, from, (done) => job.updateProgress(done))
      const observation = telemetry?.beginJob({
        type: eventTypeName(event),
        id: job.id,
        attempt: job.attemptsMade + 1,
        enqueuedAt: job.timestamp,
        trace: job.data?.trace,
      })
      if (!observation) return runAll()
      try {
        await observation.run(runAll)
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
