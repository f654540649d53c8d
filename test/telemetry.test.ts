// OpenTelemetry: spans and data points for every row of the status table, per-event outcomes,
// queue mode end to end (receiver and worker in one trace), health, and "nothing without an SDK".

import * as api from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import packageJson from '../package.json' with { type: 'json' }
import { bullmqSink, createQueue, createWorker } from '../queue/index.js'
import {
  createReceiver,
  memoryStore,
  type OpenTelemetryApi,
  type ReceiverOptions,
  type WebhookRequest,
} from '../src/index.js'
import { ParsedBody } from '../src/internal.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  signedRequest,
  URL_REGISTERED,
} from './support/fixtures.js'

api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

class TestReader extends MetricReader {
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

let exporter: InMemorySpanExporter
let reader: TestReader
let telemetry: { tracerProvider: BasicTracerProvider; meterProvider: MeterProvider }

beforeEach(() => {
  exporter = new InMemorySpanExporter()
  reader = new TestReader()
  telemetry = {
    tracerProvider: new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    }),
    meterProvider: new MeterProvider({ readers: [reader] }),
  }
})

type Point = { attributes: Record<string, unknown>; value: unknown }
/** The data points of one instrument, from a fresh collection. */
async function points(name: string): Promise<Point[]> {
  const { resourceMetrics } = await reader.collect()
  return resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as Point[])
}

const spans = (name?: string) =>
  exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name)

function post(body: string, headers: Record<string, string> = {}): WebhookRequest<undefined> {
  return {
    method: 'POST',
    url: URL_REGISTERED,
    headers: new Headers({ 'content-type': FORM, ...headers }),
    body,
    context: undefined,
  }
}

const base = () =>
  ({
    keys: KEY,
    url: URL_REGISTERED,
    openTelemetry: telemetry,
    onError: () => {},
  }) satisfies ReceiverOptions<undefined>

const never = () => new Promise<void>(() => {})
const stalled = new ReadableStream<Uint8Array>({ start() {} })

// Every row of README "What it answers": the request, the receiver's options, status and outcome.
const rows: Array<{
  row: string
  options?: Partial<ReceiverOptions<undefined>>
  request: () => WebhookRequest<undefined>
  status: number
  outcome: string
}> = [
  {
    row: 'GET handshake',
    request: () => ({ ...post(''), method: 'GET' }),
    status: 200,
    outcome: 'HANDSHAKE',
  },
  { row: 'empty POST handshake', request: () => post(''), status: 200, outcome: 'HANDSHAKE' },
  { row: 'verified batch', request: () => signedRequest(), status: 200, outcome: 'OK' },
  {
    row: 'no signature',
    request: () => post(formDelivery().body),
    status: 401,
    outcome: 'MISSING_SIGNATURE',
  },
  {
    row: 'wrong key',
    request: () => signedRequest(undefined, { key: 'other' }),
    status: 401,
    outcome: 'SIGNATURE_MISMATCH',
  },
  {
    row: 'other URL',
    request: () => signedRequest(undefined, { url: `${URL_REGISTERED}/` }),
    status: 401,
    outcome: 'URL_MISMATCH',
  },
  {
    row: 'malformed JSON',
    request: () => signedRequest('[{'),
    status: 400,
    outcome: 'MALFORMED_PAYLOAD',
  },
  {
    row: 'too large',
    options: { maxBodyBytes: 100 },
    request: () => signedRequest(),
    status: 413,
    outcome: 'PAYLOAD_TOO_LARGE',
  },
  {
    row: 'not a form',
    request: () => ({ ...signedRequest(), headers: new Headers({ 'content-type': 'text/plain' }) }),
    status: 415,
    outcome: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    row: 'another method',
    request: () => ({ ...post(''), method: 'PUT' }),
    status: 405,
    outcome: 'METHOD_NOT_ALLOWED',
  },
  {
    row: 'slow body',
    options: { bodyTimeoutMs: 30 },
    request: () => ({ ...post(''), body: stalled }),
    status: 408,
    outcome: 'BODY_TIMEOUT',
  },
  {
    row: 'a handler threw',
    options: {
      on: {
        '*': () => {
          throw new Error('boom')
        },
      },
    },
    request: () => signedRequest(),
    status: 500,
    outcome: 'HANDLER_FAILED',
  },
  {
    row: 'handlers too slow',
    options: { handlerTimeoutMs: 30, on: { '*': never } },
    request: () => signedRequest(),
    status: 503,
    outcome: 'HANDLER_TIMEOUT',
  },
  {
    row: 'store down',
    options: {
      idempotency: {
        store: {
          claim: () => Promise.reject(new Error('down')),
          renew: async () => true,
          progress: async () => true,
          complete: async () => true,
          release: async () => {},
        },
      },
    },
    request: () => signedRequest(),
    status: 503,
    outcome: 'STORE_FAILED',
  },
  {
    row: 'queue down',
    options: { queue: { sink: { enqueue: () => Promise.reject(new Error('down')) } } },
    request: () => signedRequest(),
    status: 503,
    outcome: 'QUEUE_FAILED',
  },
  {
    row: 'no key',
    options: { keys: [] },
    request: () => signedRequest(),
    status: 500,
    outcome: 'NO_KEY',
  },
  {
    row: 'body consumed',
    request: () => ({ ...signedRequest(), body: new ParsedBody(undefined) }),
    status: 500,
    outcome: 'BODY_CONSUMED',
  },
  {
    row: 'resolver threw',
    options: {
      keys: () => {
        throw new Error('vault down')
      },
    },
    request: () => signedRequest(),
    status: 500,
    outcome: 'INTERNAL_ERROR',
  },
]

