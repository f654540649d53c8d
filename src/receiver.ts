import {
  ALLOWED_METHODS,
  DEFAULT_EVENTS_FIELD,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENTS,
  DEFAULT_SIGNATURE_HEADER,
  HANDSHAKE_BODY,
} from './constants.js'
import {
  ConfigurationError,
  HandlerError,
  InternalError,
  RequestError,
  SignatureError,
  WebhookError,
} from './errors.js'
import { eventIdentity, parseEvent, type WebhookEvent } from './events.js'
import { decodeForm, type FormField } from './form.js'
import { type HandlerMap, HandlerRegistry, type On } from './handlers.js'
import type { SignedPart } from './hmac.js'
import type { EventOutcome, IdempotencyStore } from './idempotency.js'
import { ParsedBody, type RequestBody, readBody, tooLarge } from './read-body.js'
import { formSignedParts, jsonSignedParts, matchesAnyKey } from './signature.js'
import { alternativeUrls, forwardedUrl } from './url.js'

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
}

/** Where queue mode puts batches. Resolve only once every event is durably stored. */
export interface EventSink {
  enqueue(events: readonly QueuedEvent[]): Promise<void>
}

/** What the `keys` and `url` resolvers are given. */
export interface RequestInfo<C = unknown> {
  /** The URL the request arrived at (after `trustProxy`). */
  url: string
  headers: HeaderReader
  context: C
}

type MaybePromise<T> = T | Promise<T>

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
  /** Largest body accepted, in bytes; larger is answered 413. Default 10 MiB. */
  maxBodyBytes?: number
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
   * Skip events already handled (retries, replays): `store` remembers each event's
   * {@link eventIdentity} for `ttlMs` (default 72 h) after its handlers succeed.
   */
  idempotency?: { store: IdempotencyStore; ttlMs?: number }
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
   * 5xx errors and URL mismatches are written to `console.error` (never any key).
   *
   * For a `HANDLER_FAILED` error, return `'skip'` to give up on that event: the batch goes on,
   * and the event is recorded as skipped in the idempotency store (when there is one).
   */
  onError?: (error: WebhookError, context: C) => unknown
}

type Signed = (url: string) => SignedPart[]
/** A batch that passed decoding: what to sign, and the events (raw). */
interface Batch {
  signed: Signed
  events: () => unknown
}

const TEXT = 'text/plain; charset=utf-8'
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_IDEMPOTENCY_TTL_MS = 72 * 60 * 60 * 1000
const utf8 = new TextDecoder()
const encoder = new TextEncoder()
const EMPTY_ARRAY = /^\s*\[\s*\]\s*$/
const HANDSHAKE_LENGTH = String(encoder.encode(HANDSHAKE_BODY).length)

function handshake(head: boolean): WebhookResponse {
  return {
    status: 200,
    headers: { 'content-type': TEXT, 'content-length': HANDSHAKE_LENGTH },
    body: head ? '' : HANDSHAKE_BODY,
  }
}

function errorResponse(error: WebhookError): WebhookResponse {
  const headers: Record<string, string> = {
    'content-type': TEXT,
    'content-length': String(encoder.encode(error.message).length),
  }
  if (error.status === 405) headers.allow = ALLOWED_METHODS
  return { status: error.status, headers, body: error.message }
}

function malformed(message: string): RequestError {
  return new RequestError('MALFORMED_PAYLOAD', message)
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw malformed(`${what} is not valid JSON (${(error as Error).message})`)
  }
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigurationError(`\`${name}\` must be a positive integer`)
  }
  return value
}

function checkKeys(keys: unknown): void {
  if (keys === undefined || keys === null) {
    throw new ConfigurationError(
      '`keys` is required: pass the webhook key SendClean shows for this webhook, or [] until the webhook is added',
    )
  }
  const ok =
    typeof keys === 'string' ||
    typeof keys === 'function' ||
    (Array.isArray(keys) && keys.every((k) => typeof k === 'string'))
  if (!ok)
    throw new ConfigurationError('`keys` must be a string, an array of strings, or a function')
}

function normalizeKeys(keys: string | readonly string[] | null | undefined): string[] {
  if (keys === null || keys === undefined) return []
  if (typeof keys === 'string') return keys === '' ? [] : [keys]
  return keys.filter((key) => typeof key === 'string' && key !== '')
}

