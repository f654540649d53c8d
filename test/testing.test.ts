// sendclean-webhooks/testing: the helpers users' own tests import.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNodeHandler } from '../adapters/node.js'
import { EVENT_NAMES, parseEvent } from '../src/index.js'
import {
  postSignedBatch,
  SAMPLE_TYPES,
  sampleEvent,
  signDelivery,
  signForm,
  signJson,
} from '../testing/index.js'

const configuration = (message: RegExp) =>
  expect.objectContaining({ code: 'CONFIGURATION', message: expect.stringMatching(message) })

describe('sampleEvent', () => {
  it('makes, for every type, an event that the receiver parses as that type', () => {
    expect(SAMPLE_TYPES).toEqual(EVENT_NAMES)
    for (const type of SAMPLE_TYPES) {
      const event = parseEvent(sampleEvent(type))
      expect(event.event).toBe(type)
    }
  })

  it('takes overrides for top-level fields, and makes fresh ids otherwise', () => {
    const a = sampleEvent('click', { _id: 'msg-1', ts: 1_700_000_000_000 })
    expect(a._id).toBe('msg-1')
    expect(a.ts).toBe(1_700_000_000_000)
    expect(a.msg.clicks[0]?.clickTs).toBe(1_700_000_000_000)
    const b = sampleEvent('click')
    expect(b._id).not.toBe(sampleEvent('click')._id)
    expect(b.x_unique_id).not.toBe(a.x_unique_id)
    const bounce = sampleEvent('hard_bounce', {
      msg: { bounceDesc: 'no such user', bounceCodeTrad: 550, bounceCodeEnh: '5.1.1' },
    })
    expect(bounce.msg.bounceDesc).toBe('no such user')
  })

  // From JavaScript, a misspelt type used to give `{}`: a test of nothing.
  it('refuses a type it does not know, naming the one meant', () => {
    expect(() => sampleEvent('clik' as never)).toThrow(
      configuration(/unknown event type "clik" \(did you mean "click"\?\); expected one of send,/),
    )
  })
})

describe('the signing helpers', () => {
  const url = 'https://example.com/hook'
  // Each of these used to sign anyway (with the key "" or "undefined", or the default field),
  // so the mistake showed only as a 401 or an unhandled event further on.
  it('refuse a misspelt option, a missing or empty key, and a missing url', async () => {
    await expect(signDelivery({ key: 'k', url, events: [], feild: 'x' } as never)).rejects.toThrow(
      configuration(/unknown option "feild" \(did you mean "field"\?\)/),
    )
    for (const key of [undefined, '', 5]) {
      await expect(signDelivery({ key, url, events: [] } as never)).rejects.toThrow(
        configuration(/signDelivery needs `key`/),
      )
      await expect(signForm({ key, url, fields: {} } as never)).rejects.toThrow(
        configuration(/signForm needs `key`/),
      )
      await expect(signJson({ key, url, body: '[]' } as never)).rejects.toThrow(
        configuration(/signJson needs `key`/),
      )
    }
    await expect(signForm({ key: 'k', fields: {} } as never)).rejects.toThrow(
      configuration(/signForm needs `url`/),
    )
    await expect(signJson({ key: 'k', url, body: '[]', fields: {} } as never)).rejects.toThrow(
      configuration(/unknown option "fields"/),
    )
    await expect(signDelivery({ key: 'k', url } as never)).rejects.toThrow(
      configuration(/signDelivery needs `events`/),
    )
    // What is well formed still signs.
    expect(await signJson({ key: 'k', url, body: '[]' })).toMatch(/^[A-Za-z0-9+/]{27}=$/)
  })
})

describe('postSignedBatch', () => {
  const PATH = '/webhooks/sendclean'
  const handled: string[] = []
  let server: Server
  let url: string
  beforeAll(async () => {
    const handler = createNodeHandler({ keys: 'test-key', path: PATH, onError: () => {} }).on(
      '*',
      (event) => void handled.push(event.event),
    )
    server = await new Promise<Server>((resolve) => {
      const s = createServer(handler).listen(0, '127.0.0.1', () => resolve(s))
    })
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`
  })
  afterAll(() => void server.close())

  it('posts a batch the receiver accepts, signed with the key for the URL', async () => {
    handled.length = 0
    const events = [sampleEvent('send'), sampleEvent('spam')]
    const response = await postSignedBatch({ url, key: 'test-key', events })
    expect(response.status).toBe(200)
    expect(handled).toEqual(['send', 'spam'])
  })

  it('is refused with another key, or signed for another URL than the one the receiver sees', async () => {
    const events = [sampleEvent('send')]
    expect((await postSignedBatch({ url, key: 'wrong', events })).status).toBe(401)
    const proxied = await postSignedBatch({
      url,
      key: 'test-key',
      events,
      signedUrl: 'https://example.com/hook',
    })
    expect(proxied.status).toBe(401)
  })

  it('refuses a misspelt option and a missing url before it sends anything', async () => {
    let sent = 0
    const fetch = (async () => {
      sent++
      return new Response('')
    }) as typeof globalThis.fetch
    const events = [sampleEvent('send')]
    await expect(
      postSignedBatch({ url, key: 'test-key', events, signedURL: url, fetch } as never),
    ).rejects.toThrow(configuration(/unknown option "signedURL" \(did you mean "signedUrl"\?\)/))
    await expect(postSignedBatch({ key: 'test-key', events, fetch } as never)).rejects.toThrow(
      configuration(/postSignedBatch needs `url`/),
    )
    expect(sent).toBe(0)
  })
})
