import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createHonoHandler } from '../adapters/hono.js'
import { HANDSHAKE_BODY, type ReceiverOptions } from '../src/index.js'
import { badInputMatrix } from './support/bad-input-matrix.js'
import { FORM, formDelivery, KEY, SIGNATURE_HEADER, URL_REGISTERED } from './support/fixtures.js'
import { PATH, specMatrix } from './support/spec-matrix.js'

type E = { Variables: { tenant: string }; Bindings: { SENDCLEAN_WEBHOOK_KEY: string } }

describe('Hono adapter', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the matrix passes options for any context
  const mountHono = (options: ReceiverOptions<any>) => {
    const app = new Hono()
    app.all(PATH, createHonoHandler(options))
    return createAdaptorServer({ fetch: app.fetch }) as never
  }
  specMatrix(mountHono)
  badInputMatrix(mountHono)

  // The path Bun, Deno and Workers take: the app gets a Web Request and no node-server env, so
  // the adapter cannot reach the Node request; served over HTTP so the same matrices apply.
  describe('Web path (no node-server env)', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the matrix passes options for any context
    const mountWeb = (options: ReceiverOptions<any>) => {
      const app = new Hono()
      app.all(PATH, createHonoHandler(options))
      return createAdaptorServer({ fetch: (request: Request) => app.fetch(request) }) as never
    }
    specMatrix(mountWeb)
    badInputMatrix(mountWeb)
  })

  it("takes the Web path on node-server when Hono has no bodyCache (it is Hono's, undocumented)", async () => {
    const handled: string[] = []
    const app = new Hono()
    app.use(async (c, next) => {
      // As a Hono release that renamed its private cache would look to the adapter.
      Object.defineProperty(c.req, 'bodyCache', { value: undefined })
      await next()
    })
    app.all(
      PATH,
      createHonoHandler({ keys: KEY, url: URL_REGISTERED }).on(
        '*',
        (e) => void handled.push(e.event),
      ),
    )
    const { body, signature } = formDelivery()
    const res = await request(createAdaptorServer({ fetch: app.fetch }))
      .post(PATH)
      .set('content-type', FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(handled).toHaveLength(7)
  })

  it('reads keys from c.env and gives handlers a typed c (Workers-style app.request)', async () => {
    const seen: string[] = []
    const app = new Hono<E>()
    app.use(async (c, next) => {
      c.set('tenant', 'acme')
      await next()
    })
    app.on(
      ['GET', 'HEAD', 'POST'],
      PATH,
      createHonoHandler<E>({
        keys: ({ context: c }) => c.env.SENDCLEAN_WEBHOOK_KEY,
        url: URL_REGISTERED,
      }).on('open', (event, c) => {
        seen.push(`${c.get('tenant')}:${event.msg.opens[0]?.openTs}`)
      }),
    )
    const { body, signature } = formDelivery()
    // app.request() runs the app as a Workers runtime would: a Request in, a Response out, an env.
    const res = await app.request(
      PATH,
      { method: 'POST', body, headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature } },
      { SENDCLEAN_WEBHOOK_KEY: KEY },
    )
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(HANDSHAKE_BODY)
    expect(seen).toEqual(['acme:1465988314000'])
  })

  it('verifies a body that an earlier middleware already read through c.req', async () => {
    const app = new Hono()
    let count = 0
    app.use(async (c, next) => {
      await c.req.text()
      await next()
    })
    app.post(
      PATH,
      createHonoHandler({ keys: KEY, url: URL_REGISTERED, on: { '*': () => void count++ } }),
    )
    const { body, signature } = formDelivery()
    const res = await request(createAdaptorServer({ fetch: app.fetch }) as never)
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(count).toBe(7)
  })
})
