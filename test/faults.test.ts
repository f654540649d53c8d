import { createServer } from 'node:http'
import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { memoryStore, type WebhookError, type WebhookEvent } from '../src/index.js'
import { FORM, formDelivery, KEY, SIGNATURE_HEADER, URL_REGISTERED } from './support/fixtures.js'

const PATH = '/webhooks/sendclean'

describe('handler faults over HTTP', () => {
  it('a hanging handler is answered 503 after handlerTimeoutMs, and the rest of the batch is not started', async () => {
    const started: string[] = []
    const errors: WebhookError[] = []
    const app = express()
    app.use(
      PATH,
      createExpressMiddleware({
        keys: KEY,
        url: URL_REGISTERED,
        handlerTimeoutMs: 100,
        onError: (e) => void errors.push(e),
        on: {
          '*': (event: WebhookEvent) => {
            started.push(event.event)
            if (event.event === 'send') return new Promise(() => {})
          },
        },
      }),
    )
    const { body, signature } = formDelivery()
    const res = await request(createServer(app))
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(503)
    expect(res.text).toContain('event 2 (send) timed out')
    expect(errors.map((e) => e.code)).toEqual(['HANDLER_TIMEOUT'])
    await new Promise((r) => setTimeout(r, 50))
    expect(started).toEqual(['hard_bounce', 'soft_bounce', 'send'])
  })

  it('a thrown handler is 500 and its event is not marked, so the retry runs it again', async () => {
    const store = memoryStore()
    let attempts = 0
    const app = express()
    app.use(
      PATH,
      createExpressMiddleware({
        keys: KEY,
        url: URL_REGISTERED,
        idempotency: { store },
        onError: () => {},
        on: {
          open: () => {
            if (++attempts === 1) throw new Error('transient')
          },
        },
      }),
    )
    const { body, signature } = formDelivery()
    const server = createServer(app)
    expect(
      (await request(server).post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body))
        .status,
    ).toBe(500)
    expect(
      (await request(server).post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body))
        .status,
    ).toBe(200)
    expect(attempts).toBe(2)
  })
})