/**
 * The framework-free receiver: verifies, answers the handshake, parses and dispatches.
 * Adapters wrap `handle()`; use it directly for a framework without an adapter.
 *
 * @example
 * const receiver = createReceiver({ keys: process.env.SENDCLEAN_WEBHOOK_KEY ?? [] })
 *   .on('hard_bounce', (event) => suppress(event.msg.bounceDesc))
 * const { status, headers, body } = await receiver.handle({ method, url, headers, body, context })
 */
export class Receiver<C = unknown> {
  /** Add a handler for one event type, several, `unknown` or `*`. Chainable. */
  readonly on: On<C, this>
  readonly #keys: KeySource<C>
  readonly #url: ReceiverOptions<C>['url']
  readonly #trustProxy: boolean
  readonly #header: string
  readonly #field: string | undefined
  /** Largest body accepted, in bytes. */
  readonly maxBodyBytes: number
  readonly #maxEvents: number
  readonly #bodyTimeoutMs: number
  readonly #handlerTimeoutMs: number
  readonly #store: IdempotencyStore | undefined
  readonly #ttlMs: number
  readonly #queue: { sink: EventSink; timeoutMs: number } | undefined
  readonly #onError: ReceiverOptions<C>['onError']
  /** Errors already passed to the hook (handler failures are reported where they happen). */
  readonly #reported = new WeakSet<WebhookError>()
  readonly #handlers = new HandlerRegistry<C>()

