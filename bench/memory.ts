// Peak RSS for one 1000-event batch, in a fresh process: RSS when idle (after warm-up and GC),
// then the process's peak RSS after handling the batch. Prints one JSON line.
import { createReceiver, EVENT_NAMES } from 'sendclean-webhooks'
import { KEY, payload, URL_SIGNED } from './payloads.js'

const n = Number(process.argv[2] ?? 1000)
const noop = () => {}
const receiver = createReceiver<undefined>({
  keys: KEY,
  url: URL_SIGNED,
  on: Object.fromEntries(EVENT_NAMES.map((name) => [name, noop])),
})
const small = payload(1)
const big = payload(n)
const request = (p: typeof big) => ({
  method: 'POST',
  url: URL_SIGNED,
  headers: new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    'x-sendcleantes-signature': p.signature,
  }),
  body: Buffer.from(p.form),
  context: undefined,
})
for (let i = 0; i < 200; i++) await receiver.handle(request(small))
const gc = (globalThis as { gc?: () => void }).gc
gc?.()
await new Promise((r) => setTimeout(r, 50))
gc?.()
const bigRequest = request(big)
const idle = process.memoryUsage().rss
const peakBefore = process.resourceUsage().maxRSS * 1024
const res = await receiver.handle(bigRequest)
if (res.status !== 200) throw new Error(res.body)
const peak = process.resourceUsage().maxRSS * 1024
process.stdout.write(
  `${JSON.stringify({ n, bodyBytes: big.form.length, idle, peak, peakBefore, growth: Math.max(0, peak - idle) })}\n`,
)
