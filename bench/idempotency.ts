// npm run bench:idempotency: what de-duplication costs on the ack path. The same distinct signed
// 100-event batches go through receiver.handle() with no store, with memoryStore, redisStore
// (real redis-server) and postgresStore (real PostgreSQL: $DATABASE_URL, or a throwaway
// cluster), in alternating rounds; then heap per remembered event (memory store), Redis memory
// and table bytes per event. `--label X` names the column (e.g. "before" / "after").
import { spawn } from 'node:child_process'
import { Redis } from 'ioredis'
import pg from 'pg'
import {
  createReceiver,
  EVENT_NAMES,
  type IdempotencyStore,
  memoryStore,
  postgresStore,
  redisStore,
  type WebhookRequest,
} from 'sendclean-webhooks'
import { postgresBin, startPostgres } from '../scripts/postgres.js'
import { distinctPayload, KEY, URL_SIGNED } from './payloads.js'
import { writeSection } from './results-file.js'

const smoke = process.argv.includes('--smoke')
const labelAt = process.argv.indexOf('--label')
const label = labelAt === -1 ? undefined : process.argv[labelAt + 1]
const BATCHES = smoke ? 20 : 300
const N = 100
const ROUNDS = smoke ? 1 : 3

async function redisUrl(): Promise<{ url: string; stop: () => void }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => {} }
  const port = 7400 + Math.floor(Math.random() * 500)
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
  await new Promise<void>((resolve) =>
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('Ready') && resolve()),
  )
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') }
}

const redisServer = await redisUrl()
const redis = new Redis(redisServer.url)
await redis.flushdb()

async function postgresUrl(): Promise<{ url: string; stop: () => void }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: () => {} }
  const bin = postgresBin()
  if (!bin)
    throw new Error('bench:idempotency needs PostgreSQL: set DATABASE_URL or install postgresql')
  return startPostgres(bin)
}
const postgresServer = await postgresUrl()
const pool = new pg.Pool({ connectionString: postgresServer.url, max: 4 })
let tables = 0
const table = () => `bench_${process.pid}_${++tables}`

// Inputs first: every batch is distinct, so no variant ever skips a duplicate.
const batches = (variant: string, round: number) =>
  Array.from({ length: BATCHES }, () => {
    const p = distinctPayload(N)
    return (): WebhookRequest<undefined> => ({
      method: 'POST',
      url: URL_SIGNED,
      headers: new Headers({
        'content-type': 'application/x-www-form-urlencoded',
        'x-sendcleantes-signature': p.signature,
      }),
      body: p.form,
      context: `${variant}${round}` as unknown as undefined,
    })
  })

const noop = () => {}

