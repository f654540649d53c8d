import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  createReceiver,
  type IdempotencyStore,
  memoryStore,
  type PostgresStoreOptions,
  postgresStore,
  postgresStoreMigration,
  type ReceiverOptions,
  redisStore,
  type WebhookEvent,
} from '../src/index.js'
import { storeConformance } from '../testing/index.js'
import {
  COLLIDING_EVENTS,
  KEY,
  mortal,
  SEED_EVENTS,
  signedRequest,
  storeKeyOf,
  URL_REGISTERED,
} from './support/fixtures.js'
import { usePostgres } from './support/postgres-setup.js'
import { useRedis } from './support/redis-setup.js'

function receiverWith(store: IdempotencyStore, options: Partial<ReceiverOptions<undefined>> = {}) {
  const handled: string[] = []
  const receiver = createReceiver<undefined>({
    keys: KEY,
    url: URL_REGISTERED,
    idempotency: { store, ttlMs: 60_000 },
    onError: () => {},
    on: { '*': (e: WebhookEvent) => void handled.push(e.event) },
    ...options,
  })
  return { receiver, handled }
}

describe('memoryStore', () => {
  describe('conformance', () => {
    for (const check of storeConformance(() => memoryStore())) it(check.name, check.run)
  })

  it('evicts the oldest done markers past max, never a claim in flight', () => {
    const store = memoryStore({ max: 2 })
    expect(store.claim('in-flight', 't', 60_000)).toEqual({ handlersDone: 0 })
    for (const key of ['a', 'b', 'c']) {
      store.claim(key, 't', 60_000)
      store.complete(key, 't', 60_000, 'handled')
    }
    expect(store.size).toBe(2)
    expect(store.claim('in-flight', 'other', 60_000)).toBe('busy')
    expect(store.outcome('c')).toBe('handled')
    expect(store.outcome('a')).toBeUndefined()
  })
})

describe('store options', () => {
  // A misspelt option would silently keep its default: another table, another key prefix.
  it('each store refuses an option it does not know, naming the one meant', () => {
    const pg = { query: async () => ({ rows: [], rowCount: 0 }) }
    const redis = { eval: async () => 0, get: async () => null }
    for (const [build, message] of [
      [
        () => memoryStore({ maxSize: 10 } as never),
        'unknown option "maxSize" (did you mean "max"?)',
      ],
      [
        () => redisStore(redis, { prefx: 'x:' } as never),
        'unknown option "prefx" (did you mean "prefix"?)',
      ],
      [
        () => postgresStore(pg, { tabel: 't' } as never),
        'unknown option "tabel" (did you mean "table"?)',
      ],
      [
        () => postgresStore(pg, { cleanupMs: 1 } as never),
        'unknown option "cleanupMs" (did you mean "cleanupEveryMs"?)',
      ],
    ] as const) {
      expect(build).toThrow(
        expect.objectContaining({
          code: 'CONFIGURATION',
          message: `sendclean-webhooks: ${message}`,
        }),
      )
    }
    expect(() =>
      postgresStore(pg, { table: 't', createTable: false, cleanupEveryMs: 1 }),
    ).not.toThrow()
  })
})

