// The delivery contract's second round (issue 33), one reproduction per way it used to break,
// each over real HTTP (Express on node:http, signed form posts) against memoryStore and, where
// Redis is here, redisStore.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import {
  createReceiver,
  type IdempotencyStore,
  memoryStore,
  postgresStore,
  type ReceiverOptions,
  redisStore,
  type WebhookError,
  type WebhookEvent,
} from '../src/index.js'
import { FORM, formDelivery, KEY, SEED_EVENTS, SIGNATURE_HEADER } from './support/fixtures.js'
import { usePostgres } from './support/postgres-setup.js'
import { startRedis, useRedis } from './support/redis-setup.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A webhook served by Express on a free port; `url` is what it is registered (and signed) as. */
async function serve(options: ReceiverOptions<unknown> & { url: string }) {
  const receiver = createReceiver({ onError: () => {}, ...options })
  const app = express()
  app.use('/hook', createExpressMiddleware(receiver))
  const server = await new Promise<Server>((resolve) => {
    const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s))
  })
  servers.push(server)
  const port = (server.address() as AddressInfo).port
  const post = async (text: string): Promise<number> => {
    const key = typeof options.keys === 'string' ? options.keys : KEY
    const { body, signature } = formDelivery(text, { key, url: options.url })
    const res = await fetch(`http://127.0.0.1:${port}/hook`, {
      method: 'POST',
      headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
      body,
    })
    await res.text()
    return res.status
  }
  return { receiver, post }
}

const URL_A = 'https://a.example.com/hook'
const URL_B = 'https://b.example.com/hook?tenant=2'
const one = JSON.stringify([SEED_EVENTS[2]])

type StoreMaker = (name: string) => IdempotencyStore

/** A handler that takes `ms`, counting its runs, completions and the most at once. */
function slowHandler(ms: number) {
  let running = 0
  const stats = {
    runs: 0,
    completed: 0,
    most: 0,
    run: async () => {
      stats.runs++
      running++
      stats.most = Math.max(stats.most, running)
      await sleep(ms)
      running--
      stats.completed++
    },
  }
  return stats
}

function contract(makeStore: StoreMaker) {
  it('1. a live handler that outlives leaseMs keeps its claim: its retry never runs it again, nor at the same time', async () => {
    const store = makeStore('outlive')
    const send = slowHandler(1500)
    const { post } = await serve({
      keys: KEY,
      url: URL_A,
      handlerTimeoutMs: 300,
      idempotency: { store, leaseMs: 400 },
      on: { send: send.run },
    })
    const first = post(one)
    await sleep(700)
    // Past both handlerTimeoutMs and leaseMs: the duplicate waits, then is 503.
    expect(await post(one)).toBe(503)
    expect(await first).toBe(503)
    await sleep(1000)
    expect(await post(one)).toBe(200)
    expect({ completed: send.completed, most: send.most }).toEqual({ completed: 1, most: 1 })
  }, 10_000)

  it('1. ten concurrent duplicates with a lease shorter than the handler: one run, all 200', async () => {
    const store = makeStore('short-lease')
    const send = slowHandler(1000)
    const { post } = await serve({
      keys: KEY,
      url: URL_A,
      handlerTimeoutMs: 10_000,
      idempotency: { store, leaseMs: 200 },
      on: { send: send.run },
    })
    const statuses = await Promise.all(Array.from({ length: 10 }, () => post(one)))
    expect(statuses).toEqual(new Array(10).fill(200))
    expect({ runs: send.runs, most: send.most }).toEqual({ runs: 1, most: 1 })
  }, 10_000)

  it('2. events that differ only in date, meta.feedback, msg.feedback, an own __proto__ or an integer above 2^53 are all handled, and the sender’s date is kept', async () => {
    const base = SEED_EVENTS[0] as Record<string, unknown>
    const text = `[${[
      JSON.stringify({ ...base, date: 'sender-1' }),
      JSON.stringify({ ...base, date: 'sender-2' }),
      JSON.stringify({ ...base, meta: { feedback: 1 } }),
      JSON.stringify({ ...base, meta: { feedback: 2 } }),
      JSON.stringify({ ...base, msg: { ...(base.msg as object), feedback: 'x' } }),
      `${JSON.stringify(base).slice(0, -1)},"__proto__":{"v":1}}`,
      `${JSON.stringify(base).slice(0, -1)},"__proto__":{"v":2}}`,
      `${JSON.stringify(base).slice(0, -1)},"big":9007199254740992}`,
      `${JSON.stringify(base).slice(0, -1)},"big":9007199254740993}`,
    ].join(',')}]`
    const dates: unknown[] = []
    let handled = 0
    const { post } = await serve({
      keys: KEY,
      url: URL_A,
      idempotency: { store: makeStore('distinct') },
      on: {
        '*': (event: WebhookEvent) => {
          handled++
          if (event.event === 'hard_bounce') dates.push(event.date)
        },
      },
    })
    expect(await post(text)).toBe(200)
    expect(handled).toBe(9)
    expect(dates.slice(0, 2)).toEqual(['sender-1', 'sender-2'])
    expect(dates[2]).toBeInstanceOf(Date)
    // A retry of the same bytes runs nothing.
    expect(await post(text)).toBe(200)
    expect(handled).toBe(9)
  })

  it('4. two webhooks (different keys and URLs) sharing a store each handle the event once', async () => {
    const store = makeStore('two-webhooks')
    const ran = { a: 0, b: 0 }
    const a = await serve({
      keys: KEY,
      url: URL_A,
      idempotency: { store },
      on: { '*': () => void ran.a++ },
    })
    const b = await serve({
      keys: 'another-webhook-key-x9',
      url: URL_B,
      idempotency: { store },
      on: { '*': () => void ran.b++ },
    })
    expect(await a.post(one)).toBe(200)
    expect(await b.post(one)).toBe(200)
    expect(await b.post(one)).toBe(200)
    expect(ran).toEqual({ a: 1, b: 1 })
  })

  it('5. a later handler’s failure does not run the earlier one again', async () => {
    const store = makeStore('per-handler')
    const ran = { h1: 0, h2: 0 }
    let failOnce = true
    const { receiver, post } = await serve({ keys: KEY, url: URL_A, idempotency: { store } })
    receiver
      .on('hard_bounce', () => void ran.h1++)
      .on('*', () => {
        if (failOnce) {
          failOnce = false
          throw new Error('h2 fails once')
        }
        ran.h2++
      })
    const hardBounce = JSON.stringify([SEED_EVENTS[0]])
    expect(await post(hardBounce)).toBe(500)
    expect(await post(hardBounce)).toBe(200)
    expect(await post(hardBounce)).toBe(200)
    expect(ran).toEqual({ h1: 1, h2: 1 })
  })
}

