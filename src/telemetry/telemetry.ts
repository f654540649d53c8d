/**
 * OpenTelemetry, through `@opentelemetry/api` only, found at run time: the core never imports
 * it (no static import, no dynamic `import()`: Workers bundlers refuse a specifier they cannot
 * resolve), so it runs and bundles where the package is absent, and then costs one check per
 * request. With the API present but no SDK registered, a request costs two lookups.
 *
 * The types below are the few parts of the API this file uses, so the package's own types do
 * not need `@opentelemetry/api` installed.
 */

import { optionalPeer } from '#platform'
import { name, version } from '../../package.json'
import type { WebhookEvent } from '../events/schemas.js'

type Attributes = Record<string, string | number | boolean>

/** A span's identity, as `@opentelemetry/api` gives it (for links from worker spans). */
export interface OtelSpanContext {
  traceId: string
  spanId: string
  traceFlags: number
  isRemote?: boolean
}

export interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown
  setStatus(status: { code: number; message?: string }): unknown
  isRecording(): boolean
  spanContext(): OtelSpanContext
  end(): void
}

/** A tracer provider, as `@opentelemetry/api` defines it (pass your SDK's to `telemetry`). */
export interface OtelTracerProvider {
  getTracer(name: string, version?: string): OtelTracer
}

interface OtelTracer {
  startSpan(
    name: string,
    options?: {
      kind?: number
      attributes?: Attributes
      links?: Array<{ context: OtelSpanContext }>
    },
    context?: unknown,
  ): OtelSpan
}

/** A meter provider, as `@opentelemetry/api` defines it (pass your SDK's to `telemetry`). */
export interface OtelMeterProvider {
  getMeter(name: string, version?: string): OtelMeter
}

interface Instrument {
  add?(value: number, attributes?: Attributes): void
  record?(value: number, attributes?: Attributes): void
}

interface OtelMeter {
  createCounter(name: string, options?: { description?: string; unit?: string }): Instrument
  createHistogram(name: string, options?: { description?: string; unit?: string }): Instrument
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): { addCallback(callback: (result: { observe(value: number): void }) => void): void }
}

/** The parts of `@opentelemetry/api` used here. */
export interface OpenTelemetryApi {
  trace: {
    getTracerProvider(): OtelTracerProvider
    setSpan(context: unknown, span: OtelSpan): unknown
    setSpanContext(context: unknown, spanContext: OtelSpanContext): unknown
  }
  metrics: { getMeterProvider(): OtelMeterProvider }
  context: {
    active(): unknown
    with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
      context: unknown,
      fn: F,
      thisArg?: unknown,
      ...args: A
    ): ReturnType<F>
  }
  ProxyTracerProvider: new () => { getDelegate(): OtelTracerProvider }
  createNoopMeter(): object
  ROOT_CONTEXT: unknown
}

/** How the package reports to OpenTelemetry. See the README, "Observability". */
export interface TelemetryOptions {
  /**
   * The `@opentelemetry/api` module. Found by name when omitted; pass it where a bundle cannot
   * import it by name (Cloudflare Workers): `api: await import('@opentelemetry/api')`.
   */
  api?: OpenTelemetryApi
  /** Instead of the global tracer provider. */
  tracerProvider?: OtelTracerProvider
  /** Instead of the global meter provider. */
  meterProvider?: OtelMeterProvider
}

/** SpanKind and SpanStatusCode values (stable in the API). */
const CONSUMER = 4
const STATUS_ERROR = 2

// The package's name and version, taken from package.json when the package is built.
const NAME = name
const VERSION = version

let found: { api: OpenTelemetryApi | undefined } | undefined

/**
 * `@opentelemetry/api` when it is installed, loaded once per process through the platform's
 * `require` (Node, Bun and Deno). Elsewhere (Workers) pass it as `openTelemetry.api`. The SDK registers its providers in the API's global
 * registry, which every copy of the API 1.x shares, so this copy sees them.
 */
export function findOpenTelemetry(): OpenTelemetryApi | undefined {
  found ??= { api: load() }
  return found.api
}

function load(): OpenTelemetryApi | undefined {
  const api = optionalPeer('@opentelemetry/api') as OpenTelemetryApi | undefined
  return typeof api?.trace?.getTracerProvider === 'function' ? api : undefined
}

/** Seconds since `start` (a `performance.now()` reading). */
const since = (start: number) => (performance.now() - start) / 1000

