// In-process benchmark: the package's core against the hand-written floor and three peers, for
// N = 1, 100 and 1000 events. `node --import tsx bench/core.ts [--smoke]` prints JSON rows.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { parse as parseQuery } from 'node:querystring'
import { bench, do_not_optimize, run } from 'mitata'
import {
  createReceiver,
  DEFAULT_EVENTS_FIELD,
  EVENT_NAMES,
  type WebhookRequest,
} from 'sendclean-webhooks'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import Stripe from 'stripe'
import { KEY, payload, URL_SIGNED } from './payloads.js'
import { floor, octokitPeer } from './peers.js'

const smoke = process.argv.includes('--smoke')
const SIZES = smoke ? [1, 10] : [1, 100, 1000]
const webCrypto = process.env.BENCH_WEB_CRYPTO === '1'

const noop = () => {}
const receiver = createReceiver<undefined>({
  keys: KEY,
  url: URL_SIGNED,
  on: Object.fromEntries(EVENT_NAMES.map((name) => [name, noop])),
})
const stripe = new Stripe('sk_test_bench')
const standard = new StandardWebhook(Buffer.from(KEY).toString('base64'))

for (const n of SIZES) {
  const p = payload(n)
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    'x-sendcleantes-signature': p.signature,
  })
  const request = (): WebhookRequest<undefined> => ({
    method: 'POST',
    url: URL_SIGNED,
    headers,
    body: p.formBytes,
    context: undefined,
  })
  const check = await receiver.handle(request())
  if (check.status !== 200) throw new Error(`core refused the bench payload: ${check.body}`)
  bench(`${webCrypto ? 'core (Web Crypto)' : 'core'} N=${n}`, async () => {
    do_not_optimize(await receiver.handle(request()))
  })
  if (webCrypto) continue
  // The peers run on Node's own crypto: not under the Web run's `browser` condition.
  const runOctokit = await octokitPeer(p)
  const stripeHeader = stripe.webhooks.generateTestHeaderString({ payload: p.json, secret: KEY })
  const msgId = 'msg_bench'
  const timestamp = new Date()
  const standardHeaders = {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': standard.sign(msgId, timestamp, p.json),
  }
  const expected = Buffer.from(p.signature)

  const runFloor = floor(p)
  bench(`floor: querystring + HMAC + JSON.parse N=${n}`, () => {
    do_not_optimize(runFloor())
  })
  bench(`part: querystring decode N=${n}`, () => {
    do_not_optimize(parseQuery(p.form))
  })
  bench(`part: URLSearchParams decode N=${n}`, () => {
    do_not_optimize(new URLSearchParams(p.form).get(DEFAULT_EVENTS_FIELD))
  })
  bench(`part: HMAC-SHA1 + base64 + compare N=${n}`, () => {
    const digest = createHmac('sha1', KEY)
      .update(URL_SIGNED + DEFAULT_EVENTS_FIELD + p.eventsJson)
      .digest('base64')
    do_not_optimize(timingSafeEqual(Buffer.from(digest), expected))
  })
  bench(`part: JSON.parse N=${n}`, () => {
    do_not_optimize(JSON.parse(p.eventsJson))
  })
  bench(`peer: @octokit/webhooks verify + JSON.parse N=${n}`, async () => {
    do_not_optimize(await runOctokit())
  })
  bench(`peer: stripe constructEvent N=${n}`, () => {
    do_not_optimize(stripe.webhooks.constructEvent(p.json, stripeHeader, KEY))
  })
  bench(`peer: standardwebhooks verify N=${n}`, () => {
    do_not_optimize(standard.verify(p.json, standardHeaders))
  })
}

const { benchmarks } = await run({
  format: 'quiet',
  ...(smoke ? { min_cpu_time: 1e6 } : {}),
} as never)
const rows = benchmarks.map(
  (b: { alias: string; runs: Array<{ stats?: { p50: number; min: number; max: number } }> }) => {
    const stats = b.runs[0]?.stats
    return {
      name: b.alias,
      medianUs: (stats?.p50 ?? Number.NaN) / 1000,
      minUs: (stats?.min ?? 0) / 1000,
      maxUs: (stats?.max ?? 0) / 1000,
    }
  },
)
process.stdout.write(`${JSON.stringify(rows)}\n`)