describe('store arguments', () => {
  const configuration = (message: RegExp) =>
    expect.objectContaining({ code: 'CONFIGURATION', message: expect.stringMatching(message) })

  // `max: 0` kept no done marker at all: every replay ran its handlers again, without a word.
  it('memoryStore refuses a max that is not a positive integer', () => {
    for (const max of [0, -1, 1.5, Number.NaN, '5']) {
      expect(() => memoryStore({ max: max as number })).toThrow(
        configuration(/`max` must be a positive integer/),
      )
    }
    expect(memoryStore({ max: 1 }).size).toBe(0)
  })

  // A missing client used to surface only at the first delivery, as a 503 on every request.
  it('redisStore and postgresStore refuse a client they cannot call', () => {
    for (const client of [undefined, null, {}, { eval: async () => 0 }, 'redis://x']) {
      expect(() => redisStore(client as never)).toThrow(configuration(/needs a Redis client/))
    }
    for (const client of [undefined, {}, { query: 'SELECT 1' }]) {
      expect(() => postgresStore(client as never)).toThrow(configuration(/needs a `pg` Pool/))
    }
  })

  it('refuse option values of the wrong kind', () => {
    const redis = { eval: async () => 0, get: async () => null }
    const pg = { query: async () => ({ rows: [], rowCount: 0 }) }
    expect(() => redisStore(redis, { prefix: 5 as never })).toThrow(
      configuration(/`prefix` must be a string/),
    )
    for (const cleanupEveryMs of [-1, Number.NaN, '60000']) {
      expect(() => postgresStore(pg, { cleanupEveryMs: cleanupEveryMs as number })).toThrow(
        configuration(/`cleanupEveryMs` must be a number of ms, 0 or more/),
      )
    }
    expect(() => postgresStore(pg, { cleanupEveryMs: 0 })).not.toThrow()
    for (const table of ['events; DROP TABLE x', 'a.b.c', '1events', 7]) {
      expect(() => postgresStore(pg, { table: table as string })).toThrow(
        configuration(/is not a table name/),
      )
      expect(() => postgresStoreMigration(table as string)).toThrow(
        configuration(/is not a table name/),
      )
    }
  })
})

describe('de-duplication in the receiver', () => {
  it('a replayed batch is acknowledged without running handlers again', async () => {
    const { receiver, handled } = receiverWith(memoryStore())
    expect((await receiver.handle(signedRequest())).status).toBe(200)
    expect((await receiver.handle(signedRequest())).status).toBe(200)
    expect(handled).toHaveLength(7)
  })

  it('a retried batch skips the events already handled and runs the rest', async () => {
    let failClick = true
    const store = memoryStore()
    const { receiver, handled } = receiverWith(store, {
      on: {
        '*': (e: WebhookEvent) => {
          if (e.event === 'click' && failClick) throw new Error('click service down')
          handled.push(e.event)
        },
      },
    })
    expect((await receiver.handle(signedRequest())).status).toBe(500)
    expect(handled).toEqual(['hard_bounce', 'soft_bounce', 'send', 'delivered'])
    expect(store.outcome(await storeKeyOf(4))).toBeUndefined()
    failClick = false
    expect((await receiver.handle(signedRequest())).status).toBe(200)
    expect(handled).toEqual([
      'hard_bounce',
      'soft_bounce',
      'send',
      'delivered',
      'click',
      'open',
      'spam',
    ])
  })

  it('the error hook can skip an event; the skip is recorded and the batch goes on', async () => {
    const store = memoryStore()
    const { receiver, handled } = receiverWith(store, {
      on: {
        '*': (e: WebhookEvent) => {
          if (e.event === 'spam') throw new Error('poison')
          handled.push(e.event)
        },
      },
      onError: (error) => (error.code === 'HANDLER_FAILED' ? 'skip' : undefined),
    })
    expect((await receiver.handle(signedRequest())).status).toBe(200)
    expect(handled).toHaveLength(6)
    expect(store.outcome(await storeKeyOf(6))).toBe('skipped')
    expect(store.outcome(await storeKeyOf(0))).toBe('handled')
  })

  it('a failing store answers 503 so SendClean retries', async () => {
    const broken: IdempotencyStore = {
      claim: () => Promise.reject(new Error('ECONNREFUSED')),
      renew: () => true,
      progress: () => true,
      complete: () => true,
      release: () => {},
    }
    const codes: string[] = []
    const { receiver, handled } = receiverWith(broken, { onError: (e) => void codes.push(e.code) })
    expect((await receiver.handle(signedRequest())).status).toBe(503)
    expect(handled).toHaveLength(0)
    expect(codes).toEqual(['STORE_FAILED'])
  })
})

const redisUrl = inject('redisUrl')

