// Hostile input, third round (issue 34): what a refusal echoes, adapters a handler cannot
// crash, proxy headers taken the way Express's `trust proxy` does, and signer and receiver
// agreeing on bytes that are not UTF-8. Real HTTP throughout.
import { execFileSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import express from 'express'
import Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { createKoaMiddleware } from '../adapters/koa.js'
import { createNodeHandler } from '../adapters/node.js'
import type { WebhookError } from '../src/index.js'
import { signForm } from '../testing/index.js'
import {
  FIELD,
  FORM,
  formDelivery,
  KEY,
  postSeedBatch,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = createServer(handler).listen(0, '127.0.0.1', () => resolve(s))
  })
  servers.push(server)
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('refusals echo at most a short, escaped excerpt of what the client sent', () => {
  const cases: Array<[string, () => { body: string; type: string }]> = [
    [
      '32 fields named *_events',
      () => ({
        body: Array.from({ length: 30 }, (_, i) => `${'x'.repeat(20_000)}${i}_events=1`).join('&'),
        type: FORM,
      }),
    ],
    [
      'a duplicated 200 KiB field name',
      () => ({ body: `${'n'.repeat(200_000)}=1&${'n'.repeat(200_000)}=2`, type: FORM }),
    ],
    ['a 10 KiB content type', () => ({ body: 'a=1', type: `text/${'t'.repeat(10_000)}` })],
    ['a 10 KiB charset', () => ({ body: 'a=1', type: `${FORM}; charset=${'c'.repeat(10_000)}` })],
  ]
  it.each(cases)('%s', async (_, make) => {
    const errors: WebhookError[] = []
    const app = express()
    app.use('/hook', createExpressMiddleware({ keys: KEY, onError: (e) => void errors.push(e) }))
    const base = await listen(app)
    const { body, type } = make()
    const res = await fetch(`${base}/hook`, {
      method: 'POST',
      headers: { 'content-type': type, [SIGNATURE_HEADER]: 'x' },
      body,
    })
    const text = await res.text()
    expect([400, 413, 415]).toContain(res.status)
    expect(text.length).toBeLessThan(400)
    expect(errors[0]?.message.length).toBeLessThan(400)
  })

  it('control characters are escaped, not written into the message', async () => {
    const app = express()
    const errors: WebhookError[] = []
    app.use('/hook', createExpressMiddleware({ keys: KEY, onError: (e) => void errors.push(e) }))
    const base = await listen(app)
    await fetch(`${base}/hook`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'a%0Ab%1B=1&a%0Ab%1B=2',
    })
    expect(errors[0]?.message).toContain('"a\\nb\\u001b"')
    expect(errors[0]?.message.includes('\n')).toBe(false)
    expect(errors[0]?.message.includes(String.fromCharCode(0x1b))).toBe(false)
  })
})

describe('no adapter can crash the host', () => {
  const onceWritten = (res: { writeHead: (s: number) => unknown; end: (b: string) => unknown }) => {
    res.writeHead(202)
    res.end('handled by the handler')
  }

  it('node: a handler that sends the response is reported as RESPONSE_SENT, and the process lives', async () => {
    const codes: string[] = []
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => void rejections.push(reason)
    process.on('unhandledRejection', onRejection)
    try {
      const handler = createNodeHandler({
        keys: KEY,
        onError: (e) => void codes.push(e.code),
      }).on('send', (_event, { res }) => onceWritten(res))
      const base = await listen(handler)
      const res = await postSeedBatch(`${base}/`, KEY)
      expect(res.status).toBe(202)
      await res.text()
      await new Promise((r) => setTimeout(r, 50))
      expect(codes).toEqual(['RESPONSE_SENT'])
      expect(rejections).toEqual([])
    } finally {
      process.off('unhandledRejection', onRejection)
    }
  })

  it('express and koa report it too', async () => {
    const codes: string[] = []
    const app = express()
    app.use(
      '/hook',
      createExpressMiddleware({
        keys: KEY,
        onError: (e) => void codes.push(`express ${e.code}`),
      }).on('send', (_event, { res }) => onceWritten(res)),
    )
    const koa = new Koa()
    koa.use(
      createKoaMiddleware({
        keys: KEY,
        path: '/hook',
        onError: (e) => void codes.push(`koa ${e.code}`),
      }).on('send', (_event, ctx) => onceWritten(ctx.res)),
    )
    for (const base of [await listen(app), await listen(koa.callback())]) {
      const res = await postSeedBatch(`${base}/hook`, KEY)
      expect(res.status).toBe(202)
      await res.text()
    }
    await new Promise((r) => setTimeout(r, 50))
    expect(codes.sort()).toEqual(['express RESPONSE_SENT', 'koa RESPONSE_SENT'])
  })

  it("the lingering close after a 413 keeps the app's own data listeners", async () => {
    let kept: boolean | undefined
    const handler = createNodeHandler({ keys: KEY, maxBodyBytes: 1024 })
    const base = await listen(async (req, res) => {
      const mine = () => {}
      req.on('data', mine)
      await handler(req, res)
      kept = req.listeners('data').includes(mine)
    })
    const res = await fetch(`${base}/`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'a='.padEnd(256 * 1024, 'x'),
    }).catch(() => undefined)
    expect(res?.status ?? 413).toBe(413)
    await new Promise((r) => setTimeout(r, 100))
    expect(kept).toBe(true)
  })
})