describe('one span and one data point per request, for every row of the status table', () => {
  it.each(rows)('$row → $status $outcome', async ({ options, request, status, outcome }) => {
    const receiver = createReceiver<undefined>({ ...base(), ...options })
    const res = await receiver.handle(request())
    expect(res.status).toBe(status)
    const [span, ...more] = spans('sendclean.webhook.receive')
    expect(more).toEqual([])
    expect(span?.attributes).toMatchObject({
      'http.response.status_code': status,
      'sendclean.outcome': outcome,
      'sendclean.adapter': 'core',
      'messaging.system': 'sendclean',
    })
    expect(span?.status.code).toBe(
      status >= 500 ? api.SpanStatusCode.ERROR : api.SpanStatusCode.UNSET,
    )
    expect(await points('sendclean.webhook.requests')).toEqual([
      expect.objectContaining({
        attributes: {
          'http.response.status_code': status,
          'sendclean.outcome': outcome,
          'sendclean.adapter': 'core',
        },
        value: 1,
      }),
    ])
    const [duration] = await points('sendclean.webhook.request.duration')
    expect(duration?.attributes).toMatchObject({ 'sendclean.outcome': outcome })
    // Never a key, a signature or a payload in any attribute.
    const { signature } = formDelivery()
    for (const s of spans()) {
      const values = JSON.stringify(s.attributes)
      expect(values).not.toContain(KEY)
      expect(values).not.toContain(signature)
      expect(values).not.toContain('smtp_name')
    }
  })
})

