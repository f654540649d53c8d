// What each speed mechanism is worth alone, all measured in one run, and the verdict it gets
// under rule 4 of ARCHITECTURE.md's "Rules for speed" (it stays only if it buys at least 15 %
// server CPU per request over real HTTP at 100 events on two frameworks):
//
//   npm run bench:mechanisms [-- --write] [--sessions S] [--turns T] [--smoke]
//
// Each mechanism is turned off by one small patch in bench/mechanisms/ (named `<rev>-<what>`)
// applied to the revision that has it: 21a0335 for those issue 32 weighed (the last build with
// all of them), and the current source for what it keeps. Every build of a revision, with and
// without each patch, is measured in the same run: the core in process (interleaved blocks) and
// each framework's server CPU per request (bench/http.ts compareCpu: the servers of one revision
// run side by side and take turns). A ratio is the build without the mechanism ÷ the build with
// it: what the mechanism buys. `--write` puts the table in bench/RESULTS.md.
import { buildRevision } from './builds.js'
import { interleavedCore } from './core-ab.js'
import { compareCpu } from './http.js'
import { writeSection } from './results-file.js'
import { quantile } from './stats.js'

interface Mechanism {
  /** What the mechanism is (the row's name). */
  what: string
  /** The revision that has it. */
  rev: string
  /** The patches that turn it off, under bench/mechanisms/. */
  patches: string[]
  /** Whether it follows rules 1–3 (only then can rule 4 keep it). */
  rules: string
  /** What the package does with it now. */
  now: string
  /** Not a mechanism but a ceiling (work turned off): rule 4 gives it no verdict. */
  ceiling?: true
}

const patch = (rev: string, name: string) => `bench/mechanisms/${rev}-${name}.patch`
/** The last commit that changed src/ when the patches for the current source were made. */
const CURRENT = '41df1fc'
/** A mechanism of `rev` that the patch `<rev>-<name>` turns off. */
const off = (rev: string, name: string, what: string, rules: string, now: string): Mechanism => ({
  what,
  rev,
  patches: [patch(rev, name)],
  rules,
  now,
})
const ISSUE_32 = [
  'no-hint',
  'no-pool',
  'no-generated-check',
  'no-json-pieces',
  'no-wasm',
  'no-value-or-promise',
]

const MECHANISMS: Mechanism[] = [
  off(
    '21a0335',
    'no-hint',
    'glibc trim hint (a 4 MiB allocation made and dropped to raise the trim threshold)',
    'no: tunes the host’s allocator (rule 1)',
    'removed',
  ),
  off(
    '21a0335',
    'no-pool',
    'process-wide buffer pool and slab for bodies and decoded fields',
    'no: state shared between receivers (rule 1)',
    'removed',
  ),
  off(
    '21a0335',
    'no-generated-check',
    'validation in place by predicates generated from zod’s internals',
    'no: `new Function` from `_zod.def` (rule 2)',
    'removed (zod validates, decision 0003)',
  ),
  off(
    '21a0335',
    'no-json-pieces',
    'JSON parsed in pieces under V8’s large-object size',
    'yes',
    'removed',
  ),
  off('21a0335', 'no-wasm', 'WebAssembly SIMD form decoder', 'yes', 'kept (decision 0002)'),
  off(
    '21a0335',
    'no-value-or-promise',
    'value-or-promise return types through the signature check (off: each function async)',
    'yes',
    'removed (decision 0006; handlers are still called inline)',
  ),
  {
    what: 'all six above together',
    rev: '21a0335',
    patches: ISSUE_32.map((name) => patch('21a0335', name)),
    rules: '–',
    now: '–',
  },
  off(
    CURRENT,
    'no-wasm',
    'WebAssembly SIMD form decoder, in the current source',
    'yes (chosen by export condition)',
    'kept',
  ),
  {
    ...off(
      CURRENT,
      'no-validation',
      'validation with zod, in the current source (off: events not validated at all; the most any cheaper validator could buy)',
      '–',
      'zod, through its public API',
    ),
    ceiling: true,
  },
]

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args[at + 1]) : fallback
}
const smoke = args.includes('--smoke')
const sessions = option('--sessions', smoke ? 1 : 6)
const turns = option('--turns', smoke ? 1 : 3)
const frameworks = smoke ? ['express'] : ['express', 'koa', 'hono']
const coreSizes = smoke ? [10] : [100, 1000]
const httpSize = smoke ? 10 : 100
const BAR = 1.15

