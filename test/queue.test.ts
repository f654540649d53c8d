import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createAdaptorServer } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'
import request from 'supertest'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { createFetchHandler } from '../adapters/fetch.js'
import { createHonoHandler } from '../adapters/hono.js'
import { createKoaMiddleware } from '../adapters/koa.js'
import { createNodeHandler } from '../adapters/node.js'
import { bullmqSink, createQueue, createWorker, jobIdFor, type Worker } from '../queue/index.js'
import { createReceiver, type ReceiverOptions, type WebhookError } from '../src/index.js'
import {
  COLLIDING_EVENTS,
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'
import { startRedis } from './support/redis-setup.js'

const redisUrl = inject('redisUrl')
const canSpawnRedis = inject('redisServer')
const root = fileURLToPath(new URL('..', import.meta.url))
const PATH = '/hook'

const connectionOf = (url: string) => {
  const { hostname, port } = new URL(url)
  return { host: hostname, port: Number(port) }
}

const closers: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

let n = 0
type Framework = 'express' | 'koa' | 'hono' | 'node' | 'fetch'

/** A receiver in queue mode, mounted on `framework` (queue mode is core, so every adapter has it). */
function mount(framework: Framework, options: ReceiverOptions<never>): Server {
  // biome-ignore lint/suspicious/noExplicitAny: one options object serves every adapter's context
  const o = options as ReceiverOptions<any>
  switch (framework) {
    case 'express': {
      const app = express()
      app.use(PATH, createExpressMiddleware(o))
      return createServer(app)
    }
    case 'koa': {
      const app = new Koa()
      app.use(createKoaMiddleware({ ...o, path: PATH }))
      return createServer(app.callback())
    }
    case 'hono': {
      const app = new Hono()
      app.all(PATH, createHonoHandler(o))
      return createAdaptorServer({ fetch: app.fetch }) as Server
    }
    case 'node':
      return createServer(createNodeHandler({ ...o, path: PATH }))
    case 'fetch':
      return createAdaptorServer({ fetch: createFetchHandler(o) }) as Server
  }
}

function setup(
  url = redisUrl,
  timeoutMs = 2000,
  framework: Framework = 'express',
  events = SEED_EVENTS_TEXT,
) {
  const prefix = `qtest${process.pid}-${++n}`
  const queue = createQueue('events', { connection: connectionOf(url), prefix })
  // While Redis is down in the tests below, the queue reports connection errors: expected.
  queue.on('error', () => {})
  // Closing while Redis is down rejects (quit cannot be sent): nothing to clean up then.
  closers.push(() => queue.close().catch(() => {}))
  const errors: WebhookError[] = []
  const server = mount(framework, {
    keys: KEY,
    url: URL_REGISTERED,
    queue: { sink: bullmqSink(queue), timeoutMs },
    onError: (e) => void errors.push(e),
  })
  const deliver = () => {
    const { body, signature } = formDelivery(events)
    return request(server).post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
  }
  return { queue, prefix, deliver, errors }
}

function worker(
  prefix: string,
  handlers: Parameters<typeof createWorker>[1],
  url = redisUrl,
): Worker {
  const w = createWorker('events', handlers, {
    connection: connectionOf(url),
    prefix,
    lockDuration: 1000,
    stalledInterval: 500,
  })
  closers.push(() => w.close())
  return w
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('queue mode configuration', () => {
  it('refuses handlers or an idempotency store in the receiver', () => {
    const sink = { enqueue: async () => {} }
    expect(() => createReceiver({ keys: KEY, queue: { sink }, on: { send: () => {} } })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    )
    expect(() => createReceiver({ keys: KEY, queue: { sink } }).on('send', () => {})).toThrow(
      /workers/,
    )
    expect(() => createReceiver({ keys: KEY, queue: { sink: {} as never } })).toThrow(/enqueue/)
  })

  it('bullmqSink refuses an option it does not know, naming the one meant', () => {
    const queue = {} as Parameters<typeof bullmqSink>[0] // never reached
    expect(() => bullmqSink(queue, { windowMs: 1000 } as never)).toThrow(
      expect.objectContaining({
        code: 'CONFIGURATION',
        message: 'sendclean-webhooks: unknown option "windowMs" (did you mean "window"?)',
      }),
    )
  })

  // Found at the first delivery before, as a TypeError and a 503 on every request.
  it('bullmqSink, createQueue and createWorker refuse what they cannot use', () => {
    const configuration = (message: RegExp) =>
      expect.objectContaining({ code: 'CONFIGURATION', message: expect.stringMatching(message) })
    for (const queue of [undefined, {}, { add: () => {} }]) {
      expect(() => bullmqSink(queue as never)).toThrow(configuration(/needs a BullMQ Queue/))
    }
    expect(() => createQueue('q', undefined as never)).toThrow(configuration(/`connection`/))
    expect(() => createQueue('q', {} as never)).toThrow(configuration(/`connection`/))
    expect(() =>
      createQueue('q', { connection: { host: '127.0.0.1' }, prefx: 'x' } as never),
    ).toThrow(configuration(/unknown option "prefx" \(did you mean "prefix"\?\)/))
    expect(() => createWorker('q', { send: () => {} }, undefined as never)).toThrow(
      configuration(/worker options/),
    )
  })

  it('job ids are valid for BullMQ (no colon, not an integer) and stable', () => {
    const id = jobIdFor('m:click:1:2')
    expect(id).toMatch(/^sc-[0-9a-f]{40}$/)
    expect(jobIdFor('m:click:1:2')).toBe(id)
    expect(jobIdFor('m:click:1:3')).not.toBe(id)
  })
})

describe.skipIf(!redisUrl)('queue mode on BullMQ (real redis-server)', () => {
  it.each<Framework>(['express', 'koa', 'hono', 'node', 'fetch'])(
    '%s: enqueues each event exactly once under concurrent duplicate deliveries',
    async (framework) => {
      const { queue, deliver } = setup(redisUrl, 2000, framework)
      const answers = await Promise.all(Array.from({ length: 6 }, () => deliver()))
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200])
      const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')
      expect(counts.waiting).toBe(SEED_EVENTS.length)
      const names = (await queue.getWaiting()).map((job) => job.name).sort()
      expect(names).toEqual(SEED_EVENTS.map((e) => e.event).sort())
    },
  )

  it('distinct events that share _id, type and ts each get a job; invalid ones reach invalid', async () => {
    const base = SEED_EVENTS[0] as Record<string, unknown>
    const events = [...COLLIDING_EVENTS.slice(0, 5), { ...base, x_unique_id: null }]
    const { queue, prefix, deliver, errors } = setup(
      redisUrl,
      2000,
      'express',
      JSON.stringify(events),
    )
    expect((await deliver()).status).toBe(200)
    expect((await deliver()).status).toBe(200)
    expect((await queue.getJobCounts('waiting')).waiting).toBe(6)
    expect(errors.map((e) => e.code)).toEqual([
      'INVALID_EVENT',
      'INVALID_EVENT',
      'INVALID_EVENT',
      'INVALID_EVENT',
    ])
    const seen: string[] = []
    worker(prefix, {
      hard_bounce: (event) => void seen.push(`hard_bounce ${event.x_unique_id}`),
      unknown: (event) => void seen.push(`unknown ${event.raw.reason}`),
      invalid: (event) => void seen.push(`invalid ${event.issues[0]?.path.join('.')}`),
    })
    await until(async () => (await queue.getJobCounts('completed')).completed === 6)
    expect(seen.sort()).toEqual(
      [
        `hard_bounce ${base.x_unique_id}`,
        'hard_bounce other',
        'unknown a',
        'unknown b',
        'invalid ts',
        'invalid x_unique_id',
      ].sort(),
    )
  })

  it.skipIf(!canSpawnRedis)(
    'a receiver started while Redis is down answers 503 at once, not after queue.timeoutMs',
    async () => {
      const redis = await startRedis()
      await redis.stop()
      const { deliver, errors } = setup(redis.url, 5000)
      const started = Date.now()
      expect((await deliver()).status).toBe(503)
      expect(Date.now() - started).toBeLessThan(1500)
      expect(errors.map((e) => e.code)).toEqual(['QUEUE_FAILED'])
    },
  )

  it('worker.close() lets the job in flight finish', async () => {
    const { queue, prefix, deliver } = setup()
    expect((await deliver()).status).toBe(200)
    let started = 0
    let finished = 0
    const w = worker(prefix, {
      send: async () => {
        started++
        await new Promise((r) => setTimeout(r, 300))
        finished++
      },
    })
    await until(() => started === 1)
    await w.close()
    expect(finished).toBe(1)
    const job = (await queue.getCompleted()).find((j) => j.name === 'send')
    expect(job?.finishedOn).toBeTypeOf('number')
  })

  it('workers run the typed handler map, and BullMQ retries a failing handler', async () => {
    const { queue, prefix, deliver } = setup()
    expect((await deliver()).status).toBe(200)
    const seen: string[] = []
    let clickAttempts = 0
    worker(prefix, {
      click: (event) => {
        if (++clickAttempts === 1) throw new Error('transient')
        seen.push(`click ${event.msg.clicks[0]?.clickUrl}`)
      },
      spam: (event) => void seen.push(`spam ${event.msg.feedback.feedbackType}`),
      '*': (event, { job }) => void seen.push(`* ${event.event} ${job.name}`),
    })
    await until(async () => (await queue.getJobCounts('completed')).completed === 7, 15_000)
    expect(clickAttempts).toBe(2)
    expect(seen).toContain('click http://example.com/')
    expect(seen).toContain('spam abuse')
    expect(seen.filter((s) => s.startsWith('* '))).toHaveLength(7)
  })

  it.skipIf(!canSpawnRedis)(
    'answers 503 while Redis is down, and nothing is lost once it is back',
    async () => {
      const redis = await startRedis()
      closers.push(() => redis.stop())
      const { queue, deliver, errors } = setup(redis.url, 1000)
      await queue.waitUntilReady()
      await redis.stop()
      const down = await deliver()
      expect(down.status).toBe(503)
      expect(errors.map((e) => e.code)).toContain('QUEUE_FAILED')

      const again = await startRedis(redis.port)
      closers.push(() => again.stop())
      await until(async () => (await deliver()).status === 200, 10_000)
      expect((await queue.getJobCounts('waiting')).waiting).toBe(7)
    },
  )

  it.skipIf(!canSpawnRedis)('answers 503 when Redis stalls past the bound', async () => {
    const redis = await startRedis()
    closers.push(() => redis.stop())
    const { queue, deliver } = setup(redis.url, 300)
    await queue.waitUntilReady()
    process.kill(redis.pid, 'SIGSTOP')
    try {
      const started = Date.now()
      const res = await deliver()
      expect(res.status).toBe(503)
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      process.kill(redis.pid, 'SIGCONT')
    }
  })

  it('a worker killed mid-job leaves its job to be retried by another', async () => {
    const { queue, prefix } = setup()
    const { body, signature } = formDelivery(JSON.stringify([SEED_EVENTS[2]]))
    const app = express()
    app.use(
      PATH,
      createExpressMiddleware({
        keys: KEY,
        url: URL_REGISTERED,
        queue: { sink: bullmqSink(queue) },
      }),
    )
    expect(
      (
        await request(createServer(app))
          .post(PATH)
          .type(FORM)
          .set(SIGNATURE_HEADER, signature)
          .send(body)
      ).status,
    ).toBe(200)

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/queue-worker.ts', redisUrl, 'events', prefix],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    await until(() => out.includes('started'), 15_000)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited

    const handled: string[] = []
    worker(prefix, {
      send: (event, { job }) => void handled.push(`${event.event} ${job.attemptsStarted}`),
    })
    await until(() => handled.length === 1, 15_000)
    expect(handled[0]).toMatch(/^send [2-9]/)
  })
})

