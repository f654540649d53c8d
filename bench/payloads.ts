// Signed SendClean deliveries of N realistic events, and JSON bodies of the same byte size for
// the peers, built once per N.

import { createHmac } from 'node:crypto'
import { DEFAULT_EVENTS_FIELD, type EventName } from 'sendclean-webhooks'
import { SAMPLE_TYPES, sampleEvent } from 'sendclean-webhooks/testing'

export const KEY = 'bench-key-aVLnPysvkKUU95AFrb47Zr'
export const URL_SIGNED = 'https://example.com/webhooks/sendclean'

export interface Payload {
  n: number
  eventsJson: string
  /** The form body as SendClean posts it. */
  form: string
  formBytes: Buffer
  signature: string
  /** A JSON body of the same byte length as `form`, for the peers. */
  json: string
}

export function payload(n: number): Payload {
  const events = Array.from({ length: n }, (_, i) =>
    sampleEvent(SAMPLE_TYPES[i % SAMPLE_TYPES.length] as EventName, {
      _id: `msg-${i}`,
      ts: 1_700_000_000_000 + i,
    }),
  )
  const eventsJson = JSON.stringify(events)
  const form = new URLSearchParams({ [DEFAULT_EVENTS_FIELD]: eventsJson }).toString()
  const signature = createHmac('sha1', KEY)
    .update(URL_SIGNED + DEFAULT_EVENTS_FIELD + eventsJson)
    .digest('base64')
  const base = JSON.stringify({ events, pad: '' })
  const json = JSON.stringify({ events, pad: 'x'.repeat(Math.max(0, form.length - base.length)) })
  return { n, eventsJson, form, formBytes: Buffer.from(form), signature, json }
}

/** A builder of the core request for a payload's form body (the headers built once). */
export function coreRequest(p: Payload) {
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    'x-sendcleantes-signature': p.signature,
  })
  return () => ({
    method: 'POST',
    url: URL_SIGNED,
    headers,
    body: p.formBytes,
    context: undefined,
  })
}

let serial = 0

/** A batch of N events no other call returns (unique message ids), signed; for queue runs. */
export function distinctPayload(n: number): { form: string; signature: string } {
  const run = ++serial
  const events = Array.from({ length: n }, (_, i) =>
    sampleEvent(SAMPLE_TYPES[i % SAMPLE_TYPES.length] as EventName, {
      _id: `msg-${process.pid}-${run}-${i}`,
      ts: Date.now(),
    }),
  )
  const eventsJson = JSON.stringify(events)
  return {
    form: new URLSearchParams({ [DEFAULT_EVENTS_FIELD]: eventsJson }).toString(),
    signature: createHmac('sha1', KEY)
      .update(URL_SIGNED + DEFAULT_EVENTS_FIELD + eventsJson)
      .digest('base64'),
  }
}
