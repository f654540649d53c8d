// The core of several builds in one process, interleaved: each build's receiver (one handler per
// event type, doing nothing) takes a block of requests in turn, the order reversed every other
// block, so that machine drift (a noisy neighbour, the CPU's frequency) hits every build alike.
// Used by bench/revisions.ts and bench/mechanisms.ts.
import { coreRequest, KEY, payload, URL_SIGNED } from './payloads.js'
import { quantile } from './stats.js'

type Core = typeof import('sendclean-webhooks')

const noop = () => {}

/**
 * Median µs per batch of each build (label → dist/ folder) at each size, by `<label> N=<n>`.
 * A block is about `requests` ÷ N batches; the first `warmup` blocks are not counted.
 */
export async function interleavedCore(
  builds: ReadonlyMap<string, string>,
  sizes: readonly number[],
  { blocks, warmup, requests }: { blocks: number; warmup: number; requests: number },
): Promise<Map<string, number>> {
  const receivers = await Promise.all(
    [...builds].map(async ([label, dist]) => {
      const core = (await import(`${dist}/index.js`)) as Core
      const receiver = core.createReceiver<undefined>({
        keys: KEY,
        url: URL_SIGNED,
        on: Object.fromEntries(core.EVENT_NAMES.map((name) => [name, noop])),
      })
      return [label, receiver] as const
    }),
  )
  const medians = new Map<string, number>()
  for (const n of sizes) {
    const request = coreRequest(payload(n))
    for (const [label, receiver] of receivers) {
      const check = await receiver.handle(request())
      if (check.status !== 200) throw new Error(`${label} refused the payload: ${check.body}`)
    }
    const perBlock = Math.max(1, Math.round(requests / n))
    const samples = new Map<string, number[]>(receivers.map(([label]) => [label, []]))
    for (let block = 0; block < blocks; block++) {
      const order = block % 2 ? [...receivers].reverse() : receivers
      for (const [label, receiver] of order) {
        const start = performance.now()
        for (let i = 0; i < perBlock; i++) await receiver.handle(request())
        if (block >= warmup)
          samples.get(label)?.push(((performance.now() - start) * 1000) / perBlock)
      }
    }
    for (const [label, us] of samples) medians.set(`${label} N=${n}`, quantile(us, 0.5))
  }
  return medians
}
