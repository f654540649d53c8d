// A draining worker for bench/queue.ts: no-op handlers, concurrency 10.
import { createWorker } from 'sendclean-webhooks/queue'

const [url, prefix] = process.argv.slice(2) as [string, string]
const { hostname, port } = new URL(url)
const worker = createWorker(
  'sendclean-events',
  { '*': () => {} },
  {
    connection: { host: hostname, port: Number(port) },
    prefix,
    concurrency: 10,
  },
)
process.on('SIGTERM', async () => {
  await worker.close()
  process.exit(0)
})
