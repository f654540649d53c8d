// A worker: the same typed handlers as in-process mode, fed by BullMQ. Run as many as needed.
//   REDIS_URL=redis://127.0.0.1:6379 WORKER=a npx tsx examples/queue-worker.ts
import type { WebhookEvent } from 'sendclean-webhooks'
import { createWorker } from 'sendclean-webhooks/queue'

const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const name = process.env.WORKER ?? String(process.pid)
const print = (event: WebhookEvent) =>
  process.stdout.write(`${JSON.stringify({ worker: name, handled: event.event, event })}\n`)

const worker = createWorker(
  'sendclean-events',
  {
    send: print,
    delivered: print,
    hard_bounce: (event) => print(event), // e.g. suppress event.msg.bounceCodeEnh "5.x.x" addresses
    soft_bounce: print,
    open: print,
    click: print,
    spam: print,
    unknown: print,
  },
  { connection: { host: redis.hostname, port: Number(redis.port || 6379) }, concurrency: 5 },
)
worker.on('ready', () => console.error(`worker ${name}: ready`))

// Graceful shutdown: let in-flight jobs finish, then exit.
process.on('SIGTERM', async () => {
  await worker.close()
  process.exit(0)
})
