import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
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
import { createClient } from '../client/index.js'
import { type Emulator, startEmulator, subscribes } from '../emulator/index.js'
import { freePort } from '../scripts/run-example.js'
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
    await expect(client.addWebhook({ url })).resolves.toMatchObject({
      message: 'Webhook Added',
      url,
    })
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
    // It holds the keys: its owner's only.
    expect(statSync(dataFile).mode & 0o777).toBe(0o600)

    const second = await emulator({ dataFile })
    const after = await createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: second.url,
    }).listWebhooks()
    expect(after).toEqual(before)
  })

  // JSON.parse's own message quotes the text around the fault: here, part of a key.
  it('refuses a data file that is not JSON without quoting it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sendclean-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const dataFile = join(dir, 'state.json')
    writeFileSync(dataFile, '{"webhooks":[{"key":aVLnPysvkKUU95AFrb47Zr}]}')
    const error = await startEmulator({ ownerId: OWNER, token: TOKEN, dataFile }).catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error.message).toBe(
      `the data file ${dataFile} is not valid JSON: fix it, or remove it to start afresh`,
    )
    expect(String(error.cause)).not.toContain('aVLnPy')
  })

  // A port of 'abc' listened on a Unix socket of that name; attempts: 0 delivered nothing; an
  // empty token let any caller that sent an empty one manage the webhooks.
  it.each([
    [{ port: 'abc' }, 'startEmulator: `port` must be a port number'],
    [{ port: 70_000 }, 'startEmulator: `port` must be a port number'],
    [{ attempts: 0 }, '`attempts` must be a positive integer'],
    [{ retryDelayMs: -1 }, 'startEmulator: `retryDelayMs` must be a whole number of ms'],
    [{ timeoutMs: '5s' }, '`timeoutMs` must be a positive integer'],
    [{ token: '' }, 'startEmulator: `token` must be a non-empty string'],
    [{ ownerId: undefined }, 'startEmulator: `ownerId` must be a non-empty string'],
    [{ dataFile: 5 }, 'startEmulator: `dataFile` must be a file path'],
  ])('refuses %j before it listens', async (extra, message) => {
    await expect(
      startEmulator({ ownerId: OWNER, token: TOKEN, ...extra } as never),
    ).rejects.toThrow(
      expect.objectContaining({ code: 'CONFIGURATION', message: expect.stringContaining(message) }),
    )
  })

  it('refuses an option it does not know before it listens (a misspelt dataFile would keep nothing)', async () => {
    await expect(
      startEmulator({ ownerId: OWNER, token: TOKEN, datafile: 'x.json' } as never),
    ).rejects.toThrow('unknown option "datafile" (did you mean "dataFile"?)')
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
      body: JSON.stringify({ payload, wait: true }),
    })
    expect((await res.json()).deliveries).toMatchObject([{ status: 200, events: 1 }])
    expect(seen).toMatchObject([{ _id: 'm1', event: 'send' }])
  })
})