/** The instruments, the tracer, and how to tell whether either is live. */
export class Telemetry {
  readonly #api: OpenTelemetryApi
  readonly #options: TelemetryOptions
  /** The API's own no-op provider and meter, to tell "no SDK registered" cheaply. */
  readonly #noopTracerProvider: OtelTracerProvider
  readonly #noopMeterPrototype: object
  #tracerFrom: OtelTracerProvider | undefined
  #tracer: OtelTracer | undefined
  #meterFrom: OtelMeterProvider | undefined
  #instruments: Instruments | undefined
  /** When the last batch passed its signature check (ms since the epoch), for the gauge. */
  readonly #lastVerified: () => number | undefined

  constructor(
    api: OpenTelemetryApi,
    options: TelemetryOptions,
    lastVerified: () => number | undefined,
  ) {
    this.#api = api
    this.#options = options
    this.#lastVerified = lastVerified
    this.#noopTracerProvider = new api.ProxyTracerProvider().getDelegate()
    this.#noopMeterPrototype = Object.getPrototypeOf(api.createNoopMeter())
  }

  /** The tracer, or undefined while no SDK is registered. Follows a provider set later. */
  tracer(): OtelTracer | undefined {
    const provider = this.#options.tracerProvider ?? this.#api.trace.getTracerProvider()
    // The global provider is a proxy whose delegate an SDK sets later: compare the delegate.
    const delegate =
      (provider as { getDelegate?: () => OtelTracerProvider }).getDelegate?.() ?? provider
    if (delegate !== this.#tracerFrom) {
      this.#tracerFrom = delegate
      this.#tracer =
        delegate === this.#noopTracerProvider ? undefined : provider.getTracer(NAME, VERSION)
    }
    return this.#tracer
  }

  /** The instruments, or undefined while no SDK is registered. */
  instruments(): Instruments | undefined {
    const provider = this.#options.meterProvider ?? this.#api.metrics.getMeterProvider()
    if (provider !== this.#meterFrom) {
      this.#meterFrom = provider
      const meter = provider.getMeter(NAME, VERSION)
      this.#instruments =
        Object.getPrototypeOf(meter) === this.#noopMeterPrototype
          ? undefined
          : createInstruments(meter, this.#lastVerified)
    }
    return this.#instruments
  }

  /**
   * Start observing one queued job in a worker: a span that continues the receiving request's
   * trace (its parent, and a link), the job's age, and its handlers' time and outcome.
   */
  beginJob(job: {
    type: string
    id: string | undefined
    attempt: number
    enqueuedAt: number
    trace: OtelSpanContext | undefined
  }): JobObservation | undefined {
    const tracer = this.tracer()
    const instruments = this.instruments()
    if (!tracer && !instruments) return undefined
    const api = this.#api
    instruments?.jobAge.record?.((Date.now() - job.enqueuedAt) / 1000, {
      'sendclean.event.type': job.type,
    })
    const remote = job.trace && { ...job.trace, isRemote: true }
    const parent = remote
      ? api.trace.setSpanContext(api.ROOT_CONTEXT, remote)
      : api.context.active()
    const span = tracer?.startSpan(
      'sendclean.webhook.process',
      {
        kind: CONSUMER,
        attributes: {
          'messaging.system': 'sendclean',
          'sendclean.event.type': job.type,
          'sendclean.job.attempt': job.attempt,
          ...(job.id === undefined ? {} : { 'messaging.message.id': job.id }),
        },
        ...(remote ? { links: [{ context: remote }] } : {}),
      },
      parent,
    )
    const watch: EventObservation = {
      span,
      context: span ? api.trace.setSpan(parent, span) : undefined,
      start: performance.now(),
      type: job.type,
    }
    return {
      run: (fn) => withContext(api, watch.context, fn),
      end: (outcome) => endEvent(instruments, watch, outcome, true),
    }
  }

  /** Start observing one request; undefined when neither traces nor metrics are recorded. */
  begin(adapter: string | undefined): Observation | undefined {
    const tracer = this.tracer()
    const instruments = this.instruments()
    if (!tracer && !instruments) return undefined
    return new Observation(this.#api, tracer, instruments, adapter)
  }
}

export type Instruments = ReturnType<typeof createInstruments>

function createInstruments(meter: OtelMeter, lastVerified: () => number | undefined) {
  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { unit, description })
  const histogram = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description })
  meter
    .createObservableGauge('sendclean.webhook.last_verified.time', {
      unit: 's',
      description: 'When a batch last passed its signature check (Unix time)',
    })
    .addCallback((result) => {
      const at = lastVerified()
      if (at !== undefined) result.observe(at / 1000)
    })
  return {
    requests: counter(
      'sendclean.webhook.requests',
      '{request}',
      'Requests answered, by status and outcome',
    ),
    requestDuration: histogram('sendclean.webhook.request.duration', 'Time to answer a request'),
    verifyDuration: histogram('sendclean.webhook.verify.duration', 'Time to check a signature'),
    events: counter('sendclean.webhook.events', '{event}', 'Events by type and outcome'),
    handlerDuration: histogram('sendclean.webhook.handler.duration', "Time in an event's handlers"),
    enqueueDuration: histogram(
      'sendclean.queue.enqueue.duration',
      'Time for the queue to take a batch',
    ),
    jobAge: histogram('sendclean.queue.job.age', 'Time from enqueue to a worker starting the job'),
  }
}

