import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAdaptorServer } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { createHonoHandler } from '../adapters/hono.js'
import { createKoaMiddleware } from '../adapters/koa.js'
import { type Emulator, startEmulator, subscribes } from '../emulator/index.js'
import { createClient } from '../src/client.js'
import { HANDSHAKE_BODY, type WebhookEvent } from '../src/index.js'

const OWNER = 'owner'
const TOKEN = 'token'
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function emulator(
  options: Partial<Parameters<typeof startEmulator>[0]> = {},
): Promise<Emulator> {
  const instance = await startEmulator({
    ownerId: OWNER,
    token: TOKEN,
    retryDelayMs: 5,
    ...options,
  })
  cleanups.push(() => instance.close())
  return instance
}

/** SPEC §3 written out here with node:crypto, independent of the package. */
function independentlyVerified(
  url: string,
  key: string,
  rawBody: string,
  signature: string | undefined,
): boolean {
  const hmac = createHmac('sha1', key).update(url)
  const fields = [...new URLSearchParams(rawBody)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  for (const [name, value] of fields) hmac.update(name).update(value)
  return hmac.digest('base64') === signature
}

type Mount = (keys: () => string, seen: WebhookEvent[]) => Server

const frameworks: Record<string, Mount> = {
  express: (keys, seen) => {
    const app = express()
    app.use('/hook', createExpressMiddleware({ keys, on: { '*': (e) => void seen.push(e) } }))
    return createServer(app)
  },
  koa: (keys, seen) => {
    const app = new Koa()
    app.use(createKoaMiddleware({ path: '/hook', keys, on: { '*': (e) => void seen.push(e) } }))
    return createServer(app.callback())
  },
  hono: (keys, seen) => {
    const app = new Hono()
    app.all('/hook', createHonoHandler({ keys, on: { '*': (e) => void seen.push(e) } }))
    return createAdaptorServer({ fetch: app.fetch }) as Server
  },
}

describe.each(Object.entries(frameworks))('deliveries into %s', (_name, mount) => {
  it('registers with a real handshake, then delivers every type, signed, in batches', async () => {
    const sendclean = await emulator()
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    let key = ''
    const seen: WebhookEvent[] = []
    const url = `${await listen(mount(() => key, seen))}/hook`

    await client.addWebhook({
      url,
      events: ['send', 'open', 'click', 'soft_bounce', 'hard_bounce', 'spam'],
    })
    const [hook] = await client.listWebhooks()
    key = hook?.key as string

    const results = await sendclean.trigger({ count: 2, batch: 5 })
    expect(results.map((r) => [r.status, r.events])).toEqual([
      [200, 5],
      [200, 5],
      [200, 4],
    ])
    expect(seen.map((e) => e.event).sort()).toEqual(
      ['send', 'delivered', 'open', 'click', 'hard_bounce', 'soft_bounce', 'spam']
        .flatMap((t) => [t, t])
        .sort(),
    )
    const info = await client.getWebhook(hook?.webhookId as string)
    expect(info.totalEvents).toBe(14)
    expect(info.lastSuccess).toBeInstanceOf(Date)
  })
})

describe('emulator', () => {
  it('signs deliveries so that an independent SPEC §3 computation agrees', async () => {
    const sendclean = await emulator()
    const captured: Array<{ body: string; signature: string | undefined }> = []
    const url = `${await listen(
      createServer(async (req, res) => {
        let body = ''
        for await (const chunk of req) body += chunk
        if (req.method === 'POST' && body.includes('events=%5B%7B')) {
          captured.push({ body, signature: req.headers['x-sendcleantes-signature'] as string })
        }
        res.end(HANDSHAKE_BODY)
      }),
    )}/any/path?tenant=7`
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    await client.addWebhook({ url })
    const [hook] = await client.listWebhooks()
    await sendclean.trigger({ events: ['click', 'spam'] })
    expect(captured).toHaveLength(1)
    const { body, signature } = captured[0]!
    expect(independentlyVerified(url, hook!.key, body, signature)).toBe(true)
    expect(independentlyVerified(url, 'other-key', body, signature)).toBe(false)
  })

  it('refuses to add a URL that answers anything but the handshake', async () => {
    const sendclean = await emulator()
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    const url = await listen(createServer((_req, res) => res.end('God bless you')))
    await expect(client.addWebhook({ url })).rejects.toThrow(/God bless you, SendClean/)
    const closed = 'http://127.0.0.1:1/hook'
    await expect(client.addWebhook({ url: closed })).rejects.toThrow(/ValidationError|God bless/)
  })

  it('accepts a receiver that only answers POST, through the empty-batch fallback', async () => {
    const sendclean = await emulator()
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    const app = express()
    app.post('/hook', createExpressMiddleware({ keys: [] }))
    const url = `${await listen(createServer(app))}/hook`
    await expect(client.addWebhook({ url })).resolves.toEqual({ message: 'Webhook Added' })
  })

  it('retries a failing receiver with backoff until it succeeds, and logs attempts', async () => {
    const sendclean = await emulator({ attempts: 4 })
    let posts = 0
    const url = await listen(
      createServer(async (req, res) => {
        for await (const _ of req);
        if (req.method === 'POST' && ++posts <= 2) {
          res.statusCode = 503
          return res.end('down')
        }
        res.end(HANDSHAKE_BODY)
      }),
    )
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    await client.addWebhook({ url, storeLog: true })
    posts = 0
    const [result] = await sendclean.trigger({ events: ['send'] })
    expect(result).toMatchObject({ status: 200, attempts: 3, ok: true })
    const [hook] = await client.listWebhooks()
    const log = await (
      await fetch(`${sendclean.url}/emulator/webhooks/${hook?.webhookId}/log`)
    ).json()
    expect(log.log).toMatchObject([{ status: 200, attempts: 3, events: 1 }])
  })

  it('gives up after the bounded attempts', async () => {
    const sendclean = await emulator({ attempts: 2 })
    const url = await listen(
      createServer((req, res) => {
        res.statusCode = req.method === 'GET' ? 200 : 500
        res.end(HANDSHAKE_BODY)
      }),
    )
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    await client.addWebhook({ url })
    const [result] = await sendclean.trigger({ events: ['open'] })
    expect(result).toMatchObject({ status: 500, attempts: 2, ok: false })
  })

  it('keeps webhooks and keys across a restart with a data file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sendclean-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const dataFile = join(dir, 'state.json')
    const url = await listen(createServer((_req, res) => res.end(HANDSHAKE_BODY)))

    const first = await startEmulator({ ownerId: OWNER, token: TOKEN, dataFile })
    await createClient({ ownerId: OWNER, token: TOKEN, baseUrl: first.url }).addWebhook({ url })
    const before = await createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: first.url,
    }).listWebhooks()
    await first.close()

    const second = await emulator({ dataFile })
    const after = await createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: second.url,
    }).listWebhooks()
    expect(after).toEqual(before)
  })

  it('routes delivered to webhooks that take send', () => {
    expect(subscribes({ event: 'send,open' }, 'delivered')).toBe(true)
    expect(subscribes({ event: 'open' }, 'delivered')).toBe(false)
    expect(subscribes({ event: 'delivered' }, 'delivered')).toBe(true)
    expect(subscribes({ event: '' }, 'spam')).toBe(true)
  })

  it('delivers events given as a payload, over the trigger endpoint', async () => {
    const sendclean = await emulator()
    const seen: WebhookEvent[] = []
    const url = await listen(frameworks.express!(() => key, seen))
    let key = ''
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    await client.addWebhook({ url: `${url}/hook` })
    key = (await client.listWebhooks())[0]!.key
    const payload = [{ event: 'send', _id: 'm1', smtp_name: 's', x_unique_id: '', ts: 1, msg: {} }]
    const res = await fetch(`${sendclean.url}/emulator/trigger`, {
      method: 'POST',
      body: JSON.stringify({ payload }),
    })
    expect((await res.json()).deliveries).toMatchObject([{ status: 200, events: 1 }])
    expect(seen).toMatchObject([{ _id: 'm1', event: 'send' }])
  })
})