// Memory: heap per remembered event in the memory store, Redis bytes per event.
const gc = (globalThis as { gc?: () => void }).gc
const heap = async () => {
  for (let i = 0; i < 4; i++) {
    gc?.()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return process.memoryUsage().heapUsed
}
const memInputs = batches('mem', 99).slice(0, smoke ? 5 : 100)
// The store's share of the heap: measured with the receiver (and its store) alive, then dropped.
let held: { receiver: ReturnType<typeof createReceiver<undefined>> } | undefined = {
  receiver: createReceiver<undefined>({
    keys: KEY,
    url: URL_SIGNED,
    on: { '*': noop },
    idempotency: { store: memoryStore({ max: 1_000_000 }) },
  }),
}
for (const make of memInputs) await held.receiver.handle(make())
const heapWith = await heap()
held = undefined
const heapWithout = await heap()
const heapPerEvent = (heapWith - heapWithout) / (memInputs.length * N)

await redis.flushdb()
const redisBefore = Number((await redis.info('memory')).match(/used_memory:(\d+)/)?.[1])
const redisReceiver = createReceiver<undefined>({
  keys: KEY,
  url: URL_SIGNED,
  on: { '*': noop },
  idempotency: { store: redisStore(redis, { prefix: 'bench-mem:' }) },
})
for (const make of memInputs) await redisReceiver.handle(make())
const redisAfter = Number((await redis.info('memory')).match(/used_memory:(\d+)/)?.[1])
const redisPerEvent = (redisAfter - redisBefore) / (memInputs.length * N)

const memTable = table()
const postgresReceiver = createReceiver<undefined>({
  keys: KEY,
  url: URL_SIGNED,
  on: { '*': noop },
  idempotency: { store: postgresStore(pool, { table: memTable, createTable: true }) },
})
for (const make of memInputs) await postgresReceiver.handle(make())
const tableBytes = Number(
  (await pool.query(`SELECT pg_total_relation_size('${memTable}') AS bytes`)).rows[0].bytes,
)
const postgresPerEvent = tableBytes / (memInputs.length * N)

// "2 handlers": the event's type handler, then `*`: each event's first handler is recorded
// (`progress`) before the second runs, so a retry would not run it again.
const stores: Record<string, () => IdempotencyStore | undefined> = {
  'no store': () => undefined,
  memoryStore: () => memoryStore({ max: 1_000_000 }),
  redisStore: () => redisStore(redis, { prefix: `bench:${Date.now()}:` }),
  'memoryStore, 2 handlers': () => memoryStore({ max: 1_000_000 }),
  'redisStore, 2 handlers': () => redisStore(redis, { prefix: `bench2:${Date.now()}:` }),
  postgresStore: () => postgresStore(pool, { table: table(), createTable: true }),
  'postgresStore, 2 handlers': () => postgresStore(pool, { table: table(), createTable: true }),
}
const samples: Record<string, number[]> = {}
for (let round = 0; round < ROUNDS; round++) {
  const order = Object.keys(stores)
  if (round % 2) order.reverse()
  for (const variant of order) {
    const requests = batches(variant, round)
    const store = stores[variant]?.()
    const receiver = createReceiver<undefined>({
      keys: KEY,
      url: URL_SIGNED,
      on: { '*': noop },
      ...(store ? { idempotency: { store } } : {}),
    })
    // Old builds (bench:idempotency run from another revision) have no progress records.
    if (variant.endsWith('2 handlers')) receiver.on(EVENT_NAMES, noop)
    for (const make of requests.slice(0, 10)) await receiver.handle(make())
    const times: number[] = []
    for (const make of requests.slice(10)) {
      const request = make()
      const start = performance.now()
      const res = await receiver.handle(request)
      times.push(performance.now() - start)
      if (res.status !== 200) throw new Error(`${variant}: ${res.status} ${res.body}`)
    }
    samples[variant] = [...(samples[variant] ?? []), ...times]
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}
const base = median(samples['no store'] ?? [])

const rows = Object.keys(stores).map((variant) => {
  const m = median(samples[variant] ?? [])
  return `| ${variant} | ${m.toFixed(2)} | ${(m / base).toFixed(2)}× |`
})
const markdown = [
  `### ${label ? `${label}: ack` : 'Ack'} latency per ${N}-event batch (median of ${ROUNDS * (BATCHES - 10)}), Node ${process.version}`,
  '',
  '| store | ms per batch | ÷ no store |',
  '|---|---:|---:|',
  ...rows,
  '',
  `Memory: memoryStore ${heapPerEvent.toFixed(0)} B of heap per remembered event${gc ? '' : ' (no --expose-gc: rough)'}; redisStore ${redisPerEvent.toFixed(0)} B of Redis memory per event; postgresStore ${postgresPerEvent.toFixed(0)} B of table (heap and index) per event.`,
].join('\n')
console.log(markdown)
if (!smoke) {
  writeSection(
    'idempotency',
    `## De-duplication cost (claim before run)\n\nCommand: \`npm run bench:idempotency\` — ${new Date().toISOString().slice(0, 10)}. Distinct signed batches through \`receiver.handle()\` with a no-op \`*\` handler; redis-server on loopback, no persistence; PostgreSQL on loopback (the throwaway cluster runs with fsync off); rounds alternate the order of the stores.\n\n${markdown}`,
  )
}
redis.disconnect()
redisServer.stop()
await pool.end()
postgresServer.stop()
