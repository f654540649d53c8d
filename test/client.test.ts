import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { createClient, SendCleanApiError } from '../client/index.js'
import { type Emulator, startEmulator } from '../emulator/index.js'

const OWNER = 'owner-1'
const TOKEN = 'secret-token-never-shown'

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('client against the emulator', () => {
  let emulator: Emulator
  let receiver: Server
  let hookUrl: string
  beforeAll(async () => {
    emulator = await startEmulator({ ownerId: OWNER, token: TOKEN, attempts: 1 })
    const app = express()
    app.use('/hook', createExpressMiddleware({ keys: [] }))
    receiver = createServer(app)
    hookUrl = `${await listen(receiver)}/hook`
  })
  afterAll(async () => {
    await emulator.close()
    receiver.close()
  })

  const client = () =>
    createClient({ ownerId: OWNER, token: TOKEN, baseUrl: `${emulator.url}/v1.0` })

  it('adds, lists, edits, resets, inspects and deletes a webhook', async () => {
    const api = client()
    const added = await api.addWebhook({
      url: hookUrl,
      events: ['hard_bounce', 'spam'],
      description: 'bounces',
      storeLog: true,
    })
    // SendClean answers with a message only; the client reads the new webhook back.
    expect(added).toMatchObject({ message: 'Webhook Added', url: hookUrl })
    expect(added.key).toBe(emulator.keyOf(added.webhookId))
    const [hook] = await api.listWebhooks()
    expect(hook).toEqual({ ...added, message: undefined, createdAt: hook?.createdAt })
    expect(hook).toMatchObject({
      url: hookUrl,
      events: ['hard_bounce', 'spam'],
      description: 'bounces',
      storeLog: true,
    })
    expect(hook?.key).toMatch(/^[\w-]{22}$/)
    expect(hook?.createdAt).toBeInstanceOf(Date)
    const id = hook?.webhookId as string

    await api.editWebhook(id, { url: `${hookUrl}?v=2`, events: ['open'], storeLog: false })
    const info = await api.getWebhook(id)
    expect(info).toMatchObject({
      url: `${hookUrl}?v=2`,
      events: ['open'],
      storeLog: false,
      totalEvents: 0,
      lastSuccess: null,
    })

    const reset = await api.resetWebhookKey(id)
    expect(reset.webhookId).toBe(id)
    expect(reset.key).not.toBe(hook?.key)
    expect((await api.getWebhook(id)).key).toBe(reset.key)

    await api.deleteWebhook(id)
    expect(await api.listWebhooks()).toEqual([])
  })

  it('turns error answers into typed errors, without the token', async () => {
    const wrong = createClient({ ownerId: OWNER, token: 'nope', baseUrl: emulator.url })
    const auth = await wrong.listWebhooks().catch((e: unknown) => e)
    expect(auth).toBeInstanceOf(SendCleanApiError)
    expect(auth).toMatchObject({ kind: 'authentication' })
    expect(auth).toMatchObject({ code: -1, apiMessage: 'Token MissMatch' })

    const invalid = await client()
      .getWebhook('does-not-exist')
      .catch((e: unknown) => e)
    expect(invalid).toMatchObject({ kind: 'validation' })
    expect(String((invalid as Error).message)).not.toContain(TOKEN)
  })

  it('refuses a URL that does not answer the handshake', async () => {
    const other = createServer((_req, res) => res.end('hello'))
    const url = await listen(other)
    const error = await client()
      .addWebhook({ url })
      .catch((e: unknown) => e)
    other.close()
    expect(error).toMatchObject({ kind: 'validation' })
    expect((error as Error).message).toContain('God bless you, SendClean')
    expect(await client().listWebhooks()).toEqual([])
  })
})