describe('proxy headers, as Express trusts them (a hop count, rightmost first)', () => {
  async function post(trustProxy: boolean | number, forwardedHost: string, signedFor: string) {
    const app = express()
    app.use('/hook', createExpressMiddleware({ keys: KEY, trustProxy, onError: () => {} }))
    const base = await listen(app)
    const { body, signature } = formDelivery(SEED_EVENTS_TEXT, { url: signedFor })
    const res = await fetch(`${base}/hook`, {
      method: 'POST',
      headers: {
        'content-type': FORM,
        [SIGNATURE_HEADER]: signature,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': forwardedHost,
      },
      body,
    })
    await res.text()
    return res.status
  }

  it('one trusted proxy: the value it appended counts, never the client’s own before it', async () => {
    // The client sent "a.example"; the proxy appended the host it was reached at, b.example.
    expect(await post(true, 'a.example, b.example', 'https://a.example/hook')).toBe(401)
    expect(await post(true, 'a.example, b.example', 'https://b.example/hook')).toBe(200)
    expect(await post(1, 'b.example', 'https://b.example/hook')).toBe(200)
  })

  it('two trusted proxies: the second value from the right', async () => {
    expect(await post(2, 'evil.example, a.example, lb.internal', 'https://a.example/hook')).toBe(
      200,
    )
    expect(await post(2, 'evil.example, a.example, lb.internal', 'https://evil.example/hook')).toBe(
      401,
    )
  })

  it('a trustProxy that is not a hop count is a CONFIGURATION error', () => {
    expect(() => createExpressMiddleware({ keys: KEY, trustProxy: -1 })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    )
  })
})

describe('signer and receiver agree on bytes that are not UTF-8', () => {
  const events = SEED_EVENTS_TEXT
  const form = `${FIELD}=${encodeURIComponent(events)}&note=%FF%ED%A0%80`

  it('a form signed byte for byte (signForm({ body }), the CLI) is accepted', async () => {
    const signature = await signForm({ key: KEY, url: URL_REGISTERED, body: form })
    // Decoding as text first (URLSearchParams) replaces those bytes and signs something else.
    expect(
      await signForm({ key: KEY, url: URL_REGISTERED, fields: [...new URLSearchParams(form)] }),
    ).not.toBe(signature)
    const cli = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/cli.ts',
        'sign',
        '--key',
        KEY,
        '--url',
        URL_REGISTERED,
        '--body',
        form,
      ],
      { cwd: root, encoding: 'utf8' },
    ).trim()
    expect(cli).toBe(signature)
    const app = express()
    app.use('/hook', createExpressMiddleware({ keys: KEY, url: URL_REGISTERED }))
    const base = await listen(app)
    const res = await fetch(`${base}/hook`, {
      method: 'POST',
      headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
      body: form,
    })
    expect(res.status).toBe(200)
  })

  it('an events field that is not UTF-8 is a clear 400, not a replaced character', async () => {
    const errors: WebhookError[] = []
    const app = express()
    app.use(
      '/hook',
      createExpressMiddleware({
        keys: KEY,
        url: URL_REGISTERED,
        onError: (e) => void errors.push(e),
      }),
    )
    const base = await listen(app)
    const body = `${FIELD}=${encodeURIComponent('[{"event":"send","x":"')}%FF${encodeURIComponent('"}]')}`
    // Signed over the decoded bytes, as a byte-exact signer would.
    const signature = await signForm({ key: KEY, url: URL_REGISTERED, body })
    const res = await fetch(`${base}/hook`, {
      method: 'POST',
      headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
      body,
    })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('not valid UTF-8')
    expect(errors[0]?.code).toBe('MALFORMED_PAYLOAD')
  })
})
