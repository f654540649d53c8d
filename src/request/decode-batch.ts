import { DEFAULT_EVENTS_FIELD } from '../constants.js'
import { excerpt, malformed, WebhookError } from '../errors.js'
import { elementTexts, memberElementTexts } from './event-texts.js'
import { decodeForm, type FormField, type FormLoop, type Signed } from './form.js'
import { ParsedBody } from './request.js'

/** A batch that passed decoding: what is signed, and the events, parsed on demand. */
export interface Batch {
  /** How many bytes one signature check hashes, besides the URL. */
  bytes: number
  signed: Signed
  /** Parse the events (only once the signature is checked). */
  events: () => ParsedEvents
}

/** The events value, and the JSON text of each event as it arrived (found on demand). */
export interface ParsedEvents {
  value: unknown
  /** `undefined` when the value is not an array. */
  texts: () => string[] | undefined
}

const encoder = new TextEncoder()
/** JSON text is UTF-8 (RFC 8259 §8.1): bytes that are not are refused, never replaced. */
const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw malformed(`${what} is not valid UTF-8`)
  }
}
const FORM_TYPE = 'application/x-www-form-urlencoded'
const NO_PARAMS: readonly string[] = []

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw malformed(`${what} is not valid JSON (${(error as Error).message})`)
  }
}

/** A JSON array's text, parsed, with the text of each element found on demand. */
function parseArrayText(text: string, what: string): ParsedEvents {
  return { value: parseJson(text, what), texts: () => elementTexts(text) }
}

/** The events field: an explicit one wins; else `SendCleantes_events`; else the one `*_events` field. */
function eventsKey(names: readonly string[], field: string | undefined): string | undefined {
  if (field !== undefined) return names.includes(field) ? field : undefined
  if (names.includes(DEFAULT_EVENTS_FIELD)) return DEFAULT_EVENTS_FIELD
  const candidates = names.filter((name) => name.toLowerCase().endsWith('_events'))
  if (candidates.length > 1) {
    throw malformed(
      `${candidates.length} fields could hold the events (${candidates
        .slice(0, 3)
        .map((name) => excerpt(name))
        .join(', ')}${candidates.length > 3 ? ', …' : ''}); set \`eventsField\` to the right one`,
    )
  }
  return candidates[0]
}

function tooManyFields(max: number): WebhookError {
  return new WebhookError(
    'PAYLOAD_TOO_LARGE',
    `the form has more than ${max} fields (maxFields); SendClean sends one`,
  )
}

/** A field sent twice is ambiguous (which one was meant?): refused. */
function refuseDuplicates(fields: readonly FormField[]): void {
  // SendClean sends one field: only a form of several can repeat one.
  if (fields.length < 2) return
  const seen = new Set<string>()
  for (const { name } of fields) {
    if (seen.has(name)) {
      throw malformed(
        `the form field ${excerpt(name)} appears more than once, so the request is ambiguous`,
      )
    }
    seen.add(name)
  }
}

function fromFields(fields: readonly FormField[], field: string | undefined): Batch | undefined {
  const names = fields.map((f) => f.name)
  const key = eventsKey(names, field)
  const value = fields.find((f) => f.name === key)?.value
  if (value === undefined) return undefined
  // Told from the bytes: nothing is copied or parsed before the signature is checked.
  if (skipJsonSpace(value, 0) === value.length || isEmptyJsonArray(value)) return undefined
  // In bytes, or UTF-16 units for a text value: a size bound, not an exact count.
  let bytes = 0
  for (const f of fields) bytes += f.nameBytes.length + f.value.length
  return {
    bytes,
    signed: { fields },
    // Parsed only after the signature is checked.
    events: () =>
      parseArrayText(
        typeof value === 'string' ? value : decodeUtf8(value, `the ${key} field`),
        `the ${key} field`,
      ),
  }
}

/** `[]` with any surrounding whitespace, found by a scan: no parse, no allocation. */
function isEmptyJsonArray(body: Uint8Array | string): boolean {
  let i = skipJsonSpace(body, 0)
  if (codeAt(body, i) !== 0x5b) return false
  i = skipJsonSpace(body, i + 1)
  if (codeAt(body, i) !== 0x5d) return false
  return skipJsonSpace(body, i + 1) === body.length
}

/** The byte or UTF-16 unit at `i` (`NaN` or `undefined` past the end: equal to nothing). */
function codeAt(body: Uint8Array | string, i: number): number {
  return typeof body === 'string' ? body.charCodeAt(i) : (body[i] as number)
}

/** JSON's whitespace (RFC 8259 §2): space, tab, line feed, carriage return. */
const isJsonSpace = (code: number | undefined): boolean =>
  code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09

/**
 * Past the JSON whitespace from `from` (`body.length` when it is blank to the end). A loop, not
 * a RegExp: V8 keeps a RegExp's last subject alive (RegExp.input), and this one is the batch.
 */
function skipJsonSpace(body: Uint8Array | string, from: number): number {
  let i = from
  while (i < body.length && isJsonSpace(codeAt(body, i))) i++
  return i
}

/**
 * A JSON body this small is parsed before its signature is checked, only to tell a handshake
 * (`{}`, `{"SendCleantes_events": []}`); a larger one is verified first, so an anonymous body
 * is never parsed in full.
 */
const HANDSHAKE_PROBE_BYTES = 1024

const NO_EVENTS: ParsedEvents = { value: [], texts: () => [] }

