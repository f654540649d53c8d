import type { WebhookError } from './errors.js'
import type { WebhookEvent } from './events.js'
import type { HandlerMap } from './handlers.js'
import type { IdempotencyStore } from './idempotency.js'
import type { RequestBody } from './read-body.js'
import type { OtelSpanContext, TelemetryOptions } from './telemetry.js'

/** Reads a request header, case-insensitively. A Web `Headers` object is one. */
export interface HeaderReader {
  get(name: string): string | null | undefined
}

/** What an adapter hands the core: a request, framework-free. */
export interface WebhookRequest<C = unknown> {
  /** HTTP method, any case. */
  method: string
  /** The absolute URL the request arrived at, as the server saw it (scheme, Host header, path, query). */
  url: string
  headers: HeaderReader
  body: RequestBody
  /** The framework's own context, passed on to handlers and the error hook. */
  context: C
  /** Which integration built the request (`express`, `koa`, …), for telemetry. */
  adapter?: string
}

/** For a health endpoint: see the README, "Observability". */
export interface ReceiverHealth {
  /** False while the queue (queue mode) cannot take a batch; always true in process. */
  ready: boolean
  /** When a batch with events last passed its signature check in this process. */
  lastVerifiedAt: Date | null
  /** Queue mode: whether the queue answered, and why not. */
  queue?: { ready: boolean; error?: string }
}

/** What the core answers; adapters write it out as is. */
export interface WebhookResponse {
  status: number
  headers: Record<string, string>
  /** Empty for HEAD. */
  body: string
}

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

/** What the `keys` and `url` resolvers are given. */
export interface RequestInfo<C = unknown> {
  /** The URL the request arrived at (after `trustProxy`). */
  url: string
  headers: HeaderReader
  context: C
}

export type MaybePromise<T> = T | Promise<T>

/** One key, several (during a rotation), or a per-request resolver. */
export type KeySource<C> =
  | string
  | readonly string[]
  | ((request: RequestInfo<C>) => MaybePromise<string | readonly string[] | null | undefined>)

/** Options shared by the core and every adapter. */
export interface ReceiverOptions<C = unknown> {
  /**
   * The webhook key(s) from SendClean (`key` in `listWebhook`). Several keys are tried in turn,
   * for rotations; a function resolves them per request (keys kept in a database, several
   * webhooks in one app). Pass `[]` until the webhook exists: the handshake is still answered,
   * events are refused.
   */
  keys: KeySource<C>
  /**
   * The URL exactly as registered with SendClean; it is part of what is signed.
   * Default: the URL the request arrived at (see `trustProxy`).
   */
  url?: string | ((request: RequestInfo<C>) => MaybePromise<string>)
  /** Build the default URL from `X-Forwarded-Proto` / `X-Forwarded-Host`. Only behind a proxy you trust. Default false. */
  trustProxy?: boolean
  /** Default `X-SendCleanTES-Signature`. */
  signatureHeader?: string
  /** The form field with the events. Default `SendCleantes_events`, else the one field ending in `_events`. */
  eventsField?: string
  /** Largest body accepted, in bytes; larger is answered 413. Default 4 MiB (a 1000-event batch is about 0.5 MB). */
  maxBodyBytes?: number
  /**
   * Most fields in a form body; more is answered 413 before any field is decoded. SendClean
   * sends one. Default 32.
   */
  maxFields?: number
  /** Most events in one batch; more is answered 413. Default 10,000. */
  maxEvents?: number
  /** The body must arrive within this many ms, else 408. Default 30 s. */
  bodyTimeoutMs?: number
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
  /** Handlers by event type; `on()` adds more. */
  on?: HandlerMap<C>
  /**
   * Called with every error before it is answered (switch on `error.code`). Without it,
   * 5xx errors (with their cause) and URL mismatches are written to `console.error` (never
   * any key).
   *
   * For a `HANDLER_FAILED` error, return `'skip'` to give up on that event: the batch goes on,
   * and the event is recorded as skipped in the idempotency store (when there is one).
   *
   * The hook is awaited for at most `hookTimeoutMs`; past that the answer goes out without it.
   */
  onError?: (error: WebhookError, context: C) => unknown
  /** How long the error hook may hold an answer, in ms. Default 5 s. */
  hookTimeoutMs?: number
  /**
   * OpenTelemetry traces and metrics (README, "Observability"). By default they go to the
   * global providers whenever `@opentelemetry/api` is installed and an SDK is registered;
   * nothing is recorded otherwise. `false` turns them off.
   */
  openTelemetry?: TelemetryOptions | false
}