/** What became of an event (the `sendclean.event.outcome` attribute). */
export type EventOutcomeName =
  | 'handled'
  | 'duplicate'
  | 'invalid'
  | 'unknown'
  | 'failed'
  | 'skipped'
  | 'enqueued'

/**
 * The `sendclean.event.type` of an event: one of the seven known types, `unknown` or `invalid`,
 * never the sender's own `event` text (an attribute carries no payload, and a metric's series
 * stay bounded whatever the sender sends).
 */
export const eventTypeName = (event: WebhookEvent): string => event.event

/** What became of an event whose handlers ran to the end. */
export const settledOutcome = (event: WebhookEvent): EventOutcomeName =>
  event.event === 'invalid' || event.event === 'unknown' ? event.event : 'handled'

function withContext<T>(api: OpenTelemetryApi, context: unknown, fn: () => T): T {
  return context === undefined ? fn() : api.context.with(context, fn)
}

/** An event's data points, and its span ended with the outcome. */
function endEvent(
  instruments: Instruments | undefined,
  event: EventObservation,
  outcome: EventOutcomeName,
  ran: boolean,
): void {
  const attributes = { 'sendclean.event.type': event.type, 'sendclean.event.outcome': outcome }
  if (ran) instruments?.handlerDuration.record?.(since(event.start), attributes)
  instruments?.events.add?.(1, attributes)
  const { span } = event
  if (!span) return
  span.setAttribute('sendclean.event.outcome', outcome)
  if (outcome === 'failed') span.setStatus({ code: STATUS_ERROR, message: 'failed' })
  span.end()
}

/**
 * `fn` as a step of an observed request (`Observation.step`), or just `fn` when the request is
 * not observed.
 */
export function step<T>(
  observation: Observation | undefined,
  name: string,
  fn: () => T,
  duration?: 'verifyDuration' | 'enqueueDuration',
): T {
  if (!observation) return fn()
  return observation.step(name, fn, duration && observation.instruments?.[duration])
}

/** One queued job in a worker. */
export interface JobObservation {
  run<T>(fn: () => T): T
  end(outcome: EventOutcomeName): void
}

/** Telemetry for a receiver or worker: through the API given or found, or none. */
export function telemetryFor(
  option: TelemetryOptions | false | undefined,
  lastVerified: () => number | undefined = () => undefined,
): Telemetry | undefined {
  if (option === false) return undefined
  const options = option ?? {}
  const api = options.api ?? findOpenTelemetry()
  return api ? new Telemetry(api, options, lastVerified) : undefined
}

/** One event being run: its span (when tracing) and start time. */
export interface EventObservation {
  readonly span: OtelSpan | undefined
  readonly context: unknown
  readonly start: number
  readonly type: string
}

/** One request: its span and children, and its data points. */
export class Observation {
  readonly #api: OpenTelemetryApi
  readonly #tracer: OtelTracer | undefined
  readonly #instruments: Instruments | undefined
  readonly #adapter: string
  readonly #start = performance.now()
  readonly span: OtelSpan | undefined
  readonly context: unknown
  /** Set as the request goes: what it was answered (`OK`, `HANDSHAKE`, an error code). */
  outcome = 'OK'
  /** Events in the verified batch. */
  events = 0
  /** Body bytes read. */
  bytes: number | undefined