describe('the steps and the events of a verified batch', () => {
  it('children for body read, verify, validate and each handler; the app span nests in its handler', async () => {
    const tracer = telemetry.tracerProvider.getTracer('app')
    const receiver = createReceiver<undefined>({
      ...base(),
      on: { '*': () => tracer.startActiveSpan('app.work', (span) => span.end()) },
    })
    const res = await receiver.handle(signedRequest())
    expect(res.status).toBe(200)
    const [root] = spans('sendclean.webhook.receive')
    // The tracer is named and versioned after the package, from package.json.
    expect(root?.instrumentationScope).toMatchObject({
      name: 'sendclean-webhooks',
      version: packageJson.version,
    })
    const id = root?.spanContext().spanId
    const childrenOf = (parent: string | undefined) =>
      spans().filter((s) => s.parentSpanContext?.spanId === parent)
    expect(childrenOf(id).map((s) => s.name)).toEqual([
      'sendclean.body.read',
      'sendclean.verify',
      'sendclean.validate',
      ...SEED_EVENTS.map(() => 'sendclean.handler'),
    ])
    expect(root?.attributes).toMatchObject({
      'messaging.batch.message_count': SEED_EVENTS.length,
      'http.request.body.size': formDelivery().body.length,
    })
    const handlers = spans('sendclean.handler')
    expect(handlers.map((s) => s.attributes['sendclean.event.index'])).toEqual(
      SEED_EVENTS.map((_, i) => i),
    )
    expect(handlers.map((s) => s.attributes['sendclean.event.type'])).toEqual(
      SEED_EVENTS.map((e) => e.event),
    )
    expect(handlers.every((s) => s.attributes['sendclean.event.outcome'] === 'handled')).toBe(true)
    // The app's own span inside a handler is that handler's child: one trace.
    const app = spans('app.work')
    expect(app).toHaveLength(SEED_EVENTS.length)
    expect(app.map((s) => s.parentSpanContext?.spanId)).toEqual(
      handlers.map((s) => s.spanContext().spanId),
    )
    expect(new Set(spans().map((s) => s.spanContext().traceId)).size).toBe(1)

    const verify = await points('sendclean.webhook.verify.duration')
    expect(verify).toEqual([expect.objectContaining({ attributes: { 'sendclean.outcome': 'OK' } })])
    const byType = await points('sendclean.webhook.handler.duration')
    expect(byType.map((p) => p.attributes['sendclean.event.type']).sort()).toEqual(
      [...new Set(SEED_EVENTS.map((e) => e.event))].sort(),
    )
  })

  it('names only known types, unknown or invalid: no sender text in attributes, bounded series', async () => {
    const receiver = createReceiver<undefined>({ ...base(), on: { '*': () => {} } })
    const events = Array.from({ length: 50 }, (_, i) => ({
      event: `customer-email=user${i}@example.com;token=${i}`,
    }))
    events.push({ event: 'open', _id: 'x' } as never) // invalid, with its own type text
    expect((await receiver.handle(signedRequest(JSON.stringify(events)))).status).toBe(200)
    const types = new Set(
      spans('sendclean.handler').map((s) => s.attributes['sendclean.event.type']),
    )
    expect([...types].sort()).toEqual(['invalid', 'unknown'])
    const series = (await points('sendclean.webhook.events')).map(
      (p) => `${p.attributes['sendclean.event.type']} ${p.value}`,
    )
    expect(series.sort()).toEqual(['invalid 1', 'unknown 50'])
    const everything = JSON.stringify(spans().map((s) => s.attributes))
    expect(everything).not.toContain('customer-email')
  })

  it('counts events by type and outcome: handled, duplicate, invalid, unknown, failed, skipped', async () => {
    const store = memoryStore()
    const receiver = createReceiver<undefined>({
      ...base(),
      idempotency: { store },
      on: {
        '*': (event) => {
          if (event.event === 'click') throw new Error('click handler down')
        },
      },
      onError: (error) => (error.code === 'HANDLER_FAILED' ? 'skip' : undefined),
    })
    const events = [
      { ...SEED_EVENTS[0], event: 'send', _id: 'a' },
      { event: 'brand_new', _id: 'b' },
      { event: 'open', _id: 'c' }, // fails its schema
      { ...SEED_EVENTS.find((e) => e.event === 'click'), _id: 'd' },
    ]
    const text = JSON.stringify(events)
    expect((await receiver.handle(signedRequest(text))).status).toBe(200)
    expect((await receiver.handle(signedRequest(text))).status).toBe(200) // all duplicates now
    const counted = (await points('sendclean.webhook.events')).map(
      (p) =>
        `${p.attributes['sendclean.event.type']} ${p.attributes['sendclean.event.outcome']} ${p.value}`,
    )
    expect(counted.sort()).toEqual(
      [
        'send handled 1',
        'unknown unknown 1',
        'invalid invalid 1',
        'click skipped 1',
        'send duplicate 1',
        'unknown duplicate 1',
        'invalid duplicate 1',
        'click duplicate 1',
      ].sort(),
    )
    // Duplicates ran no handler: no handler time for them.
    const timed = (await points('sendclean.webhook.handler.duration')).map(
      (p) => p.attributes['sendclean.event.outcome'],
    )
    expect(timed).not.toContain('duplicate')
    const failedAll = createReceiver<undefined>({
      ...base(),
      on: {
        click: () => {
          throw new Error('x')
        },
      },
    })
    await failedAll.handle(signedRequest())
    const failed = (await points('sendclean.webhook.events')).filter(
      (p) => p.attributes['sendclean.event.outcome'] === 'failed',
    )
    expect(failed.map((p) => p.attributes['sendclean.event.type'])).toEqual(['click'])
    const failedSpan = spans('sendclean.handler').find(
      (s) => s.attributes['sendclean.event.outcome'] === 'failed',
    )
    expect(failedSpan?.status.code).toBe(api.SpanStatusCode.ERROR)
  })

  it('reports the time of the last verified batch, as a gauge and from health()', async () => {
    const receiver = createReceiver<undefined>(base())
    expect(await receiver.health()).toEqual({ ready: true, lastVerifiedAt: null })
    expect(await points('sendclean.webhook.last_verified.time')).toEqual([])
    await receiver.handle(signedRequest(undefined, { key: 'other' })) // refused: not a verified delivery
    expect((await receiver.health()).lastVerifiedAt).toBeNull()
    const before = Date.now()
    await receiver.handle(signedRequest())
    const { lastVerifiedAt } = await receiver.health()
    expect(lastVerifiedAt?.getTime()).toBeGreaterThanOrEqual(before)
    const [gauge] = await points('sendclean.webhook.last_verified.time')
    expect(gauge?.value).toBe((lastVerifiedAt?.getTime() ?? 0) / 1000)
  })
})

