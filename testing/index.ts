/**
 * `sendclean-webhooks/testing`: helpers for your own tests. Signed deliveries as SendClean sends
 * them, typed sample events, a helper that posts a signed batch to your running server, and the
 * conformance suite for an idempotency store you write yourself. Not for production code.
 */
import {
  DEFAULT_SIGNATURE_HEADER,
  type EventName,
  WebhookError,
  type WireEvent,
} from '../src/index.js'
import { refuseUnknownOptions, signDelivery } from '../src/internal.js'

export { type SignedDelivery, signDelivery, signForm, signJson } from '../src/internal.js'
export { messageId, SAMPLE_TYPES, sampleEvent } from './samples.js'
export { type StoreCheck, storeConformance } from './store-conformance.js'

/** What {@link postSignedBatch} sends, and where. */
export interface PostSignedBatchOptions {
  /** Where to POST: your server's webhook endpoint. */
  url: string
  /** The webhook key to sign with. */
  key: string
  /** The events: sample events, fixtures, or anything (sent as JSON, as SendClean would). */
  events: readonly (WireEvent<EventName> | Record<string, unknown>)[] | string
  /** The URL the signature is made for, when SendClean has another registered (a proxy). Default `url`. */
  signedUrl?: string
  /** The events field's name. Default `SendCleantes_events`. */
  field?: string
  /** The signature header's name. Default `X-SendCleanTES-Signature`. */
  header?: string
  /** Default the global `fetch`. */
  fetch?: typeof fetch
}

/**
 * Sign `events` as SendClean would and POST them to `url`, form-encoded: the response your
 * server gave (a 200 with `God bless you, SendClean` once every handler succeeded).
 *
 * @example
 * const response = await postSignedBatch({
 *   url: `http://127.0.0.1:${port}/webhooks/sendclean`,
 *   key: 'test-key',
 *   events: [sampleEvent('hard_bounce')],
 * })
 * expect(response.status).toBe(200)
 */
export async function postSignedBatch(options: PostSignedBatchOptions): Promise<Response> {
  refuseUnknownOptions(options, {
    url: true,
    key: true,
    events: true,
    signedUrl: true,
    field: true,
    header: true,
    fetch: true,
  } satisfies Record<keyof PostSignedBatchOptions, true>)
  if (typeof options.url !== 'string') {
    throw new WebhookError('CONFIGURATION', 'postSignedBatch needs `url`, your webhook endpoint')
  }
  const { body, headers } = await signDelivery({
    key: options.key,
    url: options.signedUrl ?? options.url,
    events: options.events,
    field: options.field,
    header: options.header ?? DEFAULT_SIGNATURE_HEADER,
  })
  return (options.fetch ?? fetch)(options.url, { method: 'POST', headers, body })
}
