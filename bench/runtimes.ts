// npm run bench:runtimes: the core's in-process time per batch on Node 20 (this process's node),
// Node 22 and 24, Bun, Deno and workerd, in rounds that take the runtimes in a new order each
// time; ratios to Node 20 from this one run go to bench/RESULTS.md. Needs the runtimes of
// runtimes/package.json (scripts/install-runtimes.sh) and a build.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { bundleForWorkerd, startWorkerd } from '../scripts/workerd.js'
import { KEY, payload, URL_SIGNED } from './payloads.js'
import { writeSection } from './results-file.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (path: string) => `${root}runtimes/node_modules/${path}`
const run = promisify(execFile)
const smoke = process.argv.includes('--smoke')
const sizes = smoke ? [1, 10] : [1, 100, 1000]
const rounds = smoke ? 1 : 3

const file = join(mkdtempSync(join(tmpdir(), 'sc-runtimes-')), 'payloads.json')
writeFileSync(
  file,
  JSON.stringify({
    key: KEY,
    url: URL_SIGNED,
    sizes: sizes.map((n) => {
      const { form, signature } = payload(n)
      return { n, form, signature }
    }),
  }),
)

type Result = Record<string, number>
const script = 'bench/runtime-core-cli.mjs'
const commands: Record<string, string[]> = {
  'Node 20': [process.execPath, script, file],
  'Node 22': [bin('node22/bin/node'), script, file],
  'Node 24': [bin('node24/bin/node'), script, file],
  Bun: [bin('@oven/bun-linux-x64/bin/bun'), script, file],
  Deno: [bin('@deno/linux-x64-glibc/deno'), 'run', '-A', script, file],
}

async function inProcess(command: string[]): Promise<Result> {
  const [exe, ...args] = command as [string, ...string[]]
  const { stdout } = await run(exe, args, { cwd: root, maxBuffer: 1 << 24 })
  return JSON.parse(stdout.trim().split('\n').pop() as string)
}

/** workerd: the same measure(), bundled with the package into a worker, run by miniflare. */
async function workerd(): Promise<Result> {
  const entry = join(root, 'bench', '.runtime-worker.mjs')
  writeFileSync(
    entry,
    `import * as core from '../dist/index.js'
import { measure } from './runtime-core.mjs'
export default { async fetch(request) { return Response.json(await measure(core, await request.json())) } }
`,
  )
  const mf = await startWorkerd(await bundleForWorkerd(entry))
  try {
    const res = await mf.dispatchFetch('http://bench/', {
      method: 'POST',
      body: readFileSync(file, 'utf8'),
    })
    if (!res.ok) throw new Error(`workerd: ${res.status} ${await res.text()}`)
    return (await res.json()) as Result
  } finally {
    await mf.dispose()
    rmSync(entry, { force: true })
  }
}

const names = [...Object.keys(commands), 'workerd']
const results = new Map<string, Result[]>()
for (let round = 0; round < rounds; round++) {
  // A new order each round, so that drift on a shared machine does not favour one runtime.
  const order = names.map((_, i) => names[(i + round) % names.length] as string)
  for (const name of order) {
    const result =
      name === 'workerd' ? await workerd() : await inProcess(commands[name] as string[])
    results.set(name, [...(results.get(name) ?? []), result])
    process.stderr.write(`  round ${round + 1}: ${name} ${JSON.stringify(result)}\n`)
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const at = (name: string, n: number) => median((results.get(name) ?? []).map((r) => r[n] ?? NaN))
const lines = [
  '## The core on each runtime (`npm run bench:runtimes`)',
  '',
  `µs per batch, median of ${rounds} rounds (each the median of 40 blocks), in one run; the ratio is to Node 20 (below 1: faster). Seed-shaped form bodies, node:crypto where the runtime has it (workerd: Web Crypto).`,
  '',
  `| runtime | ${sizes.map((n) => `N=${n} µs | ÷ Node 20`).join(' | ')} |`,
  `|---|${sizes.map(() => '---:|---:').join('|')}|`,
  ...names.map(
    (name) =>
      `| ${name} | ${sizes
        .map((n) => `${at(name, n).toFixed(1)} | ${(at(name, n) / at('Node 20', n)).toFixed(2)}`)
        .join(' | ')} |`,
  ),
]
const markdown = lines.join('\n')
process.stdout.write(`${markdown}\n`)
if (!smoke) writeSection('runtimes', markdown)