describe.skipIf(!redisUrl)('queue mode: the delivery contract (issue 33)', () => {
  /** A receiver of `url` (signed with `key`) on the same queue as `setup()`'s. */
  function alsoReceiving(queue: ReturnType<typeof setup>['queue'], url: string, key: string) {
    const app = express()
    app.use(PATH, createExpressMiddleware({ keys: key, url, queue: { sink: bullmqSink(queue) } }))
    const server = createServer(app)
    return (events: string) => {
      const { body, signature } = formDelivery(events, { key, url })
      return request(server).post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
    }
  }

  it('2. events that differ only in date, meta.feedback, an own __proto__ or an integer above 2^53 each get a job', async () => {
    const base = JSON.stringify(SEED_EVENTS[0]).slice(0, -1)
    const text = `[${base},"date":"a"},${base},"date":"b"},${base},"meta":{"feedback":1}},${base},"meta":{"feedback":2}},${base},"__proto__":{"v":1}},${base},"__proto__":{"v":2}},${base},"big":9007199254740992},${base},"big":9007199254740993}]`
    const { queue, prefix, deliver } = setup(redisUrl, 2000, 'express', text)
    expect((await deliver()).status).toBe(200)
    expect((await deliver()).status).toBe(200)
    expect((await queue.getJobCounts('waiting')).waiting).toBe(8)
    const dates: unknown[] = []
    worker(prefix, { hard_bounce: (event) => void dates.push(event.date) })
    await until(async () => (await queue.getJobCounts('completed')).completed === 8)
    expect(dates.filter((d) => typeof d === 'string').sort()).toEqual(['a', 'b'])
  })

  it('4. two webhooks on one queue: the same event delivered to each gets a job for each', async () => {
    const { queue, deliver } = setup(redisUrl, 2000, 'express', JSON.stringify([SEED_EVENTS[2]]))
    const other = alsoReceiving(queue, 'https://b.example.com/hook', 'second-key-9z')
    expect((await deliver()).status).toBe(200)
    expect((await other(JSON.stringify([SEED_EVENTS[2]]))).status).toBe(200)
    expect((await other(JSON.stringify([SEED_EVENTS[2]]))).status).toBe(200)
    expect((await queue.getJobCounts('waiting')).waiting).toBe(2)
  })

  it('5. a worker’s retry runs only the handlers that did not complete', async () => {
    const { queue, prefix, deliver } = setup(
      redisUrl,
      2000,
      'express',
      JSON.stringify([SEED_EVENTS[0]]),
    )
    expect((await deliver()).status).toBe(200)
    const ran = { h1: 0, h2: 0, attempts: 0 }
    worker(prefix, {
      hard_bounce: () => void ran.h1++,
      '*': () => {
        if (++ran.attempts === 1) throw new Error('h2 fails once')
        ran.h2++
      },
    })
    await until(async () => (await queue.getJobCounts('completed')).completed === 1, 15_000)
    expect(ran).toEqual({ h1: 1, h2: 1, attempts: 2 })
  })

  it('6. an event nested 4,500 levels deep is queued with the rest of its batch', async () => {
    const deep = `{"event":"nested","value":${'['.repeat(4500)}${']'.repeat(4500)}}`
    const text = `[${JSON.stringify(SEED_EVENTS[2])},${deep},${JSON.stringify(SEED_EVENTS[3])}]`
    const { queue, prefix, deliver } = setup(redisUrl, 2000, 'express', text)
    expect((await deliver()).status).toBe(200)
    expect((await queue.getJobCounts('waiting')).waiting).toBe(3)
    const seen: string[] = []
    worker(prefix, {
      unknown: (event) => void seen.push(event.type),
      '*': (event) => void seen.push(`* ${event.event}`),
    })
    await until(async () => (await queue.getJobCounts('completed')).completed === 3)
    expect(seen.sort()).toEqual(['* delivered', '* send', '* unknown', 'nested'])
  })

  it('3. the duplicate window is a time, not a count: a replay after 100,001 completed jobs adds nothing; after the window it is queued again', async () => {
    const prefix = `qwindow${process.pid}-${++n}`
    const queue = createQueue('events', { connection: connectionOf(redisUrl), prefix })
    closers.push(() => queue.close())
    const receiver = createReceiver({
      keys: KEY,
      url: URL_REGISTERED,
      queue: {
        sink: bullmqSink(queue, {
          window: 120_000,
          // Finished jobs go at once: only the window may remember an event.
          jobOptions: { removeOnComplete: true },
        }),
      },
    })
    const first = { ...(SEED_EVENTS[2] as object), x_unique_id: 'first' }
    await receiver.receive([first])
    let done = 0
    worker(prefix, { '*': () => void done++ })
    const total = 100_001
    for (let start = 1; start < total; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, total - start) }, (_, i) => ({
        ...(SEED_EVENTS[2] as object),
        x_unique_id: `bulk-${start + i}`,
      }))
      await receiver.receive(batch)
    }
    await until(() => done === total, 120_000)
    expect((await queue.getJobCounts('completed')).completed).toBe(0)
    await receiver.receive([first])
    await new Promise((r) => setTimeout(r, 300))
    expect(done).toBe(total)

    // The same event through a sink whose window has passed is queued again.
    const short = createReceiver({
      keys: KEY,
      url: URL_REGISTERED,
      queue: {
        sink: bullmqSink(queue, { window: 200, jobOptions: { removeOnComplete: true } }),
      },
    })
    const replayed = { ...(SEED_EVENTS[2] as object), x_unique_id: 'short-window' }
    await short.receive([replayed])
    await short.receive([replayed])
    await until(() => done === total + 1)
    await new Promise((r) => setTimeout(r, 400))
    await short.receive([replayed])
    await until(() => done === total + 2)
  }, 180_000)
})
