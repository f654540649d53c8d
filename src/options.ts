import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_FIELDS,
  DEFAULT_SIGNATURE_HEADER,
} from './constants.js'
import { configurationError } from './errors.js'
import { eventIdentity } from './event-identity.js'
import type { WebhookEvent } from './events.js'
import type { IdempotencyStore } from './idempotency.js'
import type { EventSink, KeySource, ReceiverOptions } from './types.js'

const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_IDEMPOTENCY_TTL_MS = 72 * 60 * 60 * 1000
const DEFAULT_QUEUE_TIMEOUT_MS = 5000
const DEFAULT_HOOK_TIMEOUT_MS = 5000

/** Options checked once, with every default filled in (the caller's object is left alone). */
export interface Config<C> {
  keys: KeySource<C>
  /** `keys` as a list, when it is a string: split once, not per request. */
  keyList: string[] | undefined
  url: ReceiverOptions<C>['url']
  trustProxy: boolean
  header: string
  field: string | undefined
  maxBodyBytes: number
  maxEvents: number
  maxFields: number
  bodyTimeoutMs: number
  handlerTimeoutMs: number
  store: IdempotencyStore | undefined
  ttlMs: number
  leaseMs: number
  identity: (event: WebhookEvent) => string | Promise<string>
  strict: boolean
  queue: { sink: EventSink; timeoutMs: number } | undefined
  onError: ReceiverOptions<C>['onError']
  hookTimeoutMs: number
  openTelemetry: ReceiverOptions<C>['openTelemetry']
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw configurationError(`\`${name}\` must be a positive integer`)
  }
  return value
}

function checkKeys(keys: unknown): void {
  if (keys === undefined || keys === null) {
    throw configurationError(
      '`keys` is required: pass the webhook key SendClean shows for this webhook, or [] until the webhook is added',
    )
  }
  const ok =
    typeof keys === 'string' ||
    typeof keys === 'function' ||
    (Array.isArray(keys) && keys.every((k) => typeof k === 'string'))
  if (!ok) throw configurationError('`keys` must be a string, an array of strings, or a function')
}

/**
 * The keys as a list. A string with commas is several keys (SendClean's keys are URL-safe
 * characters, never commas), so `keys: process.env.SENDCLEAN_WEBHOOK_KEY` carries a rotation
 * as `old,new`.
 */
export function normalizeKeys(keys: string | readonly string[] | null | undefined): string[] {
  if (keys === null || keys === undefined) return []
  const list = typeof keys === 'string' ? keys.split(',') : keys
  return list
    .filter((key): key is string => typeof key === 'string')
    .map((key) => key.trim())
    .filter((key) => key !== '')
}

/** Check the options and fill in defaults; misconfiguration throws here, not at the first request. */
export function resolveOptions<C>(options: ReceiverOptions<C>): Config<C> {
  if (typeof options !== 'object' || options === null) {
    throw configurationError('options are required, at least { keys }')
  }
  checkKeys(options.keys)
  const { url } = options
  if (url !== undefined && typeof url !== 'function') {
    if (typeof url !== 'string' || !/^https?:\/\/[^/?#\s]+/i.test(url)) {
      throw configurationError(
        '`url` must be the absolute http(s) URL registered with SendClean, or a function returning it',
      )
    }
  }
  const header = options.signatureHeader ?? DEFAULT_SIGNATURE_HEADER
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw configurationError('`signatureHeader` must be a header name')
  }
  if (
    options.eventsField !== undefined &&
    (typeof options.eventsField !== 'string' || options.eventsField === '')
  ) {
    throw configurationError('`eventsField` must be a non-empty string')
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw configurationError('`onError` must be a function')
  }
  const { idempotency } = options
  if (idempotency !== undefined) {
    const store = idempotency?.store
    if (
      typeof store?.claim !== 'function' ||
      typeof store.complete !== 'function' ||
      typeof store.release !== 'function'
    ) {
      throw configurationError(
        '`idempotency.store` must have claim(), complete() and release() (see IdempotencyStore)',
      )
    }
  }
  const telemetry = options.openTelemetry
  if (
    telemetry !== undefined &&
    telemetry !== false &&
    (typeof telemetry !== 'object' || telemetry === null)
  ) {
    throw configurationError('`openTelemetry` must be an object of options, or false')
  }
  if (options.identity !== undefined && typeof options.identity !== 'function') {
    throw configurationError('`identity` must be a function of the event')
  }
  if (options.queue !== undefined) {
    if (typeof options.queue?.sink?.enqueue !== 'function') {
      throw configurationError('`queue.sink` must have an enqueue() method')
    }
    if (options.on !== undefined || idempotency !== undefined) {
      throw configurationError(
        'in queue mode events are handled by workers: pass the handlers (and rely on job ids for de-duplication) there, not `on` or `idempotency` here',
      )
    }
  }
  const handlerTimeoutMs = positiveInteger(
    options.handlerTimeoutMs,
    'handlerTimeoutMs',
    DEFAULT_TIMEOUT_MS,
  )
  return {
    keys: options.keys,
    // An array stays the caller's: it is read per request, as before.
    keyList: typeof options.keys === 'string' ? normalizeKeys(options.keys) : undefined,
    url,
    trustProxy: options.trustProxy === true,
    header,
    field: options.eventsField,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES),
    maxEvents: positiveInteger(options.maxEvents, 'maxEvents', DEFAULT_MAX_EVENTS),
    maxFields: positiveInteger(options.maxFields, 'maxFields', DEFAULT_MAX_FIELDS),
    bodyTimeoutMs: positiveInteger(options.bodyTimeoutMs, 'bodyTimeoutMs', DEFAULT_TIMEOUT_MS),
    handlerTimeoutMs,
    store: idempotency?.store,
    ttlMs: positiveInteger(idempotency?.ttlMs, 'idempotency.ttlMs', DEFAULT_IDEMPOTENCY_TTL_MS),
    // Outlive the handler timeout, so a slow handler keeps its claim while its batch waits.
    leaseMs: positiveInteger(idempotency?.leaseMs, 'idempotency.leaseMs', 2 * handlerTimeoutMs),
    identity: options.identity ?? eventIdentity,
    strict: options.strict === true,
    queue: options.queue && {
      sink: options.queue.sink,
      timeoutMs: positiveInteger(
        options.queue.timeoutMs,
        'queue.timeoutMs',
        DEFAULT_QUEUE_TIMEOUT_MS,
      ),
    },
    onError: options.onError,
    hookTimeoutMs: positiveInteger(options.hookTimeoutMs, 'hookTimeoutMs', DEFAULT_HOOK_TIMEOUT_MS),
    openTelemetry: telemetry,
  }
}
