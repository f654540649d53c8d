// npm run demo: start the Express, Koa and Hono examples, deliver the seed's seven events to
// each as SendClean would (form body, signed per SPEC §3), and show what each one handled.
import { readFileSync } from 'node:fs'
import { DEFAULT_SIGNATURE_HEADER, HANDSHAKE_BODY, signDelivery } from '../src/index.js'
import { type RunningExample, startExample } from './run-example.js'

const PATH = '/webhooks/sendclean'
const KEY = 'demo-key-aVLnPysvkKUU95AFrb47Zr'
const events = readFileSync(new URL('../test/fixtures/seed-events.json', import.meta.url), 'utf8')
const step = (text: string) => console.log(`• ${text}`)

const running: RunningExample[] = []
let failed = false
try {
  for (const name of ['express', 'koa', 'hono']) {
    const example = await startExample(name, { SENDCLEAN_WEBHOOK_KEY: KEY })
    running.push(example)
    step(`${name}: example started on ${example.base}${PATH}`)

    const handshake = await fetch(example.base + PATH)
    const answer = await handshake.text()
    step(`${name}: handshake GET → ${handshake.status} "${answer}"`)
    if (answer !== HANDSHAKE_BODY) throw new Error(`${name}: wrong handshake answer`)

    const delivery = await signDelivery({ key: KEY, url: example.base + PATH, events })
    const res = await fetch(example.base + PATH, { method: 'POST', ...delivery })
    step(`${name}: signed batch of 7 events → ${res.status} "${await res.text()}"`)
    for (const line of example.lines) {
      const { handled, event } = JSON.parse(line)
      console.log(`    ${name} handled ${handled.padEnd(11)} ${event._id} at ${event.date}`)
    }
    if (example.lines.length !== 7) throw new Error(`${name}: handled ${example.lines.length} of 7`)

    const forged = await fetch(example.base + PATH, {
      method: 'POST',
      body: delivery.body,
      headers: { ...delivery.headers, [DEFAULT_SIGNATURE_HEADER]: 'forged' },
    })
    step(`${name}: forged signature → ${forged.status}`)
    if (forged.status !== 401) throw new Error(`${name}: forged batch not refused`)
  }
  step('all three receivers handled all seven event types')
} catch (error) {
  failed = true
  console.error(`demo failed: ${(error as Error).message}`)
} finally {
  await Promise.all(running.map((example) => example.stop()))
}
process.exit(failed ? 1 : 0)
