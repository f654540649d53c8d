import { createServer } from 'node:http'
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import Koa, { type Context } from 'koa'
import legacyBodyParser from 'koa-bodyparser'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createKoaMiddleware } from '../adapters/koa.js'
import type { ReceiverOptions, WebhookError } from '../src/index.js'
import { badInputMatrix } from './support/bad-input-matrix.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'
import { PATH, postSeedJson, specMatrix } from './support/spec-matrix.js'

const mount = (options: ReceiverOptions<Context>, before: Koa.Middleware[] = []) => {
  const app = new Koa()
  for (const middleware of before) app.use(middleware)
  app.use(createKoaMiddleware({ ...options, path: PATH }))
  app.use((ctx) => {
    ctx.body = 'next'
  })
  return createServer(app.callback())
}

describe('Koa adapter', () => {
  specMatrix((options) => mount(options))
  badInputMatrix((options) => mount(options))

  it('passes other paths to the next middleware', async () => {
    const res = await request(mount({ keys: KEY })).get('/elsewhere')
    expect(res.text).toBe('next')
  })

  it('verifies after @koa/bodyparser, form and JSON, from ctx.request.rawBody', async () => {
    const types: string[] = []
    const server = mount(
      { keys: KEY, url: URL_REGISTERED, on: { '*': (e) => void types.push(e.event) } },
      [bodyParser()],
    )
    const form = formDelivery()
    const res1 = await request(server)
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, form.signature)
      .send(form.body)
    expect(res1.status).toBe(200)
    const res2 = await postSeedJson(request(server))
    expect(res2.status).toBe(200)
    expect(types).toHaveLength(14)
  })

  it('verifies after the older koa-bodyparser too', async () => {
    const types: string[] = []
    const server = mount(
      { keys: KEY, url: URL_REGISTERED, on: { '*': (e) => void types.push(e.event) } },
      [legacyBodyParser()],
    )
    const { body, signature } = formDelivery()
    const res = await request(server)
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(types).toHaveLength(7)
  })

  it('verifies a form from the parsed fields when no raw body is kept', async () => {
    const types: string[] = []
    const dropRaw: Koa.Middleware = async (ctx, next) => {
      delete (ctx.request as { rawBody?: string }).rawBody
      await next()
    }
    const server = mount(
      { keys: KEY, url: URL_REGISTERED, on: { '*': (e) => void types.push(e.event) } },
      [bodyParser(), dropRaw],
    )
    const { body, signature } = formDelivery()
    const res = await request(server)
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(types).toHaveLength(7)
  })

  it('says what to change when a parser consumed a JSON body without a raw copy', async () => {
    const errors: WebhookError[] = []
    const dropRaw: Koa.Middleware = async (ctx, next) => {
      delete (ctx.request as { rawBody?: string }).rawBody
      await next()
    }
    const server = mount({ keys: KEY, url: URL_REGISTERED, onError: (e) => void errors.push(e) }, [
      bodyParser(),
      dropRaw,
    ])
    const res = await request(server)
      .post(PATH)
      .set('content-type', 'application/json')
      .set(SIGNATURE_HEADER, 'x')
      .send(SEED_EVENTS_TEXT)
    expect(res.status).toBe(500)
    expect(res.text).toContain('@koa/bodyparser')
    expect(errors[0]?.code).toBe('BODY_CONSUMED')
  })

  it('works under @koa/router and gives handlers ctx', async () => {
    const app = new Koa()
    const router = new Router()
    const seen: string[] = []
    const hook = createKoaMiddleware({ keys: KEY, url: URL_REGISTERED }).on(
      'click',
      (event, ctx) => {
        seen.push(`${event.msg.clicks[0]?.clickUrl} via ${ctx.path}`)
      },
    )
    router.all(PATH, hook)
    app.use(router.routes())
    const { body, signature } = formDelivery()
    const res = await request(createServer(app.callback()))
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(seen).toEqual([`http://example.com/ via ${PATH}`])
  })
})