describe('the API given instead of found (Workers bundles)', () => {
  it("names the tracer with package.json's version, whatever it is", async () => {
    vi.resetModules()
    vi.doMock('../package.json', () => ({ name: 'sendclean-webhooks', version: '9.8.7' }))
    try {
      const fresh = await import('../src/index.js')
      const res = await fresh.createReceiver<undefined>(base()).handle(signedRequest())
      expect(res.status).toBe(200)
      const [root] = spans('sendclean.webhook.receive')
      expect(root?.instrumentationScope.version).toBe('9.8.7')
    } finally {
      vi.doUnmock('../package.json')
      vi.resetModules()
    }
  })

  it('uses the module passed as openTelemetry.api', async () => {
    const receiver = createReceiver<undefined>({
      ...base(),
      openTelemetry: { ...telemetry, api: api as unknown as OpenTelemetryApi },
    })
    await receiver.handle(signedRequest())
    expect(spans('sendclean.webhook.receive')).toHaveLength(1)
  })
})

describe('health() on every adapter', () => {
  it("is the receiver's, so a health route can sit next to the webhook route", async () => {
    const { createExpressMiddleware } = await import('../adapters/express.js')
    const { createKoaMiddleware } = await import('../adapters/koa.js')
    const { createHonoHandler } = await import('../adapters/hono.js')
    const { createNodeHandler } = await import('../adapters/node.js')
    const { createFetchHandler } = await import('../adapters/fetch.js')
    const all = [
      createExpressMiddleware({ keys: KEY }),
      createKoaMiddleware({ keys: KEY }),
      createHonoHandler({ keys: KEY }),
      createNodeHandler({ keys: KEY }),
      createFetchHandler({ keys: KEY }),
    ]
    for (const adapter of all)
      expect(await adapter.health()).toEqual({ ready: true, lastVerifiedAt: null })
    const failing = createExpressMiddleware({
      keys: KEY,
      queue: {
        sink: {
          enqueue: async () => {},
          ready: () => Promise.reject(new Error('Redis: ECONNREFUSED')),
        },
      },
    })
    expect(await failing.health()).toEqual({
      ready: false,
      lastVerifiedAt: null,
      queue: { ready: false, error: 'Redis: ECONNREFUSED' },
    })
  })
})