const log = (line: string) => process.stderr.write(`${line}\n`)

// Builds first (each one a worktree under /tmp, reused by later runs).
const revisions = [...new Set(MECHANISMS.map((m) => m.rev))]
const baseDist = new Map(revisions.map((rev) => [rev, buildRevision(rev)]))
const dist = new Map(MECHANISMS.map((m) => [m, buildRevision(m.rev, m.patches)]))
log(`built ${baseDist.size + dist.size} revisions`)

// --- the core in process: every build loaded, interleaved blocks of requests per size.
const builds = [...baseDist.values(), ...dist.values()]
const coreUs = await interleavedCore(new Map(builds.map((path) => [path, path])), coreSizes, {
  blocks: smoke ? 3 : 60,
  warmup: smoke ? 1 : 5,
  requests: 1000,
})

// --- server CPU per request, each revision's builds side by side, per framework.
/** Without ÷ with, per turn, by `<dist> <framework>`. */
const buys = new Map<string, number[]>()
for (const rev of revisions) {
  const mechanisms = MECHANISMS.filter((m) => m.rev === rev)
  const variants = [
    ...mechanisms.map((m) => `package@${dist.get(m)}`),
    `package@${baseDist.get(rev)}`,
  ]
  for (const framework of frameworks) {
    log(`${rev} ${framework} N=${httpSize}: ${variants.length} servers`)
    const { ratios } = await compareCpu(framework, httpSize, variants, { sessions, turns }, log)
    for (const m of mechanisms) {
      // compareCpu gives with ÷ without per turn; a mechanism buys without ÷ with.
      const rs = ratios.get(`package@${dist.get(m)}`) ?? []
      buys.set(
        `${dist.get(m)} ${framework}`,
        rs.map((r) => 1 / r),
      )
    }
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–')
const rows = MECHANISMS.map((m) => {
  const core = coreSizes
    .map((n) => {
      const off = coreUs.get(`${dist.get(m)} N=${n}`) ?? NaN
      const on = coreUs.get(`${baseDist.get(m.rev)} N=${n}`) ?? NaN
      return fmt(off / on)
    })
    .join(' / ')
  const medians = frameworks.map((f) => quantile(buys.get(`${dist.get(m)} ${f}`) ?? [], 0.5))
  const http = medians.map(fmt).join(' / ')
  const passing = frameworks.filter((_, i) => (medians[i] as number) >= BAR)
  const verdict = m.ceiling
    ? '– (a ceiling, not a mechanism)'
    : passing.length >= 2
      ? `yes (${passing.join(', ')})`
      : `no${passing.length ? ` (${passing[0]} only)` : ''}`
  return `| ${m.what} | ${m.rev} | ${m.rules} | ${core} | ${http} | ${verdict} | ${m.now} |`
})

const markdown = [
  '## What each speed mechanism buys alone, same run (`npm run bench:mechanisms`)',
  '',
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}. Each mechanism is turned off by its patch in bench/mechanisms/ and measured against the same revision with it, every build in one run. Ratios are the build without it ÷ the build with it (above 1: the mechanism saves that much): the core's time per batch in process (median of interleaved blocks) at ${coreSizes.map((n) => `N = ${n}`).join(' / ')}, and server CPU per request at N = ${httpSize} (median of ${sessions} sessions × ${turns} turns, the builds of one revision side by side) on ${frameworks.join(' / ')}. Rule 4 keeps a mechanism that follows rules 1–3 only if it buys at least ${Math.round((BAR - 1) * 100)} % on two frameworks. Value-or-promise is turned off where the current source turned it off: the signature check's functions become async, while handlers stay called inline, awaiting only a promise a handler returns (as the current dispatch loop does).`,
  '',
  `| mechanism (turned off alone) | revision | follows rules 1–3 | core, off ÷ on (${coreSizes.map((n) => `N=${n}`).join(' / ')}) | server CPU, off ÷ on (${frameworks.join(' / ')}, N=${httpSize}) | ≥ ${BAR}× on two frameworks | in the package |`,
  '|---|---|---|---:|---:|---|---|',
  ...rows,
].join('\n')
process.stdout.write(`${markdown}\n`)
if (args.includes('--write')) writeSection('mechanisms', markdown)
