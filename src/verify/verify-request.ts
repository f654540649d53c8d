/**
 * From a request to its verified events: read the body within the limits, decode it, resolve
 * the keys and the signed URL, check the HMAC against every key in constant time, then parse the
 * events. The one path from a request to its events: the receiver and `verifyWebhook` take it.
 */

import { createFormLoop } from '#platform'
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_FIELDS,
  DEFAULT_SIGNATURE_HEADER,
  DEFAULT_TIMEOUT_MS,
} from '../constants.js'
import {
  configurationError,
  excerpt,
  malformed,
  positiveInteger,
  shorten,
  tooManyEvents,
  WebhookError,
} from '../errors.js'
import { type Batch, decodeBatch } from '../request/decode-batch.js'
import type { FormLoop } from '../request/form.js'
import { readBody, tooLarge } from '../request/read-body.js'
import type { HeaderReader, WebhookRequest } from '../request/request.js'
import { type Observation, step } from '../telemetry/telemetry.js'
import { matchesAnyKey, signedParts } from './signature.js'

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

/** The options that say how a request is verified: part of the receiver's options. */
export interface VerifyOptions<C = unknown> {
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
  /**
   * Build the default URL from `X-Forwarded-Proto` / `X-Forwarded-Host`, as Express's
   * `trust proxy` takes a hop count: `n` (or `true`, one) proxies you run sit in front of the
   * app, each appending what it received, so the value the outermost of them set is the `n`-th
   * from the right; values further left came from the client and are never used. Default
   * false: the URL is built from the request's own `Host`.
   */
  trustProxy?: boolean | number
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
}

/** The verification options, checked once, with every default filled in. */
export interface VerifyConfig<C> {
  keys: KeySource<C>
  /** `keys` as a list, when it is a string: split once, not per request. */
  keyList: string[] | undefined
  url: VerifyOptions<C>['url']
  /** How many proxies' headers to trust (0: none). */
  trustProxy: number
  header: string
  field: string | undefined
  maxBodyBytes: number
  maxEvents: number
  maxFields: number
  bodyTimeoutMs: number
  /** This receiver's own instance of the platform's faster form loop, when it has one. */
  formLoop: FormLoop | undefined
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

/** Check the verification options and fill in their defaults (misconfiguration throws here). */
export function resolveVerifyOptions<C>(options: VerifyOptions<C>): VerifyConfig<C> {
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
  return {
    keys: options.keys,
    keyList: typeof options.keys === 'string' ? normalizeKeys(options.keys) : undefined,
    url,
    trustProxy: proxyHops(options.trustProxy),
    header,
    field: options.eventsField,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES),
    maxEvents: positiveInteger(options.maxEvents, 'maxEvents', DEFAULT_MAX_EVENTS),
    maxFields: positiveInteger(options.maxFields, 'maxFields', DEFAULT_MAX_FIELDS),
    bodyTimeoutMs: positiveInteger(options.bodyTimeoutMs, 'bodyTimeoutMs', DEFAULT_TIMEOUT_MS),
    formLoop: createFormLoop(),
  }
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

/** A verified batch: its events, the JSON text of each as it arrived, and the URL it was signed for. */
export interface VerifiedBatch {
  events: unknown[]
  /** The text of each event as sent, found on demand (`undefined` if it cannot be found). */
  texts: () => readonly string[] | undefined
  /** The URL the signature matched: the webhook as registered with SendClean. */
  url: string
}

/**
 * A POST's events, read within the limits, verified, and parsed as a JSON array; `undefined`
 * for a handshake (no events). The one path from a request to its events: the receiver and
 * {@link verifyWebhook} both take it. Throws a `WebhookError` for anything else.
 */
export async function verifiedBatch<C>(
  config: VerifyConfig<C>,
  request: WebhookRequest<C>,
  observation?: Observation,
): Promise<VerifiedBatch | undefined> {
  const { headers } = request
  const encoding = headers.get('content-encoding')?.trim().toLowerCase()
  if (encoding && encoding !== 'identity') {
    throw new WebhookError(
      'UNSUPPORTED_MEDIA_TYPE',
      `content-encoding ${excerpt(encoding)} is not supported`,
    )
  }
  const length = headers.get('content-length')
  const expected = length ? Number(length) : undefined
  if (expected !== undefined && expected > config.maxBodyBytes) throw tooLarge(config.maxBodyBytes)

  const read = () =>
    readBody(
      request.body,
      config.maxBodyBytes,
      config.bodyTimeoutMs,
      Number.isSafeInteger(expected) ? expected : undefined,
    )
  const body = await step(observation, 'sendclean.body.read', read)
  if (observation && body instanceof Uint8Array) observation.bytes = body.length
  const batch = decodeBatch(
    body,
    headers.get('content-type'),
    config.field,
    config.maxFields,
    config.formLoop,
  )
  if (!batch) return undefined

  // Verify before parsing the events.
  const url = await step(
    observation,
    'sendclean.verify',
    () => verifyRequest(config, request, batch),
    'verifyDuration',
  )
  const { value: events, texts } = batch.events()
  if (!Array.isArray(events)) throw malformed('the events field is not a JSON array')
  if (events.length === 0) return undefined
  if (events.length > config.maxEvents) throw tooManyEvents(events.length, config.maxEvents)
  return { events, texts, url }
}

/** A URL built from request headers, as a message may quote it: at most 256 characters. */
const clip = (url: string) => shorten(url, 256)

/** Bodies up to this size get the URL-mismatch diagnosis after a failed check. */
const DIAGNOSE_MAX_BYTES = 64 * 1024

async function resolve<T>(what: string, run: () => MaybePromise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    throw new WebhookError('INTERNAL_ERROR', `the ${what} resolver failed`, { cause: cause })
  }
}

