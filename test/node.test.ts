import { createServer } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createFetchHandler } from '../adapters/fetch.js'
import { createNodeHandler } from '../adapters/node.js'
import { badInputMatrix } from './support/bad-input-matrix.js'
import { FORM, formDelivery, KEY, SIGNATURE_HEADER, URL_REGISTERED } from './support/fixtures.js'
import { PATH, specMatrix } from './support/spec-matrix.js'

describe('node:http adapter', () => {
  specMatrix((options) => createServer(createNodeHandler({ ...options, path: PATH })))
  badInputMatrix((options) => createServer(createNodeHandler({ ...options, path: PATH })))

  it('answers 404 off its path, or calls next()', async () => {
    const handler = createNodeHandler({ keys: KEY, path: PATH })
    expect((await request(createServer(handler)).get('/other')).status).toBe(404)
    const server = createServer((req, res) =>
      handler(req, res, () => {
        res.end('next')
      }),
    )
    expect((await request(server).get('/other')).text).toBe('next')
  })

  it('gives handlers req and res', async () => {
    const seen: string[] = []
    const handler = createNodeHandler({ keys: KEY, url: URL_REGISTERED }).on(
      'delivered',
      (event, { req }) => {
        seen.push(`${event._id}:${req.headers['content-type']}`)
      },
    )
    const { body, signature } = formDelivery()
    const res = await request(createServer(handler))
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(seen).toEqual([`14304056-C18956K3-AX7C-41E4-8A14-7E1G4HJYCBCD.129.1:${FORM}`])
  })
})

describe('fetch adapter', () => {
  specMatrix((options) => createAdaptorServer({ fetch: createFetchHandler(options) }) as never)
  badInputMatrix((options) => createAdaptorServer({ fetch: createFetchHandler(options) }) as never)

  it('passes the extra arguments (Workers env, ctx) to handlers', async () => {
    const seen: unknown[] = []
    const handler = createFetchHandler({ keys: KEY, url: URL_REGISTERED }).on(
      'send',
      (_event, { args }) => {
        seen.push(args[0])
      },
    )
    const { body, signature } = formDelivery()
    const res = await handler(
      new Request(`http://localhost${PATH}`, {
        method: 'POST',
        body,
        headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
      }),
      { KV: 'binding' },
    )
    expect(res.status).toBe(200)
    expect(seen).toEqual([{ KV: 'binding' }])
  })

  it('reports a body read before the handler as consumed', async () => {
    const handler = createFetchHandler({ keys: KEY, url: URL_REGISTERED, onError: () => {} })
    const req = new Request(`http://localhost${PATH}`, {
      method: 'POST',
      body: formDelivery().body,
      headers: { 'content-type': FORM },
    })
    await req.text()
    const res = await handler(req)
    expect(res.status).toBe(500)
    expect(await res.text()).toContain('consumed')
  })
})
