import { DEFAULT_SIGNATURE_HEADER } from '../constants.js'
import { configurationError, refuseUnknownOptions } from '../errors.js'
import { parseBatch, type WebhookEvent } from '../events/schemas.js'
import { decodeSigned } from '../request/decode-batch.js'
import type { Signed } from '../request/form.js'
import type { HeaderReader } from '../request/request.js'
import { ParsedBody } from '../request/request.js'
import { matchesAnyKey, signedParts } from './signature.js'
import {
  normalizeKeys,
  resolveVerifyOptions,
  type VerifyOptions,
  verifiedBatch,
} from './verify-request.js'

const FORM_TYPE = 'application/x-www-form-urlencoded'
const encoder = new TextEncoder()

type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>

/** What {@link verifyWebhook} checks: one delivery, as your own server received it. */
export interface VerifyWebhookOptions
  extends Pick<
    VerifyOptions,
    'eventsField' | 'signatureHeader' | 'maxBodyBytes' | 'maxFields' | 'maxEvents'
  > {
  /** Throw (400) when any event fails its schema, instead of returning it as `invalid`. */
  strict?: boolean
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
  /**
   * The webhook key, or several during a rotation: an array, or one string with the keys
   * separated by commas (`SENDCLEAN_WEBHOOK_KEY=old,new`). Blank entries are no key.
   */
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
  if (typeof options === 'object' && options !== null)
    refuseUnknownOptions(options, WEBHOOK_OPTIONS)
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw configurationError('`strict` must be true or false')
  }
  const config = resolveVerifyOptions<undefined>({
    keys: options.keys,
    url: options.url,
    eventsField: options.eventsField,
    signatureHeader: options.signatureHeader,
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
  const batch = await verifiedBatch(config, {
    method: 'POST',
    url: options.url,
    headers,
    body: isFields(body)
      ? new ParsedBody(body, 'pass the raw body, or the fields of a form body')
      : body,
    context: undefined,
  })
  return batch ? parseBatch(batch.events, options.strict === true) : []
}

/** What {@link verifySignature} checks: the body as received, its headers, the URL and keys. */
export type VerifySignatureOptions = Pick<
  VerifyWebhookOptions,
  'body' | 'headers' | 'signature' | 'contentType' | 'url' | 'keys' | 'signatureHeader'
>

/** Every option of the two functions; any other name is refused (see refuseUnknownOptions). */
const SIGNATURE_OPTIONS = {
  body: true,
  headers: true,
  signature: true,
  contentType: true,
  url: true,
  keys: true,
  signatureHeader: true,
} satisfies Record<keyof VerifySignatureOptions, true>
const WEBHOOK_OPTIONS = {
  ...SIGNATURE_OPTIONS,
  eventsField: true,
  maxBodyBytes: true,
  maxFields: true,
  maxEvents: true,
  strict: true,
} satisfies Record<keyof VerifyWebhookOptions, true>

/**
 * The keys as the receiver reads them: a string may hold several, separated by commas (as
 * `SENDCLEAN_WEBHOOK_KEY=old,new` does during a rotation); blanks are no key.
 */
function signatureKeys(keys: unknown): string[] {
  const usable =
    typeof keys === 'string' ||
    (Array.isArray(keys) && keys.every((key) => typeof key === 'string'))
  if (!usable) {
    throw configurationError(
      '`keys` must be the webhook key SendClean shows for this webhook, or an array of keys',
    )
  }
  return normalizeKeys(keys as string | string[])
}

/**
 * Only the signature check: true when the delivery was signed with one of `keys` for `url`
 * (SPEC §3: a form body's decoded fields, or a JSON body's raw text), false for a wrong or
 * missing signature, for a body that cannot have been signed (a field sent twice) and when
 * `keys` holds no key (an empty string: an unset variable never makes the empty key valid).
 * Parses no events and applies no limits: for code that has the body in hand and decides the
 * rest itself. The comparison is constant-time. Options it cannot use (no `url`, `keys` that
 * are not strings, a name it does not know) reject with a `CONFIGURATION` error.
 *
 * @example
 * if (!(await verifySignature({ body: rawBody, headers: req.headers, url, keys }))) {
 *   return new Response('unauthorized', { status: 401 })
 * }
 */
export async function verifySignature(options: VerifySignatureOptions): Promise<boolean> {
  if (typeof options !== 'object' || options === null) {
    throw configurationError('options are required: { body, headers, url, keys }')
  }
  refuseUnknownOptions(options, SIGNATURE_OPTIONS)
  if (typeof options.url !== 'string') {
    throw configurationError('`url` must be the URL registered with SendClean (it is signed)')
  }
  const keys = signatureKeys(options.keys)
  const headers = headerReader(options.headers)
  const signature =
    options.signature ?? headers.get(options.signatureHeader ?? DEFAULT_SIGNATURE_HEADER)?.trim()
  // No key (an empty string, a variable left unset) verifies nothing: an empty HMAC key is
  // one anybody can sign with.
  if (!signature || keys.length === 0) return false
  const { body } = options
  let signed: Signed
  try {
    signed = decodeSigned(
      isFields(body)
        ? new ParsedBody(body)
        : typeof body === 'string'
          ? encoder.encode(body)
          : body,
      options.contentType ?? headers.get('content-type') ?? FORM_TYPE,
      Number.POSITIVE_INFINITY,
    )
  } catch {
    return false // no signature can stand for this body (a field sent twice, say)
  }
  return matchesAnyKey(keys, signedParts(options.url, signed), signature)
}

function isFields(body: VerifyWebhookOptions['body']): body is Readonly<Record<string, string>> {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array)
}