describe.skipIf(!redisUrl)('redisStore (real redis-server)', () => {
  let redis: Redis
  beforeAll(async () => {
    redis = new Redis(redisUrl, { lazyConnect: true })
    await redis.connect()
    await redis.flushdb()
  })
  afterAll(() => redis?.quit())

  describe('conformance', () => {
    for (const check of storeConformance(() => redisStore(redis, { prefix: 'conf:' }))) {
      it(check.name, check.run)
    }
  })

  it('two instances sharing Redis handle each event once', async () => {
    const store = redisStore(redis, { prefix: `test:${Date.now()}:` })
    const a = receiverWith(store)
    const b = receiverWith(store)
    expect((await a.receiver.handle(signedRequest())).status).toBe(200)
    expect((await b.receiver.handle(signedRequest())).status).toBe(200)
    expect(a.handled).toHaveLength(7)
    expect(b.handled).toHaveLength(0)
    expect(await store.outcome(await storeKeyOf(0))).toBe('handled')
  })

  it('Redis going away mid-batch answers 503, not 200', async () => {
    const lost = new Redis(redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    })
    await lost.connect()
    const store = redisStore(lost, { prefix: `lost:${Date.now()}:` })
    const { receiver } = receiverWith(store, {
      on: {
        send: () => {
          lost.disconnect()
        },
      },
    })
    expect((await receiver.handle(signedRequest())).status).toBe(503)
  })
})