  constructor(
    api: OpenTelemetryApi,
    tracer: OtelTracer | undefined,
    instruments: Instruments | undefined,
    adapter: string | undefined,
  ) {
    this.#api = api
    this.#instruments = instruments
    this.#adapter = adapter ?? 'core'
    const span = tracer?.startSpan('sendclean.webhook.receive', {
      kind: CONSUMER,
      attributes: { 'messaging.system': 'sendclean', 'sendclean.adapter': this.#adapter },
    })
    // Sampled out: no children either.
    this.#tracer = span?.isRecording() ? tracer : undefined
    this.span = this.#tracer ? span : undefined
    this.context = this.span ? api.trace.setSpan(api.context.active(), this.span) : undefined
  }

  /** Run `fn` with this request's span active (so the app's own spans nest under it). */
  run<T>(fn: () => T): T {
    return withContext(this.#api, this.context, fn)
  }

  /**
   * A step of the request as a child span (`sendclean.body.read`, `.verify`, `.validate`,
   * `.enqueue`); `duration` gets its time with the outcome. Synchronous steps stay synchronous.
   */
  step<T>(name: string, fn: () => T, duration?: Instrument): T {
    const start = performance.now()
    const span = this.#tracer?.startSpan(name, undefined, this.context)
    const done = (outcome: string, error?: unknown) => {
      duration?.record?.(since(start), { 'sendclean.outcome': outcome })
      if (span) {
        if (error !== undefined) {
          span.setAttribute('sendclean.outcome', outcome)
          span.setStatus({ code: STATUS_ERROR, message: outcome })
        }
        span.end()
      }
    }
    const fail = (error: unknown): never => {
      done(codeOf(error), error)
      throw error
    }
    let result: T
    try {
      result = span ? this.#api.context.with(this.#api.trace.setSpan(this.context, span), fn) : fn()
    } catch (error) {
      return fail(error)
    }
    if (result instanceof Promise) {
      return result.then((value) => {
        done('OK')
        return value
      }, fail) as T
    }
    done('OK')
    return result
  }

  get instruments(): Instruments | undefined {
    return this.#instruments
  }

  /** The span context for a queued job: the worker's span continues this trace. */
  carrier(): OtelSpanContext | undefined {
    if (!this.span) return undefined
    const { traceId, spanId, traceFlags } = this.span.spanContext()
    return { traceId, spanId, traceFlags }
  }

  /** An event's handlers start. */
  eventStart(event: WebhookEvent, index: number): EventObservation {
    const type = eventTypeName(event)
    const span = this.#tracer?.startSpan(
      'sendclean.handler',
      { attributes: { 'sendclean.event.type': type, 'sendclean.event.index': index } },
      this.context,
    )
    const context = span ? this.#api.trace.setSpan(this.context, span) : undefined
    return { span, context, start: performance.now(), type }
  }

  /** Run an event's handlers inside its span. */
  within<T>(event: EventObservation, fn: () => T): T {
    return withContext(this.#api, event.context, fn)
  }

  /** An event's handlers are done: `ran` when they ran (a duplicate's did not). */
  eventEnd(event: EventObservation, outcome: EventOutcomeName, ran: boolean): void {
    endEvent(this.#instruments, event, outcome, ran)
  }

  /** Events that were taken by the queue, or refused before running (strict mode). */
  countEvents(events: readonly WebhookEvent[], outcome: EventOutcomeName): void {
    for (const event of events) {
      this.#instruments?.events.add?.(1, {
        'sendclean.event.type': eventTypeName(event),
        'sendclean.event.outcome': outcome,
      })
    }
  }

  /** The answer: `outcome` is `OK`, `HANDSHAKE` or the error code. */
  end(status: number, outcome: string, events: number, bodyBytes: number | undefined): void {
    const attributes = {
      'http.response.status_code': status,
      'sendclean.outcome': outcome,
      'sendclean.adapter': this.#adapter,
    }
    this.#instruments?.requests.add?.(1, attributes)
    this.#instruments?.requestDuration.record?.(since(this.#start), attributes)
    const span = this.span
    if (!span) return
    span.setAttribute('http.response.status_code', status)
    span.setAttribute('sendclean.outcome', outcome)
    span.setAttribute('messaging.batch.message_count', events)
    if (bodyBytes !== undefined) span.setAttribute('http.request.body.size', bodyBytes)
    if (status >= 500) span.setStatus({ code: STATUS_ERROR, message: outcome })
    span.end()
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' ? code : 'INTERNAL_ERROR'
}