describe('memoryStore', () => {
  contract(() => memoryStore())

  it('7. a wall-clock step mid-handler does not end the lease', async () => {
    let runs = 0
    const { post } = await serve({
      keys: KEY,
      url: URL_A,
      idempotency: { store: memoryStore(), leaseMs: 300 },
      on: {
        send: async () => {
          runs++
          await sleep(100)
          // The wall clock jumps a day ahead while the handler runs.
          const ahead = Date.now() + 86_400_000
          vi.spyOn(Date, 'now').mockReturnValue(ahead)
          await sleep(150)
        },
      },
    })
    try {
      const first = post(one)
      await sleep(150)
      const second = post(one)
      expect(await Promise.all([first, second])).toEqual([200, 200])
      expect(runs).toBe(1)
    } finally {
      vi.restoreAllMocks()
    }
  })

  it('renewEveryMs that cannot hold the lease is a CONFIGURATION error', () => {
    expect(() =>
      createReceiver({
        keys: KEY,
        idempotency: { store: memoryStore(), leaseMs: 1000, renewEveryMs: 1000 },
      }),
    ).toThrow(expect.objectContaining({ code: 'CONFIGURATION' }))
  })
})

const redisUrl = inject('redisUrl')
describe.skipIf(!redisUrl)('redisStore (real redis-server)', () => {
  const redis = useRedis()
  const run = `${process.pid}:${Date.now()}`
  contract((name) => redisStore(redis(), { prefix: `regress:${run}:${name}:` }))
})

describe.skipIf(!inject('postgresUrl'))('postgresStore (real PostgreSQL server)', () => {
  const pg = usePostgres()
  contract(() => postgresStore(pg.pool(), { table: pg.table(), createTable: true }))
})

describe.skipIf(!inject('redisServer'))('7. a store that is down answers promptly', () => {
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined
  afterAll(() => redis?.stop())

  it('Redis stopped, ioredis with its default offline queue: 503 STORE_FAILED within storeTimeoutMs, not HANDLER_TIMEOUT', async () => {
    redis = await startRedis()
    const client = new Redis(redis.url, { lazyConnect: true })
    client.on('error', () => {})
    await client.connect()
    await redis.stop()
    const codes: string[] = []
    const { post } = await serve({
      keys: KEY,
      url: URL_A,
      handlerTimeoutMs: 20_000,
      idempotency: { store: redisStore(client), storeTimeoutMs: 300 },
      onError: (error: WebhookError) => void codes.push(error.code),
      on: { '*': () => {} },
    })
    const started = Date.now()
    expect(await post(one)).toBe(503)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(codes).toEqual(['STORE_FAILED'])
    client.disconnect()
  }, 10_000)
})
