import { hmacSha1Base64, type SignedPart } from '#platform'
import { DEFAULT_EVENTS_FIELD, DEFAULT_SIGNATURE_HEADER } from '../constants.js'
import { configurationError, refuseUnknownOptions } from '../errors.js'
import { compareBytes, decodeForm, type FormField, type Signed } from '../request/form.js'

export type { SignedPart }

const encoder = new TextEncoder()

/**
 * What SendClean signs for a form body: the registered URL, then each field sorted by name,
 * name followed by its decoded value, with no delimiter.
 */
export function formSignedParts(url: string, fields: readonly FormField[]): SignedPart[] {
  const sorted =
    fields.length < 2 ? fields : [...fields].sort((a, b) => compareBytes(a.nameBytes, b.nameBytes))
  const parts: SignedPart[] = [url]
  for (const field of sorted) parts.push(field.nameBytes, field.value)
  return parts
}

/** What is signed for a decoded batch: {@link formSignedParts} or {@link jsonSignedParts}. */
export function signedParts(url: string, signed: Signed): SignedPart[] {
  return 'fields' in signed
    ? formSignedParts(url, signed.fields)
    : jsonSignedParts(url, signed.body)
}

/** What is signed for a JSON body (an extension of SendClean's scheme): the URL, then the raw body. */
function jsonSignedParts(url: string, body: Uint8Array): SignedPart[] {
  return [url, body]
}

/**
 * True when `signature` equals base64(HMAC-SHA1(key, parts)) for one of `keys`. Each comparison
 * is constant-time, and every key is compared: timing says nothing about which one matched.
 */
export async function matchesAnyKey(
  keys: readonly string[],
  parts: readonly SignedPart[],
  signature: string,
): Promise<boolean> {
  const digests = await Promise.all(keys.map((key) => hmacSha1Base64(key, parts)))
  let matched = false
  for (const digest of digests) if (timingSafeEqualString(digest, signature)) matched = true
  return matched
}

/**
 * Refuses what a signing helper cannot have been meant to sign with: a mistake here would
 * only show later, as a delivery the receiver answers 401.
 */
function checkSigning(options: object, names: object, what: string): void {
  if (typeof options !== 'object' || options === null) {
    throw configurationError(`${what} takes an options object`)
  }
  refuseUnknownOptions(options, names)
  const { key, url } = options as { key?: unknown; url?: unknown }
  // The empty key is one anybody can sign with: no receiver accepts it.
  if (typeof key !== 'string' || key === '') {
    throw configurationError(`${what} needs \`key\`, the webhook key to sign with`)
  }
  if (typeof url !== 'string') {
    throw configurationError(`${what} needs \`url\`, the URL the webhook is registered for`)
  }
}

type Fields = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>

/** Fields given as strings, as the decoder would have produced them. */
function fieldsOf(entries: ReadonlyArray<readonly [string, string]>): FormField[] {
  return entries.map(([name, value]) => ({
    name,
    nameBytes: encoder.encode(name),
    value: encoder.encode(value),
  }))
}

/**
 * The signature SendClean sends for a form POST to `url`: of `fields` (decoded values, as
 * strings), or of `body`, the form exactly as sent, decoded here byte for byte as the receiver
 * decodes it (so a value whose bytes are not UTF-8 is signed as those bytes).
 *
 * @example
 * const signature = await signForm({
 *   key: 'aVLnPysvkKUU95AFrb47Zr',
 *   url: 'https://example.com/webhooks/sendclean',
 *   fields: { SendCleantes_events: JSON.stringify(events) },
 * })
 */
export async function signForm(
  options: { key: string; url: string } & ({ fields: Fields } | { body: string | Uint8Array }),
): Promise<string> {
  checkSigning(options, { key: true, url: true, fields: true, body: true }, 'signForm')
  let fields: FormField[]
  if ('body' in options) {
    const body = typeof options.body === 'string' ? encoder.encode(options.body) : options.body
    fields = decodeForm(body) ?? []
  } else {
    fields = fieldsOf(
      Array.isArray(options.fields) ? options.fields : Object.entries(options.fields),
    )
  }
  return hmacSha1Base64(options.key, formSignedParts(options.url, fields))
}

/**
 * The signature for a JSON body (this package's extension): the URL followed by the raw body.
 *
 * @example
 * const signature = await signJson({ key, url, body: JSON.stringify(events) })
 */
export async function signJson(options: {
  key: string
  url: string
  body: string | Uint8Array
}): Promise<string> {
  checkSigning(options, { key: true, url: true, body: true }, 'signJson')
  const body = typeof options.body === 'string' ? encoder.encode(options.body) : options.body
  return hmacSha1Base64(options.key, jsonSignedParts(options.url, body))
}

/** A ready-to-send signed delivery, as SendClean would POST it. */
export interface SignedDelivery {
  /** The form-encoded body. */
  readonly body: string
  /** `content-type` and the signature header. */
  readonly headers: Record<string, string>
}

/**
 * Build the request SendClean would send for `events`: a form body with one events field,
 * signed with `key` for `url`. Used by tests, the emulator and the CLI; handy in your own tests.
 *
 * @example
 * const { body, headers } = await signDelivery({ key, url, events: [{ event: 'send', ... }] })
 * await fetch(url, { method: 'POST', headers, body })
 */
export async function signDelivery(options: {
  key: string
  url: string
  events: unknown
  /** Field name; default `SendCleantes_events`. */
  field?: string
  /** Header name; default `X-SendCleanTES-Signature`. */
  header?: string
}): Promise<SignedDelivery> {
  checkSigning(
    options,
    { key: true, url: true, events: true, field: true, header: true },
    'signDelivery',
  )
  if (options.events === undefined) {
    throw configurationError('signDelivery needs `events` (an array, or its JSON text)')
  }
  const field = options.field ?? DEFAULT_EVENTS_FIELD
  const value = typeof options.events === 'string' ? options.events : JSON.stringify(options.events)
  const signature = await signForm({ key: options.key, url: options.url, fields: [[field, value]] })
  return {
    body: new URLSearchParams([[field, value]]).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      [(options.header ?? DEFAULT_SIGNATURE_HEADER).toLowerCase()]: signature,
    },
  }
}

/**
 * Constant-time comparison of two byte sequences. The length check returns early: lengths
 * are not secret (a signature is always 28 base64 characters), contents are.
 *
 * Works on views: only the bytes inside each view's window are compared.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** The same for strings, code unit by code unit (for base64 signatures, which are ASCII). */
export function timingSafeEqualString(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}
