// Hono's Web path in process, as Bun, Deno and Workers call it: `app.fetch(new Request(...))`
// with a one-chunk stream body, for the package, the hand-written server and the server that
// only reads the body (bench/hono-apps.ts). Each block builds its requests as it goes: built
// ahead, thousands were alive at once and block times swung between two values, which looked
// like the collector's. The blocks take turns, the order reversed every round. Prints the
// medians per request and the median of the per-round ratios hand-written ÷ package (above 1,
// the package is cheaper).
//
//   npm run bench:web-path [-- <N events, 1>] [--rounds 41] [--smoke]
import { createHonoHandler } from 'sendclean-webhooks/hono'
import { honoApp, PATH } from './hono-apps.js'
import { payload } from './payloads.js'
import { quantile } from './stats.js'

const args = process.argv.slice(2)
const smokeAt = args.indexOf('--smoke')
const smoke = smokeAt >= 0
if (smoke) args.splice(smokeAt, 1)
const roundsAt = args.indexOf('--rounds')
const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : smoke ? 3 : 41
const n = Number(args[0] ?? 1)
const p = payload(n)
const body = new Uint8Array(p.formBytes)
const request = () =>
  new Request(`https://example.com${PATH}`, {
    method: 'POST',
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body.slice())
        controller.close()
      },
    }),
    duplex: 'half',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(body.length),
      'x-sendcleantes-signature': p.signature,
    },
  } as RequestInit)

const variants = ['package', 'handwritten', 'read'] as const
const apps = new Map(variants.map((v) => [v, honoApp(v, createHonoHandler)]))
const iterations = smoke ? 20 : Math.max(20, Math.round(2000 / n))

async function block(variant: (typeof variants)[number]): Promise<number> {
  const app = apps.get(variant) as ReturnType<typeof honoApp>
  const start = performance.now()
  for (let i = 0; i < iterations; i++) {
    const response = await app.fetch(request())
    if (response.status !== 200) throw new Error(`${variant}: ${response.status}`)
  }
  return ((performance.now() - start) * 1000) / iterations
}

for (let i = 0; i < (smoke ? 1 : 10); i++) for (const v of variants) await block(v)
const times = new Map(variants.map((v) => [v, [] as number[]]))
const ratios: number[] = []
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...variants].reverse() : variants
  const spent = new Map<string, number>()
  for (const v of order) spent.set(v, await block(v))
  for (const v of variants) times.get(v)?.push(spent.get(v) as number)
  ratios.push((spent.get('handwritten') as number) / (spent.get('package') as number))
}
const median = (v: (typeof variants)[number]) => quantile(times.get(v) as number[], 0.5).toFixed(1)
console.log(
  `Hono's Web path in process, N=${n} (${body.length} B), ${rounds} rounds × ${iterations} requests: ` +
    variants.map((v) => `${v} ${median(v)} µs`).join(', '),
)
console.log(
  `handwritten ÷ package: ${quantile(ratios, 0.5).toFixed(3)} (quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)})`,
)