/** The events of a verified JSON body: the array, or an object's events field (maybe as text). */
function jsonEvents(body: Uint8Array, field: string | undefined): ParsedEvents {
  const text = decodeUtf8(body, 'the body')
  const parsed = parseJson(text, 'the body')
  if (Array.isArray(parsed)) return { value: parsed, texts: () => elementTexts(text) }
  if (typeof parsed !== 'object' || parsed === null) {
    throw malformed('a JSON body must be an array of events or an object with an *_events field')
  }
  const key = eventsKey(Object.keys(parsed), field)
  if (key === undefined) return NO_EVENTS
  const events = (parsed as Record<string, unknown>)[key]
  if (typeof events !== 'string') {
    return { value: events, texts: () => memberElementTexts(text, key) }
  }
  return events.trim() === '' ? NO_EVENTS : parseArrayText(events, `the ${key} field`)
}

function isJsonHandshake(body: Uint8Array, field: string | undefined): boolean {
  if (isEmptyJsonArray(body)) return true
  if (body.length > HANDSHAKE_PROBE_BYTES) return false
  try {
    const events = jsonEvents(body, field).value
    return Array.isArray(events) && events.length === 0
  } catch {
    return false // not a handshake; the verified path reports what is wrong with it
  }
}

function fromJson(body: Uint8Array, field: string | undefined): Batch | undefined {
  if (isJsonHandshake(body, field)) return undefined
  return {
    bytes: body.length,
    signed: { body },
    // Parsed only after the signature is checked.
    events: () => jsonEvents(body, field),
  }
}

/** The fields an upstream form parser left: strings only (an array means a field sent twice). */
function fieldsFromParsed(value: unknown, maxFields: number, hint: string): FormField[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('the parsed form body is not an object of fields')
  }
  const entries = Object.entries(value)
  if (entries.length > maxFields) throw tooManyFields(maxFields)
  const fields: FormField[] = []
  for (const [name, field] of entries) {
    if (Array.isArray(field)) {
      throw malformed(
        `the form field ${excerpt(name)} appears more than once, so the request is ambiguous`,
      )
    }
    if (typeof field !== 'string') {
      throw malformed(
        `the form field ${excerpt(name)} was parsed into a ${typeof field}, so the signed text is lost; ${hint}`,
      )
    }
    // A string from a parser is already the decoded text: signed as its UTF-8, no copy here.
    fields.push({ name, nameBytes: encoder.encode(name), value: field })
  }
  return fields
}

const NO_FIELDS: Signed = { fields: [] }

/**
 * What was signed after the URL: a form body's decoded fields (an empty body is a form of no
 * fields) or a JSON body's raw bytes. Refuses (`WebhookError`) a body that cannot have been
 * signed: an unsupported content type or charset, a field sent twice, more than `maxFields`
 * fields, or what a body parser left of a consumed body.
 */
export function decodeSigned(
  body: Uint8Array | ParsedBody,
  contentType: string | null | undefined,
  maxFields: number,
  /** The platform's faster form loop, when it has one. */
  loop?: FormLoop,
): Signed {
  // SendClean's exact header, the usual case, needs no parsing.
  let media = FORM_TYPE
  let params: readonly string[] = NO_PARAMS
  if (contentType !== FORM_TYPE) {
    const [type, ...rest] = (contentType ?? '').split(';')
    media = type?.trim().toLowerCase() ?? ''
    params = rest
  }
  const isForm = media === FORM_TYPE
  const isJson = media === 'application/json' || media.endsWith('+json')

  if (body instanceof ParsedBody) {
    if (isForm && body.value !== undefined) {
      const fields = fieldsFromParsed(body.value, maxFields, body.nestedHint)
      refuseDuplicates(fields)
      return { fields }
    }
    throw new WebhookError(
      'BODY_CONSUMED',
      `a body parser consumed the ${isJson ? 'JSON ' : ''}body and left no raw copy, so its signature cannot be checked; ${body.hint}`,
    )
  }
  if (body.length === 0) return NO_FIELDS
  if (!isForm && !isJson) {
    throw new WebhookError(
      'UNSUPPORTED_MEDIA_TYPE',
      `content-type ${media ? excerpt(media) : '(none)'} is not supported; SendClean posts application/x-www-form-urlencoded`,
    )
  }
  for (const param of params) {
    const [name, value] = param.split('=')
    if (name?.trim().toLowerCase() !== 'charset') continue
    const charset = value?.trim().replace(/^"|"$/g, '').toLowerCase()
    if (charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw new WebhookError(
        'UNSUPPORTED_MEDIA_TYPE',
        `charset ${excerpt(charset ?? '')} is not supported; use utf-8`,
      )
    }
  }
  if (!isForm) return { body }
  // Refused at the first field past the limit: a form of a million fields costs `maxFields`.
  const fields = decodeForm(body, maxFields, loop)
  if (!fields) throw tooManyFields(maxFields)
  refuseDuplicates(fields)
  return { fields }
}

/**
 * Turn a body into what is signed and the events, or `undefined` for a POST that is
 * a handshake (empty, no events field, an empty array).
 */
export function decodeBatch(
  body: Uint8Array | ParsedBody,
  contentType: string | null | undefined,
  field: string | undefined,
  maxFields: number,
  /** The platform's faster form loop, when it has one. */
  loop?: FormLoop,
): Batch | undefined {
  const signed = decodeSigned(body, contentType, maxFields, loop)
  return 'fields' in signed ? fromFields(signed.fields, field) : fromJson(signed.body, field)
}
