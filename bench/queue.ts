// npm run bench:queue: queue mode's ack path against in-process mode (HTTP, distinct 10-event
// batches), then events per second drained from BullMQ by one worker process and by two.
// Needs Redis: $REDIS_URL, or a throwaway redis-server. Writes its section of bench/RESULTS.md.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Queue } from 'bullmq'
import { once } from './http.js'
import { writeSection } from './results-file.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const smoke = process.argv.includes('--smoke')
const SECONDS = smoke ? 1 : 5
const JOBS = smoke ? 500 : 20_000
const children: ChildProcess[] = []

async function redisUrl(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL
  const port = 6900 + Math.floor(Math.random() * 500)
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  children.push(child)
  await new Promise<void>((resolve) =>
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('Ready') && resolve()),
  )
  return `redis://127.0.0.1:${port}`
}

const url = await redisUrl()
process.env.REDIS_URL = url
const { hostname, port } = new URL(url)
const connection = { host: hostname, port: Number(port) }

// 1. The ack path.
const lines: string[] = ['## Queue mode (scale-out)', '']
const ack: Record<string, number[]> = { 'in-process': [], queue: [] }
for (let round = 0; round < (smoke ? 1 : 3); round++) {
  for (const variant of round % 2 ? ['queue', 'package'] : ['package', 'queue']) {
    process.env.QUEUE_PREFIX = `bench-ack-${Date.now()}`
    const r = await once('express', variant, 10, SECONDS, true)
    ack[variant === 'queue' ? 'queue' : 'in-process']?.push(r.rps)
    console.error(`  ack ${variant}: ${Math.round(r.rps)} req/s`)
  }
}
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number

// 2. Draining: JOBS jobs, one worker process, then two.
async function drain(workers: number): Promise<number> {
  const prefix = `bench-drain-${Date.now()}`
  const queue = new Queue('sendclean-events', { connection, prefix })
  const event = { _id: 'm', smtp_name: 's', x_unique_id: '', ts: 1, event: 'send', msg: {} }
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
        name: 'send',
        data: { event: { ...event, _id: `m-${i + k}` } },
        opts: { removeOnComplete: true },
      })),
    )
  }
  const started = Date.now()
  const procs = Array.from({ length: workers }, () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/queue-worker.ts', url, prefix],
      { cwd: root, stdio: 'ignore' },
    )
    children.push(child)
    return child
  })
  for (;;) {
    const { waiting, active, delayed } = await queue.getJobCounts('waiting', 'active', 'delayed')
    if ((waiting ?? 0) + (active ?? 0) + (delayed ?? 0) === 0) break
    await new Promise((r) => setTimeout(r, 20))
  }
  const seconds = (Date.now() - started) / 1000
  for (const child of procs) child.kill('SIGTERM')
  await queue.obliterate({ force: true })
  await queue.close()
  return JOBS / seconds
}
const one = await drain(1)
const two = await drain(2)

lines.push(
  `Command: \`npm run bench:queue\` — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, redis-server on loopback (no persistence). Express adapter; each request a distinct signed batch of 10 events (so jobs do not collapse); ${SECONDS} s runs, 10 connections, median of ${smoke ? 1 : 3} rounds, alternating order. Workers: separate processes, concurrency 10, a no-op handler, ${JOBS} jobs drained; startup time included.`,
  '',
  '| measure | value |',
  '|---|---:|',
  `| ack path, in-process mode (handlers run before the 200) | ${Math.round(median(ack['in-process'] ?? []))} req/s |`,
  `| ack path, queue mode (200 once Redis has every job) | ${Math.round(median(ack.queue ?? []))} req/s |`,
  `| queue ÷ in-process | ${(median(ack.queue ?? []) / median(ack['in-process'] ?? [])).toFixed(2)}× |`,
  `| events/s drained by one worker | ${Math.round(one)} |`,
  `| events/s drained by two workers | ${Math.round(two)} (${(two / one).toFixed(2)}×) |`,
  '',
  'With no-op handlers, in-process mode is the faster ack: queue mode pays a Redis round trip per batch. It pays off when handlers are slow (the ack no longer waits for them) or must survive a deploy; the 2-core machine bounds the two-worker gain, since Redis, the workers and the driver share its cores.',
)
const markdown = lines.join('\n')
console.log(markdown)
if (!smoke) writeSection('queue', markdown)
for (const child of children) child.kill('SIGTERM')
process.exit(0)