/**
 * Resolve the keys and the signed URL, and check the signature against every key.
 * Throws a {@link WebhookError} that says what to fix: no key, no header, or a mismatch
 * naming the URL that was signed (and the URL that would have matched, when one does).
 * Resolves with the URL the signature matched.
 */
export async function verifyRequest<C>(
  config: VerifyConfig<C>,
  request: WebhookRequest<C>,
  batch: Batch,
): Promise<string> {
  const seen = config.trustProxy
    ? forwardedUrl(request.url, request.headers, config.trustProxy)
    : request.url
  const source = config.keys
  const option = config.url
  const info: RequestInfo<C> = {
    url: seen,
    headers: request.headers,
    context: request.context as C,
  }
  const keys =
    config.keyList ??
    normalizeKeys(typeof source === 'function' ? await resolve('keys', () => source(info)) : source)
  const signature = signatureFor(config, request, keys)
  const url =
    typeof option === 'function' ? await resolve('url', () => option(info)) : (option ?? seen)
  if (!(await matchesAnyKey(keys, signedParts(url, batch.signed), signature))) {
    await mismatch(request, batch, keys, url, signature)
  }
  return url
}

/** The request's signature, once there is a key to check it with; else what is missing. */
function signatureFor<C>(
  config: VerifyConfig<C>,
  request: WebhookRequest<C>,
  keys: readonly string[],
): string {
  if (keys.length === 0) {
    throw new WebhookError(
      'NO_KEY',
      typeof config.keys === 'function'
        ? 'the `keys` resolver returned no key for this request, so its events cannot be verified and are refused (the handshake is still answered); check what it reads (on @hono/node-server, c.env is not process.env: use env(c) from hono/adapter)'
        : 'no webhook key is configured, so events cannot be verified and are refused (the handshake is still answered); set `keys` to the key SendClean shows for this webhook',
    )
  }
  const signature = request.headers.get(config.header)?.trim()
  if (!signature) {
    throw new WebhookError('MISSING_SIGNATURE', `the ${config.header} header is missing`)
  }
  return signature
}