describe('the development loop: live log, followed triggers, console endpoints', () => {
  /** A receiver whose key the test controls, registered with the emulator. */
  async function registered(options: Partial<Parameters<typeof startEmulator>[0]> = {}) {
    const lines: string[] = []
    const sendclean = await emulator({ log: (line) => lines.push(line), ...options })
    const seen: WebhookEvent[] = []
    const state = { key: '' }
    const url = `${await listen(frameworks.express!(() => state.key, seen))}/hook`
    const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
    await client.addWebhook({ url, storeLog: true })
    const [hook] = await client.listWebhooks()
    state.key = hook!.key
    return { sendclean, lines, seen, state, url, id: hook!.webhookId, client }
  }

  // biome-ignore lint/suspicious/noExplicitAny: the assertions below check these answers' shape
  const json = (res: Response) => res.json() as Promise<Record<string, any>>
  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })

  it('logs one plain line per API call, handshake and attempt, with the reason of a refusal', async () => {
    const { sendclean, lines, state, url } = await registered({ attempts: 2 })
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} handshake http:\/\/127\.0\.0\.1:\d+\/hook → ok \(GET answered 200\) \d+ ms$/,
    )
    expect(lines[1]).toMatch(/ api {7}addWebhook → success Webhook Added \d+ ms$/)
    expect(lines[2]).toMatch(/ api {7}listWebhook → success ok \d+ ms$/)
    expect(url).toBeTruthy()

    await sendclean.trigger({ events: ['click', 'click', 'spam'] })
    expect(lines.at(-1)).toMatch(
      / deliver {3}d1 webhook \d+ click×2 spam \(3\) attempt 1\/2 → 200 \d+ ms$/,
    )

    state.key = 'not-the-key'
    const [result] = await sendclean.trigger({ events: ['open'] })
    expect(result).toMatchObject({ ok: false, status: 401, attempts: 2 })
    expect(result?.answer).toContain('signature does not match')
    const [first, last] = lines.slice(-2)
    expect(first).toMatch(
      / d2 webhook \d+ open \(1\) attempt 1\/2 → 401 \d+ ms ".*signature does not match.*" \(will retry\)$/,
    )
    expect(last).toMatch(/ attempt 2\/2 → 401 \d+ ms ".*" gave up$/)
    // Not a TTY (a function here): no escape codes.
    expect(lines.join('')).not.toContain('\u001b[')

    await expect(
      createClient({ ownerId: OWNER, token: 'wrong', baseUrl: sendclean.url }).listWebhooks(),
    ).rejects.toThrow()
    expect(lines.at(-1)).toMatch(/ api {7}listWebhook → error Token MissMatch 0 ms$/)
  })

  it('colours the live log on request only, and honours NO_COLOR', async () => {
    const { formatEvent } = await import('../emulator/index.js')
    const { wantsColour } = await import('../emulator/live-log.js')
    const event = {
      type: 'handshake',
      time: new Date().toISOString(),
      url: 'http://x',
      ok: false,
      detail: 'GET answered 404',
      ms: 3,
    } as const
    expect(formatEvent(event, true)).toContain('\u001b[31mrefused\u001b[0m')
    expect(formatEvent(event, false)).not.toContain('\u001b[')
    expect(wantsColour({ isTTY: true }, {})).toBe(true)
    expect(wantsColour({ isTTY: false }, {})).toBe(false)
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false)
    expect(wantsColour({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true)
  })

  it('answers a trigger at once with delivery ids, and the deliveries can be followed', async () => {
    const { sendclean, state, id } = await registered({ attempts: 3, retryDelayMs: 150 })
    state.key = 'not-the-key'
    const started = Date.now()
    const res = await post(`${sendclean.url}/emulator/trigger`, {
      events: ['click'],
      webhookId: id,
    })
    expect(res.status).toBe(202)
    const { deliveries } = await json(res)
    // Answered before the first retry was even due.
    expect(Date.now() - started).toBeLessThan(150)
    expect(deliveries).toMatchObject([
      { id: expect.stringMatching(/^d\d+$/), webhookId: id, types: ['click'], state: 'pending' },
    ])

    const stream = await fetch(`${sendclean.url}/emulator/stream`, {
      signal: AbortSignal.timeout(4000),
    })
    expect(stream.headers.get('content-type')).toBe('text/event-stream')
    const reader = stream.body!.getReader()
    let text = ''
    while (!text.includes('"n":3')) text += new TextDecoder().decode((await reader.read()).value)
    await reader.cancel()
    expect(text).toMatch(/^retry: 1000\n\nevent: hello\ndata: \{\}\n\n/)
    expect(text).toContain('event: attempt\ndata: {"type":"attempt"')

    const { delivery } = await json(
      await fetch(`${sendclean.url}/emulator/deliveries/${deliveries[0].id}`),
    )
    expect(delivery).toMatchObject({
      state: 'failed',
      maxAttempts: 3,
      url: expect.stringContaining('/hook'),
    })
    expect(delivery.attempts.map((a: { status: number }) => a.status)).toEqual([401, 401, 401])
    expect(delivery.attempts[0].answer).toContain('signature does not match')
    expect(delivery.request.headers['x-sendcleantes-signature']).toMatch(/=$/)

    // A replay is signed with the current key: now the right one.
    const { key } = (await (await fetch(`${sendclean.url}/emulator/webhooks/${id}`)).json()).webhook
    state.key = key
    const replay = await post(`${sendclean.url}/emulator/deliveries/${deliveries[0].id}/replay`, {
      wait: true,
    })
    expect((await json(replay)).deliveries).toMatchObject([{ ok: true, status: 200, events: 1 }])
    // Both are in the list, oldest first; the log keeps both too (store_log is on).
    const list = (await json(await fetch(`${sendclean.url}/emulator/deliveries?webhook=${id}`)))
      .deliveries
    expect(list.map((d: { state: string }) => d.state)).toEqual(['failed', 'ok'])
    const log = (await json(await fetch(`${sendclean.url}/emulator/webhooks/${id}/log`))).log
    expect(log.map((d: { status: number }) => d.status)).toEqual([401, 200])
  })

  it('refuses unknown webhooks, unknown event types and bad bodies with a reason', async () => {
    const { sendclean } = await registered()
    const unknown = await post(`${sendclean.url}/emulator/trigger`, { webhookId: 'nope' })
    expect(unknown.status).toBe(404)
    expect((await json(unknown)).error).toBe('no webhook with id "nope"')
    const badType = await post(`${sendclean.url}/emulator/trigger`, { events: ['bounce'] })
    expect(badType.status).toBe(400)
    expect((await json(badType)).error).toMatch(
      /^unknown event type "bounce"; expected one of send, /,
    )
    const notJson = await fetch(`${sendclean.url}/emulator/trigger`, { method: 'POST', body: '{' })
    expect(notJson.status).toBe(400)
    const badPayload = await post(`${sendclean.url}/emulator/trigger`, { payload: [1] })
    expect(badPayload.status).toBe(400)
    expect((await fetch(`${sendclean.url}/emulator/deliveries/d999`)).status).toBe(404)
    expect((await post(`${sendclean.url}/emulator/deliveries/d999/replay`, {})).status).toBe(404)
    expect((await fetch(`${sendclean.url}/emulator/samples/bounce`)).status).toBe(404)
  })

  it('serves the console, refuses other origins, and manages webhooks through its endpoints', async () => {
    const { sendclean, id } = await registered()
    const page = await fetch(`${sendclean.url}/`)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<script type="module" src="/console/app.js"></script>')
    const script = await fetch(`${sendclean.url}/console/app.js`)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await script.text()).toContain("new EventSource('/emulator/stream')")

    const foreign = await fetch(`${sendclean.url}/emulator/webhooks/${id}/reset-key`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    })
    expect(foreign.status).toBe(403)
    const reset = await fetch(`${sendclean.url}/emulator/webhooks/${id}/reset-key`, {
      method: 'POST',
      headers: { origin: sendclean.url },
    })
    expect(reset.status).toBe(200)
    expect((await json(reset)).key).toBe(sendclean.keyOf(id))

    const refused = await post(`${sendclean.url}/emulator/webhooks`, {
      url: `http://127.0.0.1:${await freePort()}/none`,
    })
    expect(refused.status).toBe(400)
    expect((await json(refused)).error).toMatch(
      /^url must always respond 'God bless you, SendClean' \(ECONNREFUSED\)$/,
    )

    const edited = await fetch(`${sendclean.url}/emulator/webhooks/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'renamed', event: 'click' }),
    })
    expect((await json(edited)).webhook).toMatchObject({ description: 'renamed', event: 'click' })
    const { event } = await json(await fetch(`${sendclean.url}/emulator/samples/hard_bounce`))
    expect(event.event).toBe('hard_bounce')
    expect(await json(await post(`${sendclean.url}/emulator/validate`, { event }))).toEqual({
      valid: true,
      issues: [],
    })
    const broken = await json(
      await post(`${sendclean.url}/emulator/validate`, { event: { ...event, ts: 'soon' } }),
    )
    expect(broken.valid).toBe(false)
    expect(broken.issues[0].path).toEqual(['ts'])
    const deleted = await fetch(`${sendclean.url}/emulator/webhooks/${id}`, { method: 'DELETE' })
    expect(await json(deleted)).toEqual({ deleted: id })
    expect((await json(await fetch(`${sendclean.url}/emulator/webhooks`))).webhooks).toEqual([])
  })
})
