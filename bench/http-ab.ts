// A few servers of one framework and size, weighed against the last one by the CPU each spends
// per request, over many sessions of fresh processes (compareCpu in bench/http.ts): for one
// ratio that `npm run bench` leaves inside its spread. Prints each session's per-turn ratios
// (last variant's CPU per request ÷ each other's: above 1, that one is cheaper), then the
// median and quartiles over all turns and the median of the sessions'.
//
//   npm run bench:http-ab -- <framework> <N> [variant ...] [--sessions 12] [--turns 3] [--together]
//
// Variants as in bench/http-server.ts; `variant@<dist>` takes the package from another build.
// Default: package handwritten. Writes nothing to bench/RESULTS.md.
import { compareCpu } from './http.js'
import { quantile } from './stats.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args.splice(at, 2)[1]) : fallback
}
const sessions = option('--sessions', 12)
const turns = option('--turns', 3)
const togetherAt = args.indexOf('--together')
const together = togetherAt >= 0
if (together) args.splice(togetherAt, 1)
const [framework, size, ...rest] = args
const n = Number(size)
if (!framework || !Number.isInteger(n) || n < 1) {
  throw new Error(
    'usage: bench:http-ab -- <framework> <N> [variant ...] [--sessions S] [--turns T] [--together]',
  )
}
if (rest.length === 1) throw new Error('give two variants or more, or none (package handwritten)')
const variants = rest.length > 1 ? rest : ['package', 'handwritten']
const base = variants[variants.length - 1] as string
const others = variants.slice(0, -1)

console.log(
  `${framework} N=${n}: ${variants.join(', ')}; ${sessions} sessions × ${turns} turns, ${together ? 'loaded together' : 'in turns'}`,
)
const {
  cpuUs: cpu,
  pageFaults: faults,
  ratios,
  sessionMedians,
} = await compareCpu(framework, n, variants, { sessions, turns, together }, console.log)
for (const v of variants) {
  console.log(
    `${v}: median CPU per request ${quantile(cpu.get(v) as number[], 0.5).toFixed(1)} µs, minor page faults per request ${quantile(faults.get(v) as number[], 0.5).toFixed(1)}`,
  )
}
for (const v of others) {
  const rs = ratios.get(v) as number[]
  const ms = sessionMedians.get(v) as number[]
  console.log(
    `${base} ÷ ${v}: median of ${rs.length} turns ${quantile(rs, 0.5).toFixed(3)} (quartiles ${quantile(rs, 0.25).toFixed(3)}–${quantile(rs, 0.75).toFixed(3)}); median of ${ms.length} sessions ${quantile(ms, 0.5).toFixed(3)} (range ${quantile(ms, 0).toFixed(3)}–${quantile(ms, 1).toFixed(3)})`,
  )
}
