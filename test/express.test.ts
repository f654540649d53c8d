import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { createExpressMiddleware, type ExpressContext } from '../adapters/express.js'
import { HANDSHAKE_BODY, type ReceiverOptions, type WebhookError } from '../src/index.js'
import { badInputMatrix } from './support/bad-input-matrix.js'
import {
  FORM,
  formDelivery,
  KEY,
  referenceSignature,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'
import { PATH, specMatrix } from './support/spec-matrix.js'

const mount = (options: ReceiverOptions<ExpressContext>, before: express.RequestHandler[] = []) => {
  const app = express()
  for (const middleware of before) app.use(middleware)
  app.use(PATH, createExpressMiddleware(options))
  return createServer(app)
}

describe('Express adapter', () => {
  specMatrix((options) => mount(options))
  badInputMatrix((options) => mount(options))

  it('verifies after express.urlencoded() from the parsed fields', async () => {
    const { body, signature } = formDelivery()
    const types: string[] = []
    const server = mount(
      { keys: KEY, url: URL_REGISTERED, on: { '*': (e) => void types.push(e.event) } },
      [express.urlencoded({ extended: false, limit: '5mb' })],
    )
    const res = await request(server)
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(types).toHaveLength(7)
  })

  it('refuses a field that extended parsing turned into an object, saying why', async () => {
    const { signature } = formDelivery()
    const server = mount({ keys: KEY, url: URL_REGISTERED, onError: () => {} }, [
      express.urlencoded({ extended: true }),
    ])
    const res = await request(server)
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send('SendCleantes_events[a]=1')
    expect(res.status).toBe(400)
    expect(res.text).toContain('extended')
  })

  it('verifies a JSON body after express.json() when verify keeps req.rawBody', async () => {
    const signature = referenceSignature(KEY, URL_REGISTERED + SEED_EVENTS_TEXT, {})
    const types: string[] = []
    const server = mount(
      { keys: KEY, url: URL_REGISTERED, on: { '*': (e) => void types.push(e.event) } },
      [
        express.json({
          verify: (req, _res, buf) => {
            ;(req as unknown as { rawBody?: Buffer }).rawBody = buf
          },
        }),
      ],
    )
    const res = await request(server)
      .post(PATH)
      .set('content-type', 'application/json')
      .set(SIGNATURE_HEADER, signature)
      .send(SEED_EVENTS_TEXT)
    expect(res.status).toBe(200)
    expect(types).toHaveLength(7)
  })

  it('says what to change when express.json() consumed the body without a raw copy', async () => {
    const errors: WebhookError[] = []
    const server = mount({ keys: KEY, url: URL_REGISTERED, onError: (e) => void errors.push(e) }, [
      express.json(),
    ])
    const res = await request(server)
      .post(PATH)
      .set('content-type', 'application/json')
      .set(SIGNATURE_HEADER, 'x')
      .send(SEED_EVENTS_TEXT)
    expect(res.status).toBe(500)
    expect(res.text).toContain('rawBody')
    expect(errors.map((e) => e.code)).toEqual(['BODY_CONSUMED'])
  })

  it('accepts a JSON object body with a string events field', async () => {
    const raw = JSON.stringify({ SendCleantes_events: SEED_EVENTS_TEXT })
    const signature = referenceSignature(KEY, URL_REGISTERED + raw, {})
    const types: string[] = []
    const server = mount({
      keys: KEY,
      url: URL_REGISTERED,
      on: { '*': (e) => void types.push(e.event) },
    })
    const res = await request(server)
      .post(PATH)
      .set('content-type', 'application/json')
      .set(SIGNATURE_HEADER, signature)
      .send(raw)
    expect(res.status).toBe(200)
    expect(types).toHaveLength(7)
  })

  describe('the URL that is signed', () => {
    let server: Server | undefined
    afterEach(() => server?.close())

    async function listen(options: ReceiverOptions<ExpressContext>) {
      server = mount(options)
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }

    it('defaults to the URL the request arrived at, query string included', async () => {
      const base = await listen({ keys: KEY })
      const url = `${base}${PATH}?account=7`
      const { body, signature } = formDelivery(SEED_EVENTS_TEXT, { url })
      const res = await request(base)
        .post(`${PATH}?account=7`)
        .type(FORM)
        .set(SIGNATURE_HEADER, signature)
        .send(body)
      expect(res.status).toBe(200)
    })

    it('names the signed URL and the one that matches when they differ, in onError only', async () => {
      const errors: WebhookError[] = []
      const base = await listen({ keys: KEY, onError: (e) => void errors.push(e) })
      const { body, signature } = formDelivery(SEED_EVENTS_TEXT, {
        url: `https://example.com${PATH}`,
      })
      const res = await request(base)
        .post(PATH)
        .type(FORM)
        .set('x-forwarded-proto', 'https')
        .set('x-forwarded-host', 'example.com')
        .set(SIGNATURE_HEADER, signature)
        .send(body)
      expect(res.status).toBe(401)
      expect(res.text).not.toContain('example.com')
      expect(res.text).not.toContain(base)
      expect(errors[0]?.code).toBe('URL_MISMATCH')
      expect(errors[0]?.message).toContain(`the signature was made for https://example.com${PATH}`)
      expect(errors[0]?.message).toContain(`${base}${PATH} was used to check it`)
    })

    it('uses X-Forwarded-Proto and X-Forwarded-Host with trustProxy', async () => {
      const base = await listen({ keys: KEY, trustProxy: true })
      const { body, signature } = formDelivery(SEED_EVENTS_TEXT, {
        url: `https://example.com${PATH}`,
      })
      const res = await request(base)
        .post(PATH)
        .type(FORM)
        .set('x-forwarded-proto', 'https')
        .set('x-forwarded-host', 'example.com')
        .set(SIGNATURE_HEADER, signature)
        .send(body)
      expect(res.status).toBe(200)
    })
  })

  it('gives handlers req and res, and supports on() with several types', async () => {
    const { body, signature } = formDelivery()
    const seen: string[] = []
    const middleware = createExpressMiddleware({ keys: KEY, url: URL_REGISTERED })
      .on(['hard_bounce', 'soft_bounce'], (event, { req }) => {
        seen.push(`${event.event}:${event.msg.bounceCodeEnh}:${req.method}`)
      })
      .on('spam', (event, { res }) => {
        seen.push(`${event.msg.feedback.feedbackType}:${res.headersSent}`)
      })
    const app = express()
    app.use(PATH, middleware)
    const res = await request(app).post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
    expect(res.status).toBe(200)
    expect(res.text).toBe(HANDSHAKE_BODY)
    expect(seen).toEqual(['hard_bounce:5.2.2:POST', 'soft_bounce:4.2.2:POST', 'abuse:false'])
  })

  it('fails at construction without keys', () => {
    expect(() => createExpressMiddleware({} as ReceiverOptions<ExpressContext>)).toThrow(
      /`keys` is required/,
    )
  })

  it('refuses `path` at construction, where it would have answered every path of the app', () => {
    const options = { keys: KEY, path: '/webhooks/sendclean' } as ReceiverOptions<ExpressContext>
    expect(() => createExpressMiddleware(options)).toThrow(
      expect.objectContaining({
        code: 'CONFIGURATION',
        message: expect.stringContaining('unknown option "path": mount the receiver on its path'),
      }),
    )
  })
})