/** Claim-before-run through the receiver: the same for every store. */
function claimProtocol(makeStore: () => IdempotencyStore) {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  const one = () => signedRequest(JSON.stringify([SEED_EVENTS[2]]))

  it('a duplicate waits for the running original and is answered only once it is done', async () => {
    const store = makeStore()
    let runs = 0
    const { receiver } = receiverWith(store, {
      on: {
        send: async () => {
          runs++
          await sleep(150)
        },
      },
    })
    const first = receiver.handle(one())
    await sleep(20)
    const started = Date.now()
    const second = await receiver.handle(one())
    expect(second.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    expect((await first).status).toBe(200)
    expect(runs).toBe(1)
  })

  it('a duplicate still running past handlerTimeoutMs is 503 EVENT_IN_FLIGHT; a retry after it finished is 200 and runs nothing', async () => {
    const store = makeStore()
    let runs = 0
    const codes: string[] = []
    const { receiver } = receiverWith(store, {
      handlerTimeoutMs: 100,
      onError: (e) => void codes.push(e.code),
      on: {
        send: async () => {
          runs++
          await sleep(300)
        },
      },
    })
    const original = receiver.handle(one())
    await sleep(20)
    expect((await receiver.handle(one())).status).toBe(503)
    expect((await original).status).toBe(503)
    expect(codes.sort()).toEqual(['EVENT_IN_FLIGHT', 'HANDLER_TIMEOUT'])
    // The original's handler finishes late; its done marker lets the retry through.
    await sleep(350)
    expect((await receiver.handle(one())).status).toBe(200)
    expect(runs).toBe(1)
  })

  it('a failed handler releases its claim, so the retry runs it', async () => {
    const store = makeStore()
    let attempts = 0
    const { receiver } = receiverWith(store, {
      on: {
        send: () => {
          if (++attempts === 1) throw new Error('first attempt fails')
        },
      },
    })
    expect((await receiver.handle(one())).status).toBe(500)
    expect((await receiver.handle(one())).status).toBe(200)
    expect(attempts).toBe(2)
  })

  it('a process that dies mid-handler leaves a claim that expires; another instance takes over', async () => {
    const store = makeStore()
    const completed: string[] = []
    // "Dies": its handler never settles, and nothing of it (renewals included) runs again.
    const process = mortal(store)
    const dead = receiverWith(process.store, {
      handlerTimeoutMs: 50,
      idempotency: { store: process.store, leaseMs: 300 },
      on: {
        send: () => {
          process.kill()
          return new Promise(() => {})
        },
      },
    })
    expect((await dead.receiver.handle(one())).status).toBe(503)
    const next = receiverWith(store, {
      handlerTimeoutMs: 50,
      idempotency: { store, leaseMs: 300 },
      on: { send: () => void completed.push('send') },
    })
    // Within the lease the event is still someone's: not acknowledged, not run.
    expect((await next.receiver.handle(one())).status).toBe(503)
    expect(completed).toEqual([])
    await sleep(300)
    expect((await next.receiver.handle(one())).status).toBe(200)
    expect(completed).toEqual(['send'])
  })

  it('events that share _id, type and ts but differ are all handled', async () => {
    const { receiver, handled } = receiverWith(makeStore())
    expect((await receiver.handle(signedRequest(JSON.stringify(COLLIDING_EVENTS)))).status).toBe(
      200,
    )
    // Both timestamps are past safe integers: invalid events, told apart by their raw content.
    expect(handled).toEqual([
      'hard_bounce',
      'hard_bounce',
      'unknown',
      'unknown',
      'invalid',
      'invalid',
    ])
  })
}

describe('claim before run: memoryStore', () => claimProtocol(() => memoryStore()))
describe.skipIf(!redisUrl)('claim before run: redisStore (real redis-server)', () => {
  const redis = useRedis()
  let n = 0
  claimProtocol(() => redisStore(redis(), { prefix: `claim:${process.pid}:${Date.now()}:${++n}:` }))
})

const postgresUrl = inject('postgresUrl')
describe.skipIf(!postgresUrl)('postgresStore (real PostgreSQL server)', () => {
  const pg = usePostgres()
  const store = (options: Partial<PostgresStoreOptions> = {}) =>
    postgresStore(pg.pool(), { table: pg.table(), createTable: true, ...options })

  describe('conformance', () => {
    for (const check of storeConformance(() => store())) it(check.name, check.run)
  })

  it('two instances sharing the table handle each event once', async () => {
    const shared = store()
    const a = receiverWith(shared)
    const b = receiverWith(shared)
    expect((await a.receiver.handle(signedRequest())).status).toBe(200)
    expect((await b.receiver.handle(signedRequest())).status).toBe(200)
    expect(a.handled).toHaveLength(7)
    expect(b.handled).toHaveLength(0)
    expect(await shared.outcome(await storeKeyOf(0))).toBe('handled')
  })

  it('the documented migration is one statement that creates the table the store uses', async () => {
    const table = pg.table()
    await pg.pool().query(postgresStoreMigration(table))
    const mine = postgresStore(pg.pool(), { table })
    expect(await mine.claim('k', 'a', 1000)).toEqual({ handlersDone: 0 })
    expect(await mine.complete('k', 'a', 60_000, 'handled')).toBe(true)
    expect(await mine.outcome('k')).toBe('handled')
    expect(() => postgresStoreMigration('x; DROP TABLE y')).toThrow('is not a table name')
  })

  it('expired rows are deleted after completions, at most once per cleanupEveryMs', async () => {
    const table = pg.table()
    const mine = store({ table, cleanupEveryMs: 0 })
    for (let i = 0; i < 5; i++) {
      await mine.claim(`old${i}`, 't', 1000)
      await mine.complete(`old${i}`, 't', 1, 'handled')
    }
    await new Promise((r) => setTimeout(r, 20))
    await mine.claim('new', 't', 1000)
    await mine.complete('new', 't', 60_000, 'handled')
    const count = async () =>
      Number((await pg.pool().query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
    await expect.poll(count).toBe(1)
  })

  it('a database that goes away mid-batch answers 503, not 200', async () => {
    let fail = false
    const pool = pg.pool()
    const flaky = {
      query: (text: string, values?: unknown[]) =>
        fail ? Promise.reject(new Error('connection terminated')) : pool.query(text, values),
    }
    const { receiver } = receiverWith(
      postgresStore(flaky, { table: pg.table(), createTable: true }),
      {
        on: {
          send: () => {
            fail = true
          },
        },
      },
    )
    expect((await receiver.handle(signedRequest())).status).toBe(503)
  })
})
describe.skipIf(!postgresUrl)('claim before run: postgresStore (real PostgreSQL server)', () => {
  const pg = usePostgres()
  claimProtocol(() => postgresStore(pg.pool(), { table: pg.table(), createTable: true }))
})
