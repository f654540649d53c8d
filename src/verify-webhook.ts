import { DEFAULT_SIGNATURE_HEADER } from './constants.js'
import { parseBatch } from './dispatch.js'
import type { WebhookEvent } from './events.js'
import { resolveOptions } from './options.js'
import { ParsedBody } from './read-body.js'
import type { HeaderReader, ReceiverOptions } from './types.js'
import { verifiedBatch } from './verified-batch.js'

type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>

/** What {@link verifyWebhook} checks: one delivery, as your own server received it. */
export interface VerifyWebhookOptions
  extends Pick<
    ReceiverOptions,
    'eventsField' | 'signatureHeader' | 'strict' | 'maxBodyBytes' | 'maxFields' | 'maxEvents'
  > {
  /**
   * The raw body (text or bytes) exactly as received, or the fields a form parser produced
   * from it (`{ SendCleantes_events: '[…]' }`): the form signature covers decoded fields.
   */
  body: string | Uint8Array | Readonly<Record<string, string>>
  /** The request headers: a `Headers`, or a Node-style object (any case). */
  headers?: HeaderReader | HeaderRecord
  /** The signature, when you have it apart from the headers. */
  signature?: string
  /** Default: the `content-type` header, else `application/x-www-form-urlencoded`. */
  contentType?: string
  /** The URL exactly as registered with SendClean (it is signed). */
  url: string
  /** The webhook key, or several during a rotation. */
  keys: string | readonly string[]
}

function headerReader(headers: VerifyWebhookOptions['headers']): HeaderReader {
  if (headers === undefined) return { get: () => undefined }
  if (typeof (headers as HeaderReader).get === 'function') return headers as HeaderReader
  const lower = new Map<string, string>()
  for (const [name, value] of Object.entries(headers as HeaderRecord)) {
    if (value !== undefined)
      lower.set(name.toLowerCase(), typeof value === 'string' ? value : value.join(', '))
  }
  return { get: (name) => lower.get(name.toLowerCase()) }
}

/**
 * Verify one delivery and return its events, without a receiver: for serverless functions,
 * queue consumers and anyone who writes their own response. The same path as the receiver
 * (limits, form or JSON decoding, signature, validation): it returns `[]` for a handshake, and throws
 * a `WebhookError` (switch on `code`; `status` is what the receiver would answer) otherwise.
 * Events that fail their schema come back as `invalid` events (or throw, with `strict`).
 *
 * @example
 * const events = await verifyWebhook({
 *   body: rawBody,
 *   headers: req.headers,
 *   url: 'https://example.com/webhooks/sendclean',
 *   keys: process.env.SENDCLEAN_WEBHOOK_KEY!,
 * })
 * for (const event of events) if (event.event === 'hard_bounce') suppress(event._id)
 */
export async function verifyWebhook(options: VerifyWebhookOptions): Promise<WebhookEvent[]> {
  const config = resolveOptions<undefined>({
    keys: options.keys,
    url: options.url,
    eventsField: options.eventsField,
    signatureHeader: options.signatureHeader,
    strict: options.strict,
    maxBodyBytes: options.maxBodyBytes,
    maxFields: options.maxFields,
    maxEvents: options.maxEvents,
  })
  const given = headerReader(options.headers)
  const signatureHeader = (options.signatureHeader ?? DEFAULT_SIGNATURE_HEADER).toLowerCase()
  const contentType =
    options.contentType ?? given.get('content-type') ?? 'application/x-www-form-urlencoded'
  const headers: HeaderReader = {
    get(name) {
      const key = name.toLowerCase()
      if (key === 'content-type') return contentType
      if (key === signatureHeader && options.signature !== undefined) return options.signature
      // A parser's fields are not the raw body: its length says nothing about them.
      if (key === 'content-length' && isFields(options.body)) return undefined
      return given.get(name)
    },
  }
  const { body } = options
  const raw = await verifiedBatch(config, {
    method: 'POST',
    url: options.url,
    headers,
    body: isFields(body)
      ? new ParsedBody(body, 'pass the raw body, or the fields of a form body')
      : body,
    context: undefined,
  })
  return raw ? parseBatch(raw, config.strict) : []
}

function isFields(body: VerifyWebhookOptions['body']): body is Readonly<Record<string, string>> {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array)
}
