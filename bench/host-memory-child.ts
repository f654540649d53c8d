// One host process for bench/host-memory.ts: optionally loads a build of the package and serves
// requests with it (100-event batches through receiver.handle), then does what a host
// application does with large buffers: allocates 300 of 0.2–3.5 MiB, writes them, drops them,
// and collects. Prints its resident memory (RSS) after that, in bytes, as JSON.
import { pathToFileURL } from 'node:url'
import { coreRequest, KEY, payload, URL_SIGNED } from './payloads.js'

const [dist, requests] = [process.argv[2] ?? '', Number(process.argv[3] ?? 0)]
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')

if (dist !== '') {
  const core = (await import(
    pathToFileURL(`${dist}/index.js`).href
  )) as typeof import('sendclean-webhooks')
  const receiver = core.createReceiver<undefined>({
    keys: KEY,
    url: URL_SIGNED,
    on: Object.fromEntries(core.EVENT_NAMES.map((name) => [name, () => {}])),
  })
  const request = coreRequest(payload(100))
  for (let i = 0; i < requests; i++) {
    const response = await receiver.handle(request())
    if (response.status !== 200) throw new Error(response.body)
  }
}

// The host's burst: the same sizes every run (a fixed linear congruential sequence).
let seed = 42
const next = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed / 2 ** 31
}
let held: Uint8Array[] = []
for (let i = 0; i < 300; i++) {
  const bytes = Math.round((0.2 + 3.3 * next()) * 1024 * 1024)
  held.push(new Uint8Array(bytes).fill(1))
}
const peak = process.memoryUsage().rss
held = []
gc()
gc()
await new Promise((resolve) => setTimeout(resolve, 300))
process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, peak })}\n`)
