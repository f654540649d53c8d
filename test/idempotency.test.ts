import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  createReceiver,
  eventIdentity,
  type IdempotencyStore,
  memoryStore,
  parseEvent,
  type ReceiverOptions,
  redisStore,
  type WebhookEvent,
  type WebhookRequest,
} from '../src/index.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'

function delivery(events = SEED_EVENTS_TEXT): WebhookRequest<undefined> {
  const { body, signature } = formDelivery(events)
  return {
    method: 'POST',
    url: URL_REGISTERED,
    headers: new Headers({ 'content-type': FORM, [SIGNATURE_HEADER]: signature }),
    body,
    context: undefined,
  }
}

const identity = (raw: unknown) => {
  const result = parseEvent(raw)
  if (!result.ok) throw new Error(result.message)
  return eventIdentity(result.event)
}

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
  it('forgets after the TTL and evicts the oldest past max', async () => {
    const store = memoryStore({ max: 2 })
    store.mark('a', 60_000, 'handled')
    store.mark('b', 1, 'skipped')
    await new Promise((r) => setTimeout(r, 5))
    expect(store.has('b')).toBe(false)
    store.mark('c', 60_000, 'handled')
    store.mark('d', 60_000, 'handled')
    expect([store.has('a'), store.has('c'), store.has('d')]).toEqual([false, true, true])
    expect(store.size).toBe(2)
  })
})

describe('de-duplication in the receiver', () => {
  it('a replayed batch is acknowledged without running handlers again', async () => {
    const { receiver, handled } = receiverWith(memoryStore())
    expect((await receiver.handle(delivery())).status).toBe(200)
    expect((await receiver.handle(delivery())).status).toBe(200)
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
    expect((await receiver.handle(delivery())).status).toBe(500)
    expect(handled).toEqual(['hard_bounce', 'soft_bounce', 'send', 'delivered'])
    expect(store.has(identity(SEED_EVENTS[4]))).toBe(false)
    failClick = false
    expect((await receiver.handle(delivery())).status).toBe(200)
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
    expect((await receiver.handle(delivery())).status).toBe(200)
    expect(handled).toHaveLength(6)
    expect(store.outcome(identity(SEED_EVENTS[6]))).toBe('skipped')
    expect(store.outcome(identity(SEED_EVENTS[0]))).toBe('handled')
  })

  it('a failing store answers 503 so SendClean retries', async () => {
    const broken: IdempotencyStore = {
      has: () => Promise.reject(new Error('ECONNREFUSED')),
      mark: () => {},
    }
    const codes: string[] = []
    const { receiver, handled } = receiverWith(broken, { onError: (e) => void codes.push(e.code) })
    expect((await receiver.handle(delivery())).status).toBe(503)
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

  it('two instances sharing Redis handle each event once', async () => {
    const store = redisStore(redis, { prefix: `test:${Date.now()}:` })
    const a = receiverWith(store)
    const b = receiverWith(store)
    expect((await a.receiver.handle(delivery())).status).toBe(200)
    expect((await b.receiver.handle(delivery())).status).toBe(200)
    expect(a.handled).toHaveLength(7)
    expect(b.handled).toHaveLength(0)
    expect(await store.outcome(identity(SEED_EVENTS[0]))).toBe('handled')
  })

  it('keys expire with the TTL', async () => {
    const store = redisStore(redis, { prefix: `ttl:${Date.now()}:` })
    await store.mark('k', 50, 'handled')
    expect(await store.has('k')).toBe(true)
    await new Promise((r) => setTimeout(r, 120))
    expect(await store.has('k')).toBe(false)
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
    expect((await receiver.handle(delivery())).status).toBe(503)
  })
})
