import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { sha256Base64url } from '#platform'
import {
  eventIdentity,
  type IdempotencyStore,
  parseEvent,
  type WebhookRequest,
} from '../../src/index.js'
import { elementTexts } from '../../src/request/event-texts.js'

/** The seed's seven example events, byte for byte as SendClean documents them. */
export const SEED_EVENTS_TEXT = readFileSync(
  new URL('../fixtures/seed-events.json', import.meta.url),
  'utf8',
)
export const SEED_EVENTS = JSON.parse(SEED_EVENTS_TEXT) as Array<
  Record<string, unknown> & { event: string }
>

export const KEY = 'aVLnPysvkKUU95AFrb47Zr'
export const OLD_KEY = 'cgvddgrsd'
export const URL_REGISTERED = 'https://example.com/webhooks/sendclean'
export const FIELD = 'SendCleantes_events'

/**
 * SPEC §3 computed independently of the package: base64(HMAC-SHA1(key, url + sorted name+value)).
 */
export function referenceSignature(
  key: string,
  url: string,
  fields: Record<string, string>,
): string {
  const hmac = createHmac('sha1', key)
  hmac.update(url)
  for (const name of Object.keys(fields).sort()) hmac.update(name + fields[name])
  return hmac.digest('base64')
}

/** A form delivery of `eventsText`, signed for `url` with `key`. */
export function formDelivery(
  eventsText: string = SEED_EVENTS_TEXT,
  { key = KEY, url = URL_REGISTERED, field = FIELD } = {},
): { body: string; signature: string } {
  return {
    body: new URLSearchParams({ [field]: eventsText }).toString(),
    signature: referenceSignature(key, url, { [field]: eventsText }),
  }
}

export const FORM = 'application/x-www-form-urlencoded'
export const SIGNATURE_HEADER = 'X-SendCleanTES-Signature'

/** {@link formDelivery} as the core's request, POSTed to the registered URL (whatever URL it was signed for). */
export function signedRequest(
  eventsText: string = SEED_EVENTS_TEXT,
  options: Parameters<typeof formDelivery>[1] = {},
): WebhookRequest<undefined> {
  const { body, signature } = formDelivery(eventsText, options)
  return {
    method: 'POST',
    url: URL_REGISTERED,
    headers: new Headers({ 'content-type': FORM, [SIGNATURE_HEADER]: signature }),
    body,
    context: undefined,
  }
}

const first = SEED_EVENTS[0] as Record<string, unknown>

/**
 * Six distinct events that an identity of `_id` + type + `ts` would merge in pairs: two hard
 * bounces of one message differing only in `x_unique_id`, two undocumented events with neither
 * `_id` nor `ts`, and two whose numeric-string `ts` are equal as Numbers (both invalid: past
 * safe integers).
 */
export const COLLIDING_EVENTS: readonly Record<string, unknown>[] = [
  first,
  { ...first, x_unique_id: 'other' },
  { event: 'deferral', reason: 'a' },
  { event: 'deferral', reason: 'b' },
  { ...first, ts: '9007199254740993' },
  { ...first, ts: '9007199254740992' },
]

/** POST the seed batch to `url`, signed for it with `key`, as SendClean would. */
export function postSeedBatch(url: string, key: string): Promise<Response> {
  const { body, signature } = formDelivery(SEED_EVENTS_TEXT, { key, url })
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
    body,
  })
}

/**
 * The key a receiver with the default identity and namespace stores an event under: the
 * namespace (the URL it was signed for) hashed, then the type and a SHA-256 of the event's text
 * as it arrived (the `index`-th element of `text`).
 */
export async function storeKeyOf(
  index: number,
  text: string = SEED_EVENTS_TEXT,
  url: string = URL_REGISTERED,
): Promise<string> {
  const texts = elementTexts(text) ?? []
  const eventText = texts[index] as string
  const namespace = (await sha256Base64url(url)).slice(0, 22)
  return `${namespace}:${await eventIdentity(parseEvent(JSON.parse(eventText)), eventText)}`
}

/**
 * A store as one process sees it: `kill()` is the process dying, after which none of its calls
 * (renewals included) ever reaches the store again.
 */
export function mortal(store: IdempotencyStore): {
  store: IdempotencyStore
  kill: () => void
  dead: () => boolean
} {
  let dead = false
  const never = new Promise<never>(() => {})
  const call =
    <A extends unknown[], R>(method: (...args: A) => R) =>
    (...args: A): R =>
      dead ? (never as R) : method(...args)
  return {
    store: {
      claim: call((k, t, l) => store.claim(k, t, l)),
      renew: call((k, t, l) => store.renew(k, t, l)),
      progress: call((k, t, n, ttl) => store.progress(k, t, n, ttl)),
      complete: call((k, t, ttl, o) => store.complete(k, t, ttl, o)),
      release: call((k, t) => store.release(k, t)),
    },
    kill: () => {
      dead = true
    },
    dead: () => dead,
  }
}
