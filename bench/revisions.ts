// Two revisions of the package in one run: `npm run bench:revisions -- <base-rev>` builds the base
// revision in a git worktree, then measures the core (in process, interleaved A/B blocks) and the
// HTTP adapters (autocannon, alternating base/head rounds) of both, and prints the ratios; with
// `--write` it also puts them in bench/RESULTS.md (`npm run bench` does, against 21a0335, the
// build before issue 32's speed rules). For refactors that must not cost speed.
import { buildRevision, git, root } from './builds.js'
import { interleavedCore } from './core-ab.js'
import { once } from './http.js'
import { writeSection } from './results-file.js'

const base = process.argv[2] ?? 'c2a5b08'
const smoke = process.argv.includes('--smoke')
const baseSha = git('rev-parse', '--short', base)
const headSha = git('rev-parse', '--short', 'HEAD')
const dirty = git('status', '--porcelain', '--untracked-files=no') !== ''

const builds = { base: buildRevision(baseSha), head: `${root}dist` }
const sizes = smoke ? [1, 10] : [1, 100, 1000]

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

// --- core, in process: both builds loaded first, then each size measured base, head
const medianUs = await interleavedCore(new Map(Object.entries(builds)), sizes, {
  blocks: smoke ? 4 : 200,
  warmup: smoke ? 1 : 10,
  requests: 2000,
})
// --- HTTP, alternating base and head
if (process.argv.includes('--core-only')) {
  for (const [name, us] of medianUs) process.stdout.write(`${name}: ${us.toFixed(1)} µs\n`)
  process.exit(0)
}
const rounds = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 6)
const seconds = smoke ? 1 : 3
const frameworks = process.env.BENCH_FRAMEWORKS?.split(',') ?? ['express', 'koa', 'hono', 'node']
const httpSizes = smoke ? [1] : [1, 100]
/** Each build's HTTP runs, by `<build> <framework> N=<n>`. */
const runs = new Map<string, Array<Awaited<ReturnType<typeof once>>>>()
for (let round = 0; round < rounds; round++) {
  for (const framework of frameworks) {
    for (const n of httpSizes) {
      const order = round % 2 ? (['head', 'base'] as const) : (['base', 'head'] as const)
      for (const label of order) {
        const r = await once(framework, 'package', n, seconds, false, builds[label])
        const key = `${label} ${framework} N=${n}`
        runs.set(key, [...(runs.get(key) ?? []), r])
        process.stderr.write(`  round ${round + 1}: ${key} ${Math.round(r.rps)} req/s\n`)
      }
    }
  }
}

const lines = [
  `## Before and after a refactor, same run (\`npm run bench:revisions -- ${base}\`)`,
  '',
  `base ${baseSha}, head ${headSha}${dirty ? ' (with uncommitted changes)' : ''}, Node ${process.version}. ` +
    'A ratio below 1 means head is faster (core) or, for req/s, above 1 means head is faster.',
  ...(baseSha.startsWith('21a0335')
    ? [
        '',
        '21a0335 is the last build with the mechanisms issue 32 removed (the glibc trim hint, the process-wide buffer pool, validation generated from zod internals, JSON parsed in pieces, value-or-promise plumbing). What each is worth alone, and the verdict it gets under the 15 % rule (the WebAssembly decoder kept, the others removed), is the "mechanisms" section (`npm run bench:mechanisms`); why, in docs/decisions/0002 to 0006.',
      ]
    : []),
  '',
  '| core, µs per batch (median) | base | head | head ÷ base |',
  '|---|---:|---:|---:|',
  ...sizes.map((n) => {
    const b = medianUs.get(`base N=${n}`) ?? NaN
    const h = medianUs.get(`head N=${n}`) ?? NaN
    return `| N=${n} | ${b.toFixed(1)} | ${h.toFixed(1)} | ${(h / b).toFixed(2)} |`
  }),
  '',
  `| HTTP req/s (median of ${rounds} alternating rounds, ${seconds} s each) | base | head | head ÷ base | server CPU µs per request, base / head | full GCs per 1000 requests, base / head |`,
  '|---|---:|---:|---:|---:|---:|',
  ...frameworks.flatMap((framework) =>
    httpSizes.map((n) => {
      type Run = Awaited<ReturnType<typeof once>>
      const of = (pick: (r: Run) => number, label: string) =>
        median((runs.get(`${label} ${framework} N=${n}`) ?? []).map(pick))
      const rps = (r: Run) => r.rps
      const cpu = (r: Run) => r.cpuUs
      const gcs = (r: Run) => (r.majorGcs * 1000) / r.requests
      const b = of(rps, 'base')
      const h = of(rps, 'head')
      const us = `${Math.round(of(cpu, 'base'))} / ${Math.round(of(cpu, 'head'))}`
      const full = `${of(gcs, 'base').toFixed(1)} / ${of(gcs, 'head').toFixed(1)}`
      return `| ${framework} N=${n} | ${Math.round(b)} | ${Math.round(h)} | ${(h / b).toFixed(2)} | ${us} | ${full} |`
    }),
  ),
]
const markdown = lines.join('\n')
process.stdout.write(`${markdown}\n`)
if (process.argv.includes('--write')) writeSection('revisions', markdown)