  constructor(options: ReceiverOptions<C>) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options are required, at least { keys }')
    }
    checkKeys(options.keys)
    const { url } = options
    if (url !== undefined && typeof url !== 'function') {
      if (typeof url !== 'string' || !/^https?:\/\/[^/?#\s]+/i.test(url)) {
        throw new ConfigurationError(
          '`url` must be the absolute http(s) URL registered with SendClean, or a function returning it',
        )
      }
    }
    const header = options.signatureHeader ?? DEFAULT_SIGNATURE_HEADER
    if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
      throw new ConfigurationError('`signatureHeader` must be a header name')
    }
    if (
      options.eventsField !== undefined &&
      (typeof options.eventsField !== 'string' || options.eventsField === '')
    ) {
      throw new ConfigurationError('`eventsField` must be a non-empty string')
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new ConfigurationError('`onError` must be a function')
    }
    this.#keys = options.keys
    this.#url = url
    this.#trustProxy = options.trustProxy === true
    this.#header = header
    this.#field = options.eventsField
    this.maxBodyBytes = positiveInteger(
      options.maxBodyBytes,
      'maxBodyBytes',
      DEFAULT_MAX_BODY_BYTES,
    )
    this.#maxEvents = positiveInteger(options.maxEvents, 'maxEvents', DEFAULT_MAX_EVENTS)
    this.#bodyTimeoutMs = positiveInteger(
      options.bodyTimeoutMs,
      'bodyTimeoutMs',
      DEFAULT_TIMEOUT_MS,
    )
    this.#handlerTimeoutMs = positiveInteger(
      options.handlerTimeoutMs,
      'handlerTimeoutMs',
      DEFAULT_TIMEOUT_MS,
    )
    const { idempotency } = options
    if (idempotency !== undefined) {
      const store = idempotency?.store
      if (typeof store?.has !== 'function' || typeof store.mark !== 'function') {
        throw new ConfigurationError('`idempotency.store` must have has() and mark()')
      }
    }
    this.#store = idempotency?.store
    this.#ttlMs = positiveInteger(
      idempotency?.ttlMs,
      'idempotency.ttlMs',
      DEFAULT_IDEMPOTENCY_TTL_MS,
    )
    this.#onError = options.onError
    if (options.queue !== undefined) {
      if (typeof options.queue?.sink?.enqueue !== 'function') {
        throw new ConfigurationError('`queue.sink` must have an enqueue() method')
      }
      if (options.on !== undefined || idempotency !== undefined) {
        throw new ConfigurationError(
          'in queue mode events are handled by workers: pass the handlers (and rely on job ids for de-duplication) there, not `on` or `idempotency` here',
        )
      }
      this.#queue = {
        sink: options.queue.sink,
        timeoutMs: positiveInteger(options.queue.timeoutMs, 'queue.timeoutMs', 5000),
      }
    }
    this.#handlers.addMap(options.on)
    this.on = ((types: string | readonly string[], handler: unknown) => {
      if (this.#queue) {
        throw new ConfigurationError(
          'in queue mode events are handled by workers: register handlers there',
        )
      }
      this.#handlers.add(types, handler)
      return this
    }) as On<C, this>
  }

  /** Answer one request. Never throws: every failure becomes a status (SPEC §5). */
  async handle(request: WebhookRequest<C>): Promise<WebhookResponse> {
    try {
      return await this.#handle(request)
    } catch (caught) {
      const error =
        caught instanceof WebhookError
          ? caught
          : new InternalError('unexpected failure while handling the request', caught)
      if (!this.#reported.has(error)) await this.#report(error, request.context)
      return errorResponse(error)
    }
  }

  /** Tell the error hook (or the default log); returns what the hook returned. */
  async #report(error: WebhookError, context: C): Promise<unknown> {
    this.#reported.add(error)
    if (this.#onError) {
      try {
        return await this.#onError(error, context)
      } catch {
        // An error hook that fails must not change the answer SendClean gets.
        return undefined
      }
    }
    if (error.status >= 500 || error.code === 'URL_MISMATCH') console.error(error.message)
    return undefined
  }

  async #handle(request: WebhookRequest<C>): Promise<WebhookResponse> {
    const method = request.method.toUpperCase()
    if (method === 'GET' || method === 'HEAD') return handshake(method === 'HEAD')
    if (method !== 'POST') {
      throw new RequestError(
        'METHOD_NOT_ALLOWED',
        `method ${method} is not allowed; SendClean sends GET, HEAD and POST`,
      )
    }
    const { headers } = request
    const encoding = headers.get('content-encoding')?.trim().toLowerCase()
    if (encoding && encoding !== 'identity') {
      throw new RequestError(
        'UNSUPPORTED_MEDIA_TYPE',
        `content-encoding "${encoding}" is not supported`,
      )
    }
    const length = headers.get('content-length')
    if (length && Number(length) > this.maxBodyBytes) throw tooLarge(this.maxBodyBytes)

    const body = await readBody(request.body, this.maxBodyBytes, this.#bodyTimeoutMs)
    const batch = this.#decode(body, headers.get('content-type'))
    if (!batch) return handshake(false)

    await this.#verify(request, batch.signed)

    const raw = batch.events()
    if (!Array.isArray(raw)) throw malformed('the events field is not a JSON array')
    if (raw.length === 0) return handshake(false)
    if (raw.length > this.#maxEvents) {
      throw new RequestError(
        'PAYLOAD_TOO_LARGE',
        `the batch has ${raw.length} events, more than the limit of ${this.#maxEvents} (maxEvents)`,
      )
    }
    await this.#dispatch(raw, request.context)
    return handshake(false)
  }

  /** Decode the body into what is signed and the events; undefined for a handshake POST. */
  #decode(
    body: Uint8Array | ParsedBody,
    contentType: string | null | undefined,
  ): Batch | undefined {
    const [type, ...params] = (contentType ?? '').split(';')
    const media = type?.trim().toLowerCase() ?? ''
    const isForm = media === 'application/x-www-form-urlencoded'
    const isJson = media === 'application/json' || media.endsWith('+json')

    if (body instanceof ParsedBody) {
      if (isForm && body.value !== undefined) return this.#fromFields(fieldsFromParsed(body.value))
      throw new RequestError(
        'BODY_CONSUMED',
        `a body parser consumed the ${isJson ? 'JSON ' : ''}body and left no raw copy, so its signature cannot be checked; ${body.hint}`,
      )
    }
    if (body.length === 0) return undefined
    if (!isForm && !isJson) {
      throw new RequestError(
        'UNSUPPORTED_MEDIA_TYPE',
        `content-type "${media || '(none)'}" is not supported; SendClean posts application/x-www-form-urlencoded`,
      )
    }
    for (const param of params) {
      const [name, value] = param.split('=')
      if (name?.trim().toLowerCase() !== 'charset') continue
      const charset = value?.trim().replace(/^"|"$/g, '').toLowerCase()
      if (charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
        throw new RequestError(
          'UNSUPPORTED_MEDIA_TYPE',
          `charset "${charset}" is not supported; use utf-8`,
        )
      }
    }
    return isForm ? this.#fromFields(decodeForm(body)) : this.#fromJson(body)
  }

  #eventsKey(names: readonly string[]): string | undefined {
    if (this.#field !== undefined) return names.includes(this.#field) ? this.#field : undefined
    if (names.includes(DEFAULT_EVENTS_FIELD)) return DEFAULT_EVENTS_FIELD
    const candidates = names.filter((name) => name.toLowerCase().endsWith('_events'))
    if (candidates.length > 1) {
      throw malformed(
        `several fields could hold the events (${candidates.join(', ')}); set \`eventsField\` to the right one`,
      )
    }
    return candidates[0]
  }

  #fromFields(fields: FormField[]): Batch | undefined {
    const names = fields.map((field) => field.name)
    if (new Set(names).size !== names.length) {
      const twice = names.find((name, i) => names.indexOf(name) !== i)
      throw malformed(
        `the form field "${twice}" appears more than once, so the request is ambiguous`,
      )
    }
    const key = this.#eventsKey(names)
    const value = fields.find((field) => field.name === key)?.value
    if (value === undefined) return undefined
    const text = utf8.decode(value)
    if (text.trim() === '' || EMPTY_ARRAY.test(text)) return undefined
    return {
      signed: (url) => formSignedParts(url, fields),
      // Parsed only after the signature is checked.
      events: () => parseJson(text, `the ${key} field`),
    }
  }

  #fromJson(body: Uint8Array): Batch | undefined {
    // A JSON body must be parsed before verifying, to tell a handshake (no events) from a batch.
    const parsed = parseJson(utf8.decode(body), 'the body')
    let events: unknown = parsed
    if (!Array.isArray(parsed)) {
      if (typeof parsed !== 'object' || parsed === null) {
        throw malformed(
          'a JSON body must be an array of events or an object with an *_events field',
        )
      }
      const key = this.#eventsKey(Object.keys(parsed))
      if (key === undefined) return undefined
      events = (parsed as Record<string, unknown>)[key]
      if (typeof events === 'string') {
        if (events.trim() === '') return undefined
        events = parseJson(events, `the ${key} field`)
      }
    }
    if (Array.isArray(events) && events.length === 0) return undefined
    return { signed: (url) => jsonSignedParts(url, body), events: () => events }
  }

  async #resolve<T>(what: string, run: () => MaybePromise<T>): Promise<T> {
    try {
      return await run()
    } catch (cause) {
      throw new InternalError(`the ${what} resolver failed`, cause)
    }
  }

  async #verify(request: WebhookRequest<C>, signed: Signed): Promise<void> {
    const seen = this.#trustProxy ? forwardedUrl(request.url, request.headers) : request.url
    const info: RequestInfo<C> = { url: seen, headers: request.headers, context: request.context }
    const source = this.#keys
    const keys = normalizeKeys(
      typeof source === 'function' ? await this.#resolve('keys', () => source(info)) : source,
    )
    if (keys.length === 0) {
      throw new SignatureError(
        'NO_KEY',
        'no webhook key is configured, so events cannot be verified and are refused (the handshake is still answered); set `keys` to the key SendClean shows for this webhook',
      )
    }
    const signature = request.headers.get(this.#header)?.trim()
    if (!signature) {
      throw new SignatureError('MISSING_SIGNATURE', `the ${this.#header} header is missing`)
    }
    const option = this.#url
    const url =
      typeof option === 'function'
        ? await this.#resolve('url', () => option(info))
        : (option ?? seen)
    if (await matchesAnyKey(keys, signed(url), signature)) return

    // Failure path only: find out whether the key is right and the URL is not.
    for (const candidate of alternativeUrls(url, request.url, request.headers)) {
      if (await matchesAnyKey(keys, signed(candidate), signature)) {
        throw new SignatureError(
          'URL_MISMATCH',
          `the signature was made for ${candidate}, but ${url} was used to check it; set \`url\` to the URL registered with SendClean`,
          url,
        )
      }
    }
    throw new SignatureError(
      'SIGNATURE_MISMATCH',
      `no key matches the signature (signed URL: ${url}); if SendClean has another URL registered (proxy, load balancer), set \`url\` to it; if the key was reset, add the new key to \`keys\``,
      url,
    )
  }

  async #dispatch(raw: unknown[], context: C): Promise<void> {
    // Validate the whole batch first: a bad event at the end must not leave the batch half-handled.
    const events: WebhookEvent[] = new Array(raw.length)
    for (let i = 0; i < raw.length; i++) {
      const result = parseEvent(raw[i])
      if (!result.ok) throw malformed(`event ${i} ${result.message}`)
      events[i] = result.event
    }
    if (this.#queue) return this.#enqueue(events, raw, this.#queue)

    const state = { index: 0, timedOut: false, waiting: false }
    const running = this.#run(events, context, state)
    // Finished without waiting on anything (sync handlers, no store): nothing to time out.
    if (!state.waiting) return running
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        state.timedOut = true
        const i = state.index
        reject(new HandlerError(events[i], i, undefined, 'HANDLER_TIMEOUT'))
      }, this.#handlerTimeoutMs)
    })
    running.catch(() => {})
    try {
      await Promise.race([running, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async #run(
    events: WebhookEvent[],
    context: C,
    state: { index: number; timedOut: boolean; waiting: boolean },
  ): Promise<void> {
    const any = this.#handlers.of('*')
    const store = this.#store
    for (let i = 0; i < events.length; i++) {
      // After a timeout the batch has been answered 503: start nothing more.
      if (state.timedOut) return
      state.index = i
      const event = events[i] as WebhookEvent
      const key = store ? eventIdentity(event) : ''
      if (store) {
        state.waiting = true
        if (await this.#storeCall(() => store.has(key))) continue
      }

      const own = this.#handlers.of(event.event)
      let outcome: EventOutcome = 'handled'
      try {
        if (own) {
          for (const handler of own) {
            const pending = call(handler, event, context)
            if (pending) {
              state.waiting = true
              await pending
            }
          }
        }
        if (any) {
          for (const handler of any) {
            const pending = call(handler, event, context)
            if (pending) {
              state.waiting = true
              await pending
            }
          }
        }
      } catch (cause) {
        if (state.timedOut) return
        const error = new HandlerError(event, i, cause)
        if ((await this.#report(error, context)) !== 'skip') throw error
        outcome = 'skipped'
      }
      if (store && !state.timedOut)
        await this.#storeCall(() => store.mark(key, this.#ttlMs, outcome))
    }
  }

  async #enqueue(
    events: WebhookEvent[],
    raw: unknown[],
    queue: { sink: EventSink; timeoutMs: number },
  ): Promise<void> {
    const batch = events.map((event, i) => ({ id: eventIdentity(event), event, raw: raw[i] }))
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the queue did not take the batch within ${queue.timeoutMs} ms`)),
        queue.timeoutMs,
      )
    })
    const adding = queue.sink.enqueue(batch)
    adding.catch(() => {})
    try {
      await Promise.race([adding, timeout])
    } catch (cause) {
      throw new InternalError(
        'the queue did not take the batch; it was not acknowledged, so SendClean will retry it',
        cause,
        'QUEUE_FAILED',
      )
    } finally {
      clearTimeout(timer)
    }
  }

  async #storeCall<T>(call: () => T | Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (cause) {
      throw new InternalError(
        'the idempotency store failed; the batch was not acknowledged',
        cause,
        'STORE_FAILED',
      )
    }
  }
}

/** Run a handler; a promise is returned only when the handler returned one (sync handlers cost no tick). */
function call(
  handler: (event: never, context: never) => unknown,
  event: unknown,
  context: unknown,
) {
  const result = handler(event as never, context as never)
  return typeof (result as PromiseLike<unknown> | undefined)?.then === 'function'
    ? result
    : undefined
}

function fieldsFromParsed(value: unknown): FormField[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('the parsed form body is not an object of fields')
  }
  const fields: FormField[] = []
  for (const [name, field] of Object.entries(value)) {
    if (Array.isArray(field)) {
      throw malformed(
        `the form field "${name}" appears more than once, so the request is ambiguous`,
      )
    }
    if (typeof field !== 'string') {
      throw malformed(
        `the form field "${name}" was parsed into a ${typeof field}, so the signed text is lost; parse forms with the extended option off (express.urlencoded({ extended: false }))`,
      )
    }
    fields.push({ name, nameBytes: encoder.encode(name), value: encoder.encode(field) })
  }
  return fields
}

/**
 * Create a framework-free receiver. See {@link ReceiverOptions}.
 *
 * @example
 * const receiver = createReceiver({ keys: ['old-key', 'new-key'], url: 'https://example.com/hook' })
 */
export function createReceiver<C = unknown>(options: ReceiverOptions<C>): Receiver<C> {
  return new Receiver(options)
}
