import { DEFAULT_EVENTS_FIELD } from './constants.js'
import { RequestError } from './errors.js'
import { decodeForm, type FormField } from './form.js'
import type { SignedPart } from './hmac.js'
import { ParsedBody } from './read-body.js'
import { formSignedParts, jsonSignedParts } from './signature.js'

/** A batch that passed decoding: what is signed (given the URL), and the events, parsed on demand. */
export interface Batch {
  signed: (url: string) => SignedPart[]
  events: () => unknown
}

const utf8 = new TextDecoder()
const encoder = new TextEncoder()
const EMPTY_ARRAY = /^\s*\[\s*\]\s*$/

export function malformed(message: string): RequestError {
  return new RequestError('MALFORMED_PAYLOAD', message)
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw malformed(`${what} is not valid JSON (${(error as Error).message})`)
  }
}

/** SPEC §2: an explicit field wins; else `SendCleantes_events`; else the one `*_events` field. */
function eventsKey(names: readonly string[], field: string | undefined): string | undefined {
  if (field !== undefined) return names.includes(field) ? field : undefined
  if (names.includes(DEFAULT_EVENTS_FIELD)) return DEFAULT_EVENTS_FIELD
  const candidates = names.filter((name) => name.toLowerCase().endsWith('_events'))
  if (candidates.length > 1) {
    throw malformed(
      `several fields could hold the events (${candidates.join(', ')}); set \`eventsField\` to the right one`,
    )
  }
  return candidates[0]
}

function fromFields(fields: FormField[], field: string | undefined): Batch | undefined {
  const names = fields.map((f) => f.name)
  if (new Set(names).size !== names.length) {
    const twice = names.find((name, i) => names.indexOf(name) !== i)
    throw malformed(`the form field "${twice}" appears more than once, so the request is ambiguous`)
  }
  const key = eventsKey(names, field)
  const value = fields.find((f) => f.name === key)?.value
  if (value === undefined) return undefined
  const text = utf8.decode(value)
  if (text.trim() === '' || EMPTY_ARRAY.test(text)) return undefined
  return {
    signed: (url) => formSignedParts(url, fields),
    // Parsed only after the signature is checked.
    events: () => parseJson(text, `the ${key} field`),
  }
}

function fromJson(body: Uint8Array, field: string | undefined): Batch | undefined {
  // A JSON body must be parsed before verifying, to tell a handshake (no events) from a batch.
  const parsed = parseJson(utf8.decode(body), 'the body')
  let events: unknown = parsed
  if (!Array.isArray(parsed)) {
    if (typeof parsed !== 'object' || parsed === null) {
      throw malformed('a JSON body must be an array of events or an object with an *_events field')
    }
    const key = eventsKey(Object.keys(parsed), field)
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

/** The fields an upstream form parser left: strings only (an array means a field sent twice). */
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
 * SPEC §2: turn a body into what is signed and the events, or `undefined` for a POST that is
 * a handshake (empty, no events field, an empty array).
 */
export function decodeBatch(
  body: Uint8Array | ParsedBody,
  contentType: string | null | undefined,
  field: string | undefined,
): Batch | undefined {
  const [type, ...params] = (contentType ?? '').split(';')
  const media = type?.trim().toLowerCase() ?? ''
  const isForm = media === 'application/x-www-form-urlencoded'
  const isJson = media === 'application/json' || media.endsWith('+json')

  if (body instanceof ParsedBody) {
    if (isForm && body.value !== undefined) return fromFields(fieldsFromParsed(body.value), field)
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
  return isForm ? fromFields(decodeForm(body), field) : fromJson(body, field)
}