describe('client errors', () => {
  it('bad options throw the client error with kind configuration, at creation', () => {
    const error = (() => {
      try {
        createClient({ ownerId: '', token: TOKEN })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(SendCleanApiError)
    expect(error).toMatchObject({ kind: 'configuration' })
    expect((error as Error).message).not.toContain(TOKEN)
  })

  it('an option it does not know is refused at creation, naming the one meant', () => {
    expect(() => createClient({ ownerId: 'me', token: TOKEN, timeout: 5 } as never)).toThrow(
      expect.objectContaining({
        kind: 'configuration',
        message: expect.stringContaining('unknown option "timeout" (did you mean "timeoutMs"?)'),
      }),
    )
  })
})

describe('client input', () => {
  // Each was sent as given: SendClean then dropped a misspelt field, subscribed the webhook to an
  // event type that does not exist, or was asked about no webhook at all.
  it('is refused before anything is sent, naming what was meant', async () => {
    let sent = 0
    const api = createClient({
      ownerId: OWNER,
      token: TOKEN,
      fetch: (async () => {
        sent++
        return new Response('{"status":"success"}')
      }) as typeof fetch,
    })
    const url = 'https://example.com/hook'
    for (const [call, message] of [
      [() => api.addWebhook({} as never), '`url` must be the absolute http(s) URL'],
      [() => api.addWebhook({ url: 'example.com/hook' }), '`url` must be the absolute http(s) URL'],
      [
        () => api.addWebhook({ url, events: ['clik' as never] }),
        'unknown event type "clik" (did you mean "click"?)',
      ],
      [
        () => api.addWebhook({ url, storelog: true } as never),
        'unknown field "storelog" (did you mean "storeLog"?)',
      ],
      [() => api.addWebhook({ url, storeLog: 'yes' as never }), '`storeLog` must be true or false'],
      [
        () => api.editWebhook(undefined as never, { url }),
        '`webhookId` must be the id of a webhook',
      ],
      [() => api.deleteWebhook(''), '`webhookId` must be the id of a webhook'],
      [() => api.getWebhook(null as never), '`webhookId` must be the id of a webhook'],
    ] as const) {
      await expect(call()).rejects.toThrow(
        expect.objectContaining({ kind: 'validation', message: expect.stringContaining(message) }),
      )
    }
    expect(sent).toBe(0)
  })
})

describe('client transport', () => {
  const servers: Server[] = []
  afterEach(() => {
    for (const server of servers.splice(0)) server.close().closeAllConnections()
  })

  /** A stand-in API; 'hang' never answers (the client's timeout must end the attempt). */
  async function serve(
    handler: (n: number, body: string) => [number, string, Record<string, string>?] | 'hang',
  ) {
    let n = 0
    const server = createServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      const answer = handler(++n, body)
      if (answer === 'hang') return
      const [status, text, headers] = answer
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(text)
    })
    servers.push(server)
    return { base: await listen(server), calls: () => n }
  }

  // JSON.parse's message quotes the text it failed on ("{"key":aVLnPysvkK"... is not valid
  // JSON"): as the error's cause, part of a webhook key reached whatever logged the error.
  it('an answer that is not JSON is reported without quoting it', async () => {
    const key = 'aVLnPysvkKUU95AFrb47Zr'
    const { base } = await serve(() => [
      200,
      `{"status":"success","webhook_list":[{"key":${key}}]}`,
      { 'content-type': 'text/html; charset=utf-8' },
    ])
    const api = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: base })
    const error = await api.listWebhooks().catch((e) => e)
    expect(error).toBeInstanceOf(SendCleanApiError)
    expect(error).toMatchObject({ kind: 'response', method: 'listWebhook' })
    expect(error.message).toContain('the answer is not JSON (text/html, 68 characters)')
    expect(error.cause).toBeUndefined()
    const logged = `${error.message} ${String(error.cause)} ${JSON.stringify(error)}`
    expect(logged).not.toContain(key.slice(0, 6))
  })

  it('retries 429 and 5xx with backoff, then succeeds', async () => {
    const { base, calls } = await serve((n) =>
      n === 1
        ? [429, '{}']
        : n === 2
          ? [503, 'busy']
          : [200, '{"status":"success","webhook_list":[]}'],
    )
    const api = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: base, retryDelayMs: 1 })
    expect(await api.listWebhooks()).toEqual([])
    expect(calls()).toBe(3)
  })

  it('never re-sends addWebhook after a 5xx (it may have been applied), but does after a 429', async () => {
    const { base, calls } = await serve((n) =>
      n === 1 ? [429, '{}'] : [502, 'bad gateway after the insert'],
    )
    const api = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: base, retryDelayMs: 1 })
    const error = await api.addWebhook({ url: 'https://example.com/hook' }).catch((e) => e)
    expect(error).toMatchObject({ kind: 'http' })
    expect(error).toMatchObject({ status: 502 })
    expect(calls()).toBe(2)
  })

  it.each([
    ['resetWebhookKey', (api: ReturnType<typeof createClient>) => api.resetWebhookKey('1')],
    ['deleteWebhook', (api: ReturnType<typeof createClient>) => api.deleteWebhook('1')],
  ])('does not retry %s after a 5xx', async (_name, run) => {
    const { base, calls } = await serve(() => [500, 'oops'])
    const api = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: base, retryDelayMs: 1 })
    await expect(run(api)).rejects.toMatchObject({ kind: 'http', status: 500 })
    expect(calls()).toBe(1)
  })

  it('retries an idempotent call after a timeout, never addWebhook', async () => {
    const { base, calls } = await serve((n) =>
      n === 1 ? 'hang' : [200, '{"status":"success","webhook_data":{}}'],
    )
    const api = createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: base,
      retryDelayMs: 1,
      timeoutMs: 100,
    })
    await expect(api.editWebhook('1', { url: 'https://example.com/h' })).resolves.toBeDefined()
    expect(calls()).toBe(2)
    const { base: base2, calls: calls2 } = await serve(() => 'hang')
    const add = createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: base2,
      retryDelayMs: 1,
      timeoutMs: 100,
    })
    await expect(add.addWebhook({ url: 'https://example.com/h' })).rejects.toMatchObject({
      kind: 'timeout',
    })
    expect(calls2()).toBe(1)
  })

  it('gives up after the bounded retries with an http error', async () => {
    const { base, calls } = await serve(() => [429, '{}', { 'retry-after': '0' }])
    const api = createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: base,
      retries: 2,
      retryDelayMs: 1,
    })
    const error = await api.listWebhooks().catch((e: unknown) => e)
    expect(error).toMatchObject({ kind: 'http' })
    expect(error).toMatchObject({ status: 429 })
    expect(calls()).toBe(3)
  })

  it('sends owner, token and the app domain in the JSON body', async () => {
    let seen: Record<string, unknown> = {}
    const { base } = await serve((_n, body) => {
      seen = JSON.parse(body)
      return [200, '{"status":"success","message":"Webhook Deleted"}']
    })
    const api = createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: base,
      appDomain: 'mail.example.com',
    })
    await api.deleteWebhook('42')
    expect(seen).toEqual({
      owner_id: OWNER,
      token: TOKEN,
      SendCleanTES_APP_DOMAIN: 'mail.example.com',
      webhook_id: '42',
    })
  })

  it("parses the documentation's listWebhook example, quirks and all", async () => {
    const example = readFileSync(
      new URL('fixtures/list-webhook-response.txt', import.meta.url),
      'utf8',
    )
    const { base } = await serve(() => [200, example])
    const hooks = await createClient({ ownerId: OWNER, token: TOKEN, baseUrl: base }).listWebhooks()
    expect(hooks.map((h) => h.webhookId)).toEqual([
      '424353445757557577457',
      '424353120757587577493',
    ])
    expect(hooks[0]).toMatchObject({ events: ['open', 'click'], key: 'cgvddgrsd', storeLog: true })
    expect(hooks[0]?.createdAt).toEqual(new Date(754453534 * 1000))
    expect(hooks[1]?.storeLog).toBe(false)
  })

  it("parses the documentation's getWebhookInfo example", async () => {
    const example = readFileSync(
      new URL('fixtures/get-webhook-info-response.json', import.meta.url),
      'utf8',
    )
    const { base } = await serve(() => [200, example])
    const info = await createClient({ ownerId: OWNER, token: TOKEN, baseUrl: base }).getWebhook(
      '405602261459333060372',
    )
    expect(info).toMatchObject({
      webhookId: '405602261459333060372',
      events: ['open'],
      key: 'aVLnPysvkKUU95AFrb47Zr',
      totalEvents: 23,
      lastSuccess: new Date(1459366666 * 1000),
      createdAt: new Date(1459333060 * 1000),
    })
  })

  it('reports timeouts and network failures distinctly', async () => {
    const { base } = await serve(() => 'hang')
    const slow = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: base, timeoutMs: 50 })
    expect(await slow.addWebhook({ url: base }).catch((e: unknown) => e)).toMatchObject({
      kind: 'timeout',
    })
    const down = createClient({
      ownerId: OWNER,
      token: TOKEN,
      baseUrl: 'http://127.0.0.1:1',
      retries: 0,
    })
    const error = await down.listWebhooks().catch((e: unknown) => e)
    expect(error).toMatchObject({ kind: 'network' })
    expect((error as Error).message).not.toContain(TOKEN)
  })

  it('an option it does not know is refused at creation, naming the one meant', () => {
    expect(() => createClient({ ownerId: 'me', token: TOKEN, timeout: 5 } as never)).toThrow(
      expect.objectContaining({
        kind: 'configuration',
        message: expect.stringContaining('unknown option "timeout" (did you mean "timeoutMs"?)'),
      }),
    )
  })
})