describe('without an SDK', () => {
  it('records nothing, and telemetry: false turns an SDK off', async () => {
    // No providers given and none registered globally: the API's no-ops.
    const quiet = createReceiver<undefined>({ keys: KEY, url: URL_REGISTERED })
    expect((await quiet.handle(signedRequest())).status).toBe(200)
    const off = createReceiver<undefined>({ ...base(), openTelemetry: false })
    expect((await off.handle(signedRequest())).status).toBe(200)
    expect(spans()).toEqual([])
    expect(await points('sendclean.webhook.requests')).toEqual([])
  })

  it('uses the global providers once an SDK registers them, with no option at all', async () => {
    const receiver = createReceiver<undefined>({ keys: KEY, url: URL_REGISTERED })
    await receiver.handle(signedRequest())
    expect(spans()).toEqual([])
    api.trace.setGlobalTracerProvider(telemetry.tracerProvider)
    api.metrics.setGlobalMeterProvider(telemetry.meterProvider)
    try {
      await receiver.handle(signedRequest())
      expect(spans('sendclean.webhook.receive')).toHaveLength(1)
      expect(await points('sendclean.webhook.requests')).toHaveLength(1)
    } finally {
      api.trace.disable()
      api.metrics.disable()
    }
  })
})

const redisUrl = inject('redisUrl')

describe.skipIf(!redisUrl)('queue mode: SendClean → receiver → Redis → worker, one trace', () => {
  const closers: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })
  afterAll(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  it('the worker span continues the receiving span, and the queue instruments have points', async () => {
    const prefix = `otel${process.pid}-${Date.now()}`
    const connection = { url: redisUrl }
    const queue = createQueue('events', { connection, prefix })
    closers.push(() => queue.close())
    const receiver = createReceiver<undefined>({
      keys: KEY,
      url: URL_REGISTERED,
      openTelemetry: telemetry,
      queue: { sink: bullmqSink(queue) },
    })
    expect((await receiver.health()).queue).toEqual({ ready: true })
    const handled: string[] = []
    const worker = createWorker(
      'events',
      { '*': (event) => void handled.push(event.event) },
      { connection, prefix, openTelemetry: telemetry },
    )
    closers.push(() => worker.close())
    expect((await receiver.handle(signedRequest())).status).toBe(200)
    const deadline = Date.now() + 10_000
    while (handled.length < SEED_EVENTS.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25))
    while (spans('sendclean.webhook.process').length < SEED_EVENTS.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25))

    const [receive] = spans('sendclean.webhook.receive')
    const enqueue = spans('sendclean.enqueue')
    expect(enqueue.map((s) => s.parentSpanContext?.spanId)).toEqual([receive?.spanContext().spanId])
    const processed = spans('sendclean.webhook.process')
    expect(processed).toHaveLength(SEED_EVENTS.length)
    for (const span of processed as ReadableSpan[]) {
      expect(span.spanContext().traceId).toBe(receive?.spanContext().traceId)
      expect(span.parentSpanContext?.spanId).toBe(receive?.spanContext().spanId)
      expect(span.links.map((l) => l.context.spanId)).toEqual([receive?.spanContext().spanId])
      expect(span.attributes).toMatchObject({
        'sendclean.event.outcome': 'handled',
        'sendclean.job.attempt': 1,
      })
    }
    expect((await points('sendclean.queue.enqueue.duration'))[0]?.attributes).toEqual({
      'sendclean.outcome': 'OK',
    })
    const ages = await points('sendclean.queue.job.age')
    expect(ages.map((p) => p.attributes['sendclean.event.type']).sort()).toEqual(
      [...new Set(SEED_EVENTS.map((e) => e.event))].sort(),
    )
    const enqueued = (await points('sendclean.webhook.events')).filter(
      (p) => p.attributes['sendclean.event.outcome'] === 'enqueued',
    )
    expect(enqueued.reduce((n, p) => n + Number(p.value), 0)).toBe(SEED_EVENTS.length)
  })

  it('health() is not ready while Redis is unreachable', async () => {
    const queue = createQueue('events', {
      connection: { host: '127.0.0.1', port: 1 },
      prefix: 'down',
    })
    queue.on('error', () => {})
    closers.push(() => queue.close().catch(() => {}))
    const receiver = createReceiver<undefined>({
      keys: KEY,
      queue: { sink: bullmqSink(queue), timeoutMs: 500 },
    })
    const health = await receiver.health()
    expect(health.ready).toBe(false)
    expect(health.queue?.ready).toBe(false)
    expect(health.queue?.error).toBeTruthy()
  })
})
