import { sha256Base64url } from '#platform'
import { hasDerivedFeedback, type WebhookEvent } from './schemas.js'

/**
 * The event's content as one canonical JSON text: keys sorted at every level, so two senders'
 * key orders give the same text. A known event is read as validated (numeric strings already
 * numbers) without what the receiver derived (`date`, a spam report's `msg.feedback`); fields
 * of those names that the sender sent are kept.
 */
export function canonicalEvent(event: WebhookEvent): string {
  if (event.event === 'unknown' || event.event === 'invalid') return canonicalJson(event.raw)
  return canonicalJson(event, (record, key) =>
    record === event
      ? key === 'date' && event.date instanceof Date
      : key === 'feedback' && record === event.msg && hasDerivedFeedback(record),
  )
}

type Frame =
  | { array: readonly unknown[]; i: number }
  | { record: Record<string, unknown>; keys: string[]; i: number; wrote: boolean }

/** A non-string JSON primitive as JSON.stringify writes it (non-finite numbers become null). */
function primitive(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  if (typeof value === 'bigint') throw new TypeError('a BigInt cannot be part of an event')
  return String(value)
}

/**
 * JSON.stringify with keys sorted at every level, without recursion: an authentic event may
 * nest as deep as JSON.parse allows, far deeper than the call stack. `skip(record, key)` leaves
 * a key of an object out. Values JSON cannot hold are dropped as JSON.stringify drops them.
 */
export function canonicalJson(
  value: unknown,
  skip: (record: object, key: string) => boolean = () => false,
): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  const stack: Frame[] = []
  let out = ''
  const open = (item: object) => {
    if (Array.isArray(item)) {
      out += '['
      stack.push({ array: item, i: 0 })
    } else {
      out += '{'
      const keys = Object.keys(item)
        .filter((key) => !skip(item, key))
        .sort()
      stack.push({ record: item as Record<string, unknown>, keys, i: 0, wrote: false })
    }
  }
  open(value)
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame
    let item: unknown
    if ('array' in frame) {
      if (frame.i >= frame.array.length) {
        out += ']'
        stack.pop()
        continue
      }
      if (frame.i > 0) out += ','
      item = frame.array[frame.i++]
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') {
        out += 'null'
        continue
      }
    } else {
      if (frame.i >= frame.keys.length) {
        out += '}'
        stack.pop()
        continue
      }
      const key = frame.keys[frame.i++] as string
      item = frame.record[key]
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
      out += `${frame.wrote ? ',' : ''}${JSON.stringify(key)}:`
      frame.wrote = true
    }
    if (item !== null && typeof item === 'object') open(item)
    else out += typeof item === 'string' ? JSON.stringify(item) : primitive(item)
  }
  return out
}

/**
 * The identity the idempotency store and queue job ids use: the event's type and a SHA-256 of
 * its JSON text as it arrived (`text`; the receiver passes it). Equal for every retry of the
 * same event (SendClean re-sends the same bytes), different for any two events whose text
 * differs — including events of one message that share `_id` and `ts`, events that differ
 * only in an integer above 2^53, and events of unknown types that have neither. Without
 * `text`, the event's canonical JSON (keys sorted, without what the receiver adds) is hashed.
 *
 * @example
 * receiver.on('*', async (event) => console.log(await eventIdentity(event)))
 */
export async function eventIdentity(event: WebhookEvent, text?: string): Promise<string> {
  const type = event.event === 'unknown' ? `unknown.${event.type}` : event.event
  return `${type}:${await sha256Base64url(text ?? canonicalEvent(event))}`
}
