// npm run bench: every measurement, in order, into a fresh bench/RESULTS.md. Each suite runs in
// its own process (so one suite's heap and JIT state cannot colour the next) and writes its own
// section; a suite that fails is reported and the others still run. Exit 1 if any failed.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { resetResults } from './results-file.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsx = ['--import', 'tsx']
/** The last build with the mechanisms issue 32's speed rules removed (allocator hint, buffer pool, generated validation, JSON in pieces). */
const BEFORE_RULES = '21a0335'
const suites: Array<{ name: string; command: string; args: string[] }> = [
  { name: 'core, HTTP and memory', command: process.execPath, args: [...tsx, 'bench/run.ts'] },
  // Against 21a0335, the build before issue 32's speed rules: the core and the HTTP adapters of
  // both in one run; then the host's memory with each.
  {
    name: 'before and after issue 32',
    command: process.execPath,
    args: [...tsx, 'bench/revisions.ts', BEFORE_RULES, '--write'],
  },
  {
    name: 'host memory',
    command: process.execPath,
    args: [...tsx, 'bench/host-memory.ts', '--base', BEFORE_RULES, '--write'],
  },
  // Each speed mechanism turned off alone, against the revision that has it.
  {
    name: 'mechanisms',
    command: process.execPath,
    args: [...tsx, 'bench/mechanisms.ts', '--write'],
  },
  { name: 'soak', command: process.execPath, args: [...tsx, 'bench/soak.ts'] },
  {
    name: 'idempotency',
    command: process.execPath,
    args: ['--expose-gc', ...tsx, 'bench/idempotency.ts'],
  },
  { name: 'queue', command: process.execPath, args: [...tsx, 'bench/queue.ts'] },
  {
    name: 'form shapes',
    command: process.execPath,
    args: [...tsx, 'bench/form-shapes.ts', '--write'],
  },
  { name: 'runtimes', command: 'bash', args: ['scripts/install-runtimes.sh'] },
  { name: 'runtimes', command: process.execPath, args: [...tsx, 'bench/runtimes.ts'] },
]

resetResults()
const failed: string[] = []
for (const suite of suites) {
  console.log(`\n== ${suite.name}`)
  const { status } = spawnSync(suite.command, suite.args, { cwd: root, stdio: 'inherit' })
  if (status !== 0) failed.push(suite.name)
}
if (failed.length) {
  console.error(
    `\nnpm run bench: ${failed.join(', ')} failed; their sections are missing or flagged`,
  )
  process.exit(1)
}
