import * as nodeCrypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as nodePlatform from '../src/platform/node.js'
import * as webPlatform from '../src/platform/web.js'
import { signDelivery, signForm, signJson } from '../testing/index.js'
import {
  FIELD,
  KEY,
  referenceSignature,
  SEED_EVENTS_TEXT,
  URL_REGISTERED,
} from './support/fixtures.js'

const parts = (...s: string[]) => s.map((x) => new TextEncoder().encode(x))

describe('signForm', () => {
  it('matches SPEC §3 computed independently', async () => {
    const fields = { [FIELD]: SEED_EVENTS_TEXT }
    expect(await signForm({ key: KEY, url: URL_REGISTERED, fields })).toBe(
      referenceSignature(KEY, URL_REGISTERED, fields),
    )
  })

  it('sorts fields by name and joins name+value without delimiters', async () => {
    const expected = nodeCrypto
      .createHmac('sha1', KEY)
      .update(`${URL_REGISTERED}aonebtwo`)
      .digest('base64')
    expect(
      await signForm({
        key: KEY,
        url: URL_REGISTERED,
        fields: [
          ['b', 'two'],
          ['a', 'one'],
        ],
      }),
    ).toBe(expected)
  })

  it('is base64 of the binary digest, not hex', async () => {
    const signature = await signForm({ key: KEY, url: URL_REGISTERED, fields: {} })
    expect(signature).toMatch(/^[A-Za-z0-9+/]{27}=$/)
  })
})

describe('signJson', () => {
  it('signs the URL followed by the raw text', async () => {
    const expected = nodeCrypto
      .createHmac('sha1', KEY)
      .update(URL_REGISTERED + SEED_EVENTS_TEXT)
      .digest('base64')
    expect(await signJson({ key: KEY, url: URL_REGISTERED, body: SEED_EVENTS_TEXT })).toBe(expected)
  })
})

describe('signDelivery', () => {
  it('builds a form body whose decoded value is what was signed', async () => {
    const delivery = await signDelivery({ key: KEY, url: URL_REGISTERED, events: SEED_EVENTS_TEXT })
    expect(new URLSearchParams(delivery.body).get(FIELD)).toBe(SEED_EVENTS_TEXT)
    expect(delivery.headers['x-sendcleantes-signature']).toBe(
      referenceSignature(KEY, URL_REGISTERED, { [FIELD]: SEED_EVENTS_TEXT }),
    )
    expect(delivery.headers['content-type']).toBe('application/x-www-form-urlencoded')
  })
})

describe('the two platform files', () => {
  it('agree on HMAC-SHA1 (Web Crypto and node:crypto), including with a cached key', async () => {
    const data = parts(URL_REGISTERED, FIELD, SEED_EVENTS_TEXT)
    const expected = await nodePlatform.hmacSha1Base64(KEY, data)
    expect(expected).toBe(referenceSignature(KEY, URL_REGISTERED, { [FIELD]: SEED_EVENTS_TEXT }))
    expect(await webPlatform.hmacSha1Base64(KEY, data)).toBe(expected)
    expect(await webPlatform.hmacSha1Base64(KEY, data)).toBe(expected)
    expect(await webPlatform.hmacSha1Base64('other', data)).not.toBe(expected)
  })

  it('agree on SHA-256 in base64url, for ASCII and non-ASCII text', async () => {
    for (const text of ['', 'a', SEED_EVENTS_TEXT, '\u00ff\ud83d\ude00 é']) {
      const node = await nodePlatform.sha256Base64url(text)
      expect(node).toBe(nodeCrypto.createHash('sha256').update(text).digest('base64url'))
      expect(await webPlatform.sha256Base64url(text)).toBe(node)
    }
  })

  it('find an optional peer on Node, never on the Web platform', () => {
    expect(nodePlatform.optionalPeer('@opentelemetry/api')).toHaveProperty('trace')
    expect(nodePlatform.optionalPeer('no-such-package-here')).toBeUndefined()
    expect(webPlatform.optionalPeer('@opentelemetry/api')).toBeUndefined()
  })
})

describe('a vector computed outside JavaScript', () => {
  // Field names 'a', 'ｱ' (U+FF71) and '😀' (U+1F600): sorted by UTF-8 bytes (61 < EF… < F0…) they
  // are a, ｱ, 😀; by UTF-16 code units (0061 < D83D < FF71) a, 😀, ｱ. SPEC §3 sorts by bytes:
  //   printf '%s' 'https://example.com/webhooks/sendclean' > d
  //   printf '%s' 'SendCleantes_events[{"event":"x_custom","n":"é"}]a1ｱ2😀3' >> d
  //   openssl dgst -sha1 -hmac 'vector-key' -binary d | base64
  const EVENTS = '[{"event":"x_custom","n":"é"}]'
  const FIELDS: Array<[string, string]> = [
    ['😀', '3'],
    ['a', '1'],
    [FIELD, EVENTS],
    ['ｱ', '2'],
  ]
  const OPENSSL = 'D1fOgz6mlEhsfE1lYqeDOTgc8C0='

  it('signForm produces it, whatever order the fields come in', async () => {
    expect(await signForm({ key: 'vector-key', url: URL_REGISTERED, fields: FIELDS })).toBe(OPENSSL)
  })

  it('the receiver accepts a form body with those fields and that signature', async () => {
    const { createReceiver } = await import('../src/index.js')
    const handled: string[] = []
    const receiver = createReceiver({
      keys: 'vector-key',
      url: URL_REGISTERED,
      onError: () => {},
      on: { '*': (event) => void handled.push(event.event) },
    })
    const res = await receiver.handle({
      method: 'POST',
      url: URL_REGISTERED,
      headers: new Headers({
        'content-type': 'application/x-www-form-urlencoded',
        'x-sendcleantes-signature': OPENSSL,
      }),
      body: new URLSearchParams(FIELDS).toString(),
      context: undefined,
    })
    expect(res.status, res.body).toBe(200)
    expect(handled).toEqual(['unknown'])
  })
})
