import { describe, expect, it } from 'vitest'
import { verifyWebhook, WebhookError } from '../src/index.js'
import {
  FIELD,
  FORM,
  formDelivery,
  KEY,
  OLD_KEY,
  referenceSignature,
  SEED_EVENTS,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'

const { body, signature } = formDelivery()

describe('verifyWebhook', () => {
  it('returns the typed events of a signed delivery, in order', async () => {
    const events = await verifyWebhook({
      body,
      headers: { 'Content-Type': FORM, [SIGNATURE_HEADER]: signature },
      url: URL_REGISTERED,
      keys: KEY,
    })
    expect(events.map((e) => e.event)).toEqual(SEED_EVENTS.map((e) => e.event))
    const click = events[4]
    if (click?.event !== 'click') throw new Error('expected a click')
    expect(click.msg.clicks[0]?.clickUrl).toBe('http://example.com/')
  })

  it('takes the signature apart, bytes, a Headers object, or the fields a form parser left', async () => {
    const inputs = [
      { body, signature },
      {
        body: new TextEncoder().encode(body),
        headers: new Headers({ [SIGNATURE_HEADER]: signature }),
      },
      { body: { [FIELD]: SEED_EVENTS_TEXT }, signature },
    ]
    for (const input of inputs) {
      const events = await verifyWebhook({ ...input, url: URL_REGISTERED, keys: [OLD_KEY, KEY] })
      expect(events).toHaveLength(7)
    }
  })

  it('verifies a JSON body over its raw text', async () => {
    const events = await verifyWebhook({
      body: SEED_EVENTS_TEXT,
      contentType: 'application/json',
      signature: referenceSignature(KEY, URL_REGISTERED + SEED_EVENTS_TEXT, {}),
      url: URL_REGISTERED,
      keys: KEY,
    })
    expect(events).toHaveLength(7)
  })

  it("throws the receiver's error for a bad signature, with the same code and message", async () => {
    const error = await verifyWebhook({
      body,
      signature: 'bm9wZQ==',
      url: URL_REGISTERED,
      keys: KEY,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WebhookError)
    expect(error).toMatchObject({ code: 'SIGNATURE_MISMATCH', status: 401 })
    expect((error as Error).message).toContain(URL_REGISTERED)
    const missing = await verifyWebhook({ body, url: URL_REGISTERED, keys: KEY }).catch((e) => e)
    expect(missing).toMatchObject({ code: 'MISSING_SIGNATURE' })
  })

  it('returns [] for a handshake and invalid events as invalid (or throws with strict)', async () => {
    expect(await verifyWebhook({ body: '', url: URL_REGISTERED, keys: KEY })).toEqual([])
    const bad = formDelivery(JSON.stringify([{ ...SEED_EVENTS[0], ts: 'soon' }]))
    const events = await verifyWebhook({ ...bad, url: URL_REGISTERED, keys: KEY })
    expect(events.map((e) => e.event)).toEqual(['invalid'])
    await expect(
      verifyWebhook({ ...bad, url: URL_REGISTERED, keys: KEY, strict: true }),
    ).rejects.toMatchObject({ code: 'MALFORMED_PAYLOAD', status: 400 })
  })

  it("applies the receiver's limits", async () => {
    await expect(
      verifyWebhook({ body, signature, url: URL_REGISTERED, keys: KEY, maxBodyBytes: 100 }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    await expect(
      verifyWebhook({
        body: 'a=1&b=2&c=3',
        signature,
        url: URL_REGISTERED,
        keys: KEY,
        maxFields: 2,
      }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  })
})
