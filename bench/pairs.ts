// The core against @octokit/webhooks verify + JSON.parse, alone in one process: 31 pairs of
// interleaved blocks (core, then Octokit), the median of the per-pair ratios and its quartiles.
// Nothing else runs in the process, so no other step's garbage is collected in either side's
// time. One build per process: to compare two builds, run this once per build, alternating.
//
//   npm run bench:pairs [-- --dist <a build's dist/>] [--smoke]
//
// `bench:revisions -- <rev>` leaves <rev>'s build in /tmp/sendclean-webhooks-<sha>/dist.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Webhooks } from '@octokit/webhooks'
import type * as Core from 'sendclean-webhooks'
import { coreRequest, KEY, payload, URL_SIGNED } from './payloads.js'

const smoke = process.argv.includes('--smoke')
const distAt = process.argv.indexOf('--dist')
const dist = resolve(distAt > 0 ? (process.argv[distAt + 1] as string) : 'dist')
const core = (await import(pathToFileURL(`${dist}/index.js`).href)) as typeof Core
const SIZES = smoke ? [10] : [100, 1000]
const PAIRS = smoke ? 3 : 31

const octokit = new Webhooks({ secret: KEY })
const noop = () => {}
const receiver = core.createReceiver<undefined>({
  keys: KEY,
  url: URL_SIGNED,
  on: Object.fromEntries(core.EVENT_NAMES.map((name) => [name, noop])),
})

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
const at = (xs: number[], q: number) => sorted(xs)[Math.floor((xs.length - 1) * q)] as number

console.log(`| N | core µs | Octokit µs | core ÷ Octokit, median of ${PAIRS} pairs (quartiles) |`)
console.log('|---:|---:|---:|---|')
for (const n of SIZES) {
  const p = payload(n)
  const request = coreRequest(p)
  const signature = await octokit.sign(p.json)
  const sides = {
    core: async () => {
      const response = await receiver.handle(request())
      if (response.status !== 200) throw new Error(response.body)
    },
    octokit: async () => {
      if (!(await octokit.verify(p.json, signature))) throw new Error('octokit refused')
      return JSON.parse(p.json)
    },
  }
  const iterations = Math.max(3, Math.round(20_000 / n))
  const block = async (run: () => Promise<unknown>) => {
    const start = performance.now()
    for (let i = 0; i < iterations; i++) await run()
    return ((performance.now() - start) * 1000) / iterations
  }
  for (let i = 0; i < 3; i++) for (const run of Object.values(sides)) await block(run) // warm-up
  const us = { core: [] as number[], octokit: [] as number[], ratio: [] as number[] }
  for (let pair = 0; pair < PAIRS; pair++) {
    const c = await block(sides.core)
    const o = await block(sides.octokit)
    us.core.push(c)
    us.octokit.push(o)
    us.ratio.push(c / o)
  }
  const fmt = (x: number, digits = 0) => x.toFixed(digits)
  console.log(
    `| ${n} | ${fmt(at(us.core, 0.5))} | ${fmt(at(us.octokit, 0.5))} | ${fmt(at(us.ratio, 0.5), 2)}× (${fmt(at(us.ratio, 0.25), 2)}–${fmt(at(us.ratio, 0.75), 2)}) |`,
  )
}
