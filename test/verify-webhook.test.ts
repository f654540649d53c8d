import { describe, expect, it } from 'vitest'
import { verifySignature, verifyWebhook, WebhookError } from '../src/index.js'
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

describe('verifySignature', () => {
  const url = URL_REGISTERED
  const headers = { 'content-type': FORM, [SIGNATURE_HEADER]: signature }

  it('is true for a signed delivery: form text or bytes, the fields a parser left, any key of several', async () => {
    expect(await verifySignature({ body, headers, url, keys: KEY })).toBe(true)
    expect(
      await verifySignature({
        body: new TextEncoder().encode(body),
        headers: new Headers(headers),
        url,
        keys: [OLD_KEY, KEY],
      }),
    ).toBe(true)
    expect(
      await verifySignature({ body: { [FIELD]: SEED_EVENTS_TEXT }, signature, url, keys: KEY }),
    ).toBe(true)
  })

  it('is false, never a throw, for a wrong key, another URL, no signature, no key, or a field sent twice', async () => {
    expect(await verifySignature({ body, headers, url, keys: OLD_KEY })).toBe(false)
    expect(await verifySignature({ body, headers, url: `${url}/`, keys: KEY })).toBe(false)
    expect(await verifySignature({ body, headers: { 'content-type': FORM }, url, keys: KEY })).toBe(
      false,
    )
    expect(await verifySignature({ body, headers, url, keys: [] })).toBe(false)
    const twice = `${body}&${body}`
    const twiceSigned = referenceSignature(KEY, url, { [FIELD]: SEED_EVENTS_TEXT })
    expect(await verifySignature({ body: twice, signature: twiceSigned, url, keys: KEY })).toBe(
      false,
    )
  })

  it('never accepts the empty key: a blank `keys` (an unset variable) is no key', async () => {
    // Signed by anybody: HMAC with an empty key.
    const forged = referenceSignature('', url, { [FIELD]: SEED_EVENTS_TEXT })
    for (const keys of ['', [''], ' , ', [' ']]) {
      expect(await verifySignature({ body, signature: forged, url, keys })).toBe(false)
    }
  })

  it('reads several keys in one string, separated by commas, as the receiver does', async () => {
    for (const keys of [`${OLD_KEY},${KEY}`, ` ${OLD_KEY} , ${KEY} `]) {
      expect(await verifySignature({ body, headers, url, keys })).toBe(true)
    }
  })

  it('rejects options it cannot use with CONFIGURATION, naming the one meant', async () => {
    const refused = (options: unknown, message: string) =>
      expect(verifySignature(options as Parameters<typeof verifySignature>[0])).rejects.toThrow(
        expect.objectContaining({
          code: 'CONFIGURATION',
          message: expect.stringContaining(message),
        }),
      )
    await refused({ body, headers, url, key: KEY }, 'unknown option "key" (did you mean "keys"?)')
    await refused(
      { body, headers, url, keys: KEY, signatureHeadr: 'x' },
      '(did you mean "signatureHeader"?)',
    )
    await refused({ body, headers, keys: KEY }, '`url` must be the URL registered')
    await refused({ body, headers, url, keys: 42 }, '`keys` must be the webhook key')
    await refused({ body, headers, url }, '`keys` must be the webhook key')
    await expect(
      verifyWebhook({ body, headers, url, keys: KEY, maxBodySize: 10 } as never),
    ).rejects.toThrow('unknown option "maxBodySize" (did you mean "maxBodyBytes"?)')
  })

  it('checks a handshake-shaped body too (it parses no events)', async () => {
    const empty = formDelivery('[]')
    expect(
      await verifySignature({ body: empty.body, signature: empty.signature, url, keys: KEY }),
    ).toBe(true)
    expect(await verifySignature({ body: empty.body, signature, url, keys: KEY })).toBe(false)
  })

  it('signs a JSON body as the URL followed by its raw text', async () => {
    const { createHmac } = await import('node:crypto')
    const json = SEED_EVENTS_TEXT
    const jsonSignature = createHmac('sha1', KEY)
      .update(url + json)
      .digest('base64')
    const jsonHeaders = { 'content-type': 'application/json', [SIGNATURE_HEADER]: jsonSignature }
    expect(await verifySignature({ body: json, headers: jsonHeaders, url, keys: KEY })).toBe(true)
    expect(await verifySignature({ body: `${json} `, headers: jsonHeaders, url, keys: KEY })).toBe(
      false,
    )
  })
})