/**
 * No key matched. Only for small bodies (an anonymous body may be large): find out whether the
 * key is right and the URL is not. Bounded: a few candidates over ≤ 64 KiB.
 */
async function mismatch<C>(
  request: WebhookRequest<C>,
  batch: Batch,
  keys: readonly string[],
  url: string,
  signature: string,
): Promise<never> {
  const diagnose = batch.bytes <= DIAGNOSE_MAX_BYTES
  const candidates = diagnose ? alternativeUrls(url, request.url, request.headers) : []
  for (const candidate of candidates) {
    if (await matchesAnyKey(keys, signedParts(candidate, batch.signed), signature)) {
      throw new WebhookError(
        'URL_MISMATCH',
        `the signature was made for ${clip(candidate)}, but ${clip(url)} was used to check it; set \`url\` to the URL registered with SendClean`,
        { signedUrl: url },
      )
    }
  }
  throw new WebhookError(
    'SIGNATURE_MISMATCH',
    `no key matches the signature (signed URL: ${clip(url)}${diagnose ? '' : '; other likely URLs were not tried, the body is over 64 KiB'}); if SendClean has another URL registered (proxy, load balancer), set \`url\` to it; if the key was reset, add the new key to \`keys\``,
    { signedUrl: url },
  )
}

/** Split `scheme://authority/rest` without normalising anything: the signed URL is compared byte for byte. */
function split(url: string): { scheme: string; authority: string; rest: string } | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(url)
  if (!match) return undefined
  return { scheme: match[1] as string, authority: match[2] as string, rest: match[3] as string }
}

/** `trustProxy` as a hop count. */
function proxyHops(option: boolean | number | undefined): number {
  if (option === undefined || option === false) return 0
  if (option === true) return 1
  if (Number.isSafeInteger(option) && option >= 0) return option
  throw configurationError('`trustProxy` must be true, false or a whole number of proxies')
}

/**
 * The value the outermost of `hops` trusted proxies set: the `hops`-th from the right (each
 * proxy appends); the leftmost when fewer were set. Values further left are the client's own.
 */
function fromProxies(value: string | null | undefined, hops: number): string | undefined {
  if (!value) return undefined
  const values = value.split(',')
  const chosen = values[Math.max(0, values.length - hops)]?.trim()
  return chosen ? chosen : undefined
}

/** The URL rebuilt from `X-Forwarded-Proto` and `X-Forwarded-Host`, trusting `hops` proxies. */
export function forwardedUrl(url: string, headers: HeaderReader, hops = 1): string {
  const parts = split(url)
  if (!parts) return url
  const scheme = fromProxies(headers.get('x-forwarded-proto'), hops)?.toLowerCase() ?? parts.scheme
  const authority = fromProxies(headers.get('x-forwarded-host'), hops) ?? parts.authority
  return `${scheme}://${authority}${parts.rest}`
}

/**
 * URLs that a signature made for the right key but another URL would match, to turn a bare
 * "mismatch" into "set `url` to X". Tried only after verification failed.
 */
export function alternativeUrls(signed: string, seen: string, headers: HeaderReader): string[] {
  const candidates = new Set<string>([seen, forwardedUrl(seen, headers)])
  const parts = split(signed)
  if (parts) {
    const other = parts.scheme.toLowerCase() === 'https' ? 'http' : 'https'
    candidates.add(`${other}://${parts.authority}${parts.rest}`)
    const queryAt = parts.rest.search(/[?#]/)
    const path = queryAt === -1 ? parts.rest : parts.rest.slice(0, queryAt)
    const tail = queryAt === -1 ? '' : parts.rest.slice(queryAt)
    const toggled = path.endsWith('/') ? path.slice(0, -1) : `${path}/`
    candidates.add(`${parts.scheme}://${parts.authority}${toggled}${tail}`)
  }
  candidates.delete(signed)
  return [...candidates]
}
