// The core against one peer at a time, A/B, as issue 14 measured it: 31 pairs of interleaved
// blocks per size and peer (the order flips every pair), the median of the per-pair ratios and
// its quartiles. Three peers, each in its own series: @octokit/webhooks verify + JSON.parse of a
// JSON body of the same byte size, the hand-written floor (querystring + HMAC + JSON.parse), and
// that floor with the textbook zod union validating what it parsed (the core's work, by hand).
// Only the two sides of a series run between its blocks, so neither is charged for a third
// step's garbage. One build per process: to compare two builds, run this once per build,
// alternating.
//
//   npm run bench:pairs [-- --dist <a build's dist/>] [--smoke] [--json]
//
// `bench:revisions -- <rev>` leaves <rev>'s build in /tmp/sendclean-webhooks-<sha>/dist.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as Core from 'sendclean-webhooks'
import { coreRequest, KEY, payload, URL_SIGNED } from './payloads.js'
import { floor, floorZod, octokitPeer } from './peers.js'
import { quantile } from './stats.js'

const smoke = process.argv.includes('--smoke')
const json = process.argv.includes('--json')
const distAt = process.argv.indexOf('--dist')
const dist = resolve(distAt > 0 ? (process.argv[distAt + 1] as string) : 'dist')
const core = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Core
const SIZES = smoke ? [1, 10] : [1, 100, 1000]
const PAIRS = smoke ? 3 : 31

const noop = () => {}
const receiver = core.createReceiver<undefined>({
  keys: KEY,
  url: URL_SIGNED,
  on: Object.fromEntries(core.EVENT_NAMES.map((name) => [name, noop])),
})

export interface PairResult {
  n: number
  peer: 'octokit' | 'floor' | 'floor+zod'
  coreUs: number
  peerUs: number
  /** How many pairs of blocks were timed. */
  pairs: number
  /** Median of the per-pair ratios core ÷ peer, and its quartiles. */
  ratio: number
  q1: number
  q3: number
}

let sink: unknown

const results: PairResult[] = []
for (const n of SIZES) {
  const p = payload(n)
  const request = coreRequest(p)
  const runCore = async () => {
    const response = await receiver.handle(request())
    if (response.status !== 200) throw new Error(response.body)
    return response
  }
  const peers = {
    octokit: await octokitPeer(p),
    floor: floor(p),
    'floor+zod': floorZod(p),
  }
  // About 5 ms of the core per block from N = 100 up; N = 1 batches are too short for that.
  const iterations = n === 1 ? 1000 : Math.max(3, Math.round(20_000 / n))
  const block = async (run: () => unknown) => {
    const start = performance.now()
    for (let i = 0; i < iterations; i++) {
      const result = run()
      sink = result instanceof Promise ? await result : result
    }
    return ((performance.now() - start) * 1000) / iterations
  }
  for (const [peer, runPeer] of Object.entries(peers) as Array<
    [PairResult['peer'], () => unknown]
  >) {
    for (let i = 0; i < 3; i++) {
      await block(runCore)
      await block(runPeer)
    }
    const us = { core: [] as number[], peer: [] as number[], ratio: [] as number[] }
    for (let pair = 0; pair < PAIRS; pair++) {
      let c: number
      let o: number
      if (pair % 2 === 0) {
        c = await block(runCore)
        o = await block(runPeer)
      } else {
        o = await block(runPeer)
        c = await block(runCore)
      }
      us.core.push(c)
      us.peer.push(o)
      us.ratio.push(c / o)
    }
    results.push({
      n,
      peer,
      coreUs: quantile(us.core, 0.5),
      peerUs: quantile(us.peer, 0.5),
      pairs: PAIRS,
      ratio: quantile(us.ratio, 0.5),
      q1: quantile(us.ratio, 0.25),
      q3: quantile(us.ratio, 0.75),
    })
  }
}

if (json) {
  process.stdout.write(`${JSON.stringify(results)}\n`)
  process.exit(0)
}
const fmt = (x: number, digits = 0) => x.toFixed(digits)
console.log(`| N | peer | core µs | peer µs | core ÷ peer, median of ${PAIRS} pairs (quartiles) |`)
console.log('|---:|---|---:|---:|---|')
for (const r of results) {
  console.log(
    `| ${r.n} | ${r.peer} | ${fmt(r.coreUs, 1)} | ${fmt(r.peerUs, 1)} | ${fmt(r.ratio, 2)}× (${fmt(r.q1, 2)}–${fmt(r.q3, 2)}) |`,
  )
}
if (sink === -1) console.log('')
