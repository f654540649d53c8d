// One receiver built once, mounted by every adapter at once over real HTTP: each mount verifies
// with the receiver's keys and runs the receiver's handlers, and `on()` through any mount adds
// to the same receiver.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { createFastifyHandler } from '../adapters/fastify.js'
import { createFetchHandler } from '../adapters/fetch.js'
import { createHonoHandler } from '../adapters/hono.js'
import { createKoaMiddleware } from '../adapters/koa.js'
import { createNodeHandler } from '../adapters/node.js'
import { createReceiver } from '../src/index.js'
import { KEY, postSeedBatch, SEED_EVENTS } from './support/fixtures.js'

const PATH = '/webhooks/sendclean'

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(handler).listen(0, '127.0.0.1', () => resolve(server))
  })
}
const base = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`

describe('one receiver, every adapter', () => {
  const handled: string[] = []
  const viaMount: string[] = []
  const receiver = createReceiver({ keys: KEY, onError: () => {} }).on('*', (event) => {
    handled.push(event.event)
  })
  const servers: Record<string, Server> = {}

  beforeAll(async () => {
    const app = express()
    const expressMount = createExpressMiddleware(receiver)
    app.use(PATH, expressMount)
    servers.express = await listen(app)

    const koa = new Koa()
    koa.use(createKoaMiddleware(receiver, { path: PATH }))
    servers.koa = await listen(koa.callback())

    servers.node = await listen(createNodeHandler(receiver, { path: PATH }))

    const hono = new Hono().all(PATH, createHonoHandler(receiver))
    servers.hono = await listen(getRequestListener(hono.fetch))

    servers.fetch = await listen(getRequestListener(createFetchHandler(receiver)))

    // A handler added through one mount is the receiver's: every mount runs it.
    expressMount.on('spam', (event) => void viaMount.push(event._id))
  })
  afterAll(() => {
    for (const server of Object.values(servers)) server.close()
  })

  for (const adapter of ['express', 'koa', 'node', 'hono', 'fetch']) {
    it(`${adapter}: verifies with the receiver's key and runs its handlers`, async () => {
      handled.length = 0
      viaMount.length = 0
      const server = servers[adapter] as Server
      const response = await postSeedBatch(`${base(server)}${PATH}`, KEY)
      expect(response.status).toBe(200)
      expect(handled).toEqual(SEED_EVENTS.map((e) => e.event))
      expect(viaMount).toEqual(SEED_EVENTS.filter((e) => e.event === 'spam').map((e) => e._id))
      const forged = await postSeedBatch(`${base(server)}${PATH}`, 'not-the-key')
      expect(forged.status).toBe(401)
    })
  }

  it('koa and node keep their path option with a receiver: other paths pass through', async () => {
    const koa = await fetch(`${base(servers.koa as Server)}/elsewhere`)
    expect(koa.status).toBe(404)
    const node = await fetch(`${base(servers.node as Server)}/elsewhere`)
    expect(node.status).toBe(404)
    expect(await node.text()).toBe('Not Found')
  })
})

describe('the mount of a receiver built once', () => {
  it('Koa and node take `path` and refuse a misspelt one (it would answer every path)', () => {
    const receiver = createReceiver({ keys: KEY })
    const paht = { paht: PATH } as { path?: string }
    for (const mount of [
      () => createKoaMiddleware(receiver, paht),
      () => createNodeHandler(receiver, paht),
    ]) {
      expect(mount).toThrow(
        expect.objectContaining({
          code: 'CONFIGURATION',
          message: 'sendclean-webhooks: unknown option "paht" (did you mean "path"?)',
        }),
      )
    }
    expect(() => createKoaMiddleware(receiver, { path: PATH })).not.toThrow()
  })

  // Compared with the request's path as it arrives, such a path matched nothing: every delivery
  // fell through to the app's 404, and SendClean kept retrying.
  it('Koa and node refuse a path no request path can equal, in options or in a mount', () => {
    const receiver = createReceiver({ keys: KEY })
    const configuration = (message: string) =>
      expect.objectContaining({ code: 'CONFIGURATION', message: expect.stringContaining(message) })
    for (const create of [createKoaMiddleware, createNodeHandler]) {
      const call = create as (...args: unknown[]) => unknown
      for (const path of ['webhooks/sendclean', `${PATH}?token=x`, '', 5]) {
        expect(() => call(receiver, { path })).toThrow(configuration('starting with `/`'))
        expect(() => call({ keys: KEY, path })).toThrow(configuration('starting with `/`'))
      }
      expect(() => call({ keys: KEY, path: `https://example.com${PATH}` })).toThrow(
        configuration('not the whole URL; give the URL as `url`'),
      )
      expect(() => call(receiver, { path: `${PATH}/` })).not.toThrow()
    }
  })

  it('refuses a mount given with options instead of a receiver (its path would be lost)', () => {
    const withOptions = [
      () => (createKoaMiddleware as (...args: unknown[]) => unknown)({ keys: KEY }, { path: PATH }),
      () => (createNodeHandler as (...args: unknown[]) => unknown)({ keys: KEY }, { path: PATH }),
    ]
    for (const mount of withOptions) {
      expect(mount).toThrow(
        expect.objectContaining({
          code: 'CONFIGURATION',
          message: expect.stringContaining('with options, put `path` in them'),
        }),
      )
    }
  })

  // `createExpressMiddleware(receiver, { path })`, a habit from the Koa adapter, dropped the path:
  // mounted with app.use(middleware), it then answered every path of the app.
  it('the adapters that take no mount refuse a second argument, saying how to mount them', () => {
    const receiver = createReceiver({ keys: KEY })
    for (const [create, how] of [
      [createExpressMiddleware, 'app.use(path, …)'],
      [createHonoHandler, "app.on(['GET', 'HEAD', 'POST'], path, …)"],
      [createFetchHandler, 'your router'],
      [createFastifyHandler, 'app.route('],
    ] as const) {
      const call = create as (...args: unknown[]) => unknown
      for (const source of [receiver, { keys: KEY }]) {
        expect(() => call(source, { path: PATH })).toThrow(
          expect.objectContaining({
            code: 'CONFIGURATION',
            message: expect.stringContaining(
              `this adapter takes one argument, a receiver or its options, and no mount`,
            ),
          }),
        )
        expect(() => call(source, { path: PATH })).toThrow(
          expect.objectContaining({
            message: expect.stringContaining(how),
          }),
        )
        expect(() => call(source)).not.toThrow()
        expect(() => call(source, undefined)).not.toThrow()
        expect(() => [source].map(call)).not.toThrow() // map passes an index
      }
    }
  })
})
