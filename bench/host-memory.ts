// Does the package change its host's memory? `npm run bench:host-memory [-- --base <rev>]`
// runs a host application (bench/host-memory-child.ts) that allocates and frees 300 buffers of
// 0.2–3.5 MiB, in fresh processes: without the package, and with this build loaded and serving
// 2,000 requests of 100 events first (and with a build of revision <rev> too, when given). It prints
// the resident memory each keeps after the burst; the target is that the package's host keeps
// no more than 1.1× what the bare host keeps (a library must not tune its host's allocator).
// `--write` puts the table in bench/RESULTS.md (`npm run bench` does, with 21a0335 as the base).
import { execFileSync } from 'node:child_process'
import { buildRevision, root } from './builds.js'
import { writeSection } from './results-file.js'

const smoke = process.argv.includes('--smoke')
const baseAt = process.argv.indexOf('--base')
const baseRev = baseAt > 0 ? process.argv[baseAt + 1] : undefined
const requests = smoke ? 200 : 2000
const runs = smoke ? 1 : 5

function host(dist: string): number {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/host-memory-child.ts', dist, String(requests)],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TSX_TSCONFIG_PATH: 'bench/tsconfig.json' },
    },
  )
  return (JSON.parse(out.trim().split('\n').pop() as string) as { rss: number }).rss
}

const hosts: Array<[string, string]> = [
  ['bare host (no package)', ''],
  ['host serving requests with this build', `${root}dist`],
]
if (baseRev) hosts.push([`host serving requests with ${baseRev}`, buildRevision(baseRev)])

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const results = new Map<string, number[]>()
// Interleaved: each run starts every host once, in turn.
for (let run = 0; run < runs; run++) {
  for (const [name, dist] of hosts) results.set(name, [...(results.get(name) ?? []), host(dist)])
}
const bare = median(results.get(hosts[0]?.[0] as string) ?? [])
const lines = [
  `| host, after a burst of 300 buffers of 0.2–3.5 MiB (${runs} runs, fresh processes) | RSS, MiB (median) | ÷ bare host |`,
  '|---|---:|---:|',
  ...hosts.map(([name]) => {
    const rss = median(results.get(name) ?? [])
    return `| ${name} | ${mib(rss)} | ${(rss / bare).toFixed(2)} |`
  }),
]
process.stdout.write(`${lines.join('\n')}\n`)
if (process.argv.includes('--write')) {
  const base = baseRev ? ` --base ${baseRev}` : ''
  writeSection(
    'host-memory',
    [
      `## Host memory (\`npm run bench:host-memory --${base} --write\`)`,
      '',
      `${new Date().toISOString().slice(0, 10)}, Node ${process.version}. A host application (bench/host-memory-child.ts, run with tsx, whose loader is part of the bare host's figure) allocates and frees 300 buffers of 0.2–3.5 MiB (written, dropped, collected), alone, and after the package has served ${requests} requests of 100 events in it; its resident memory after the burst. Target: the package's host keeps at most 1.1× what the bare host keeps.`,
      '',
      ...lines,
    ].join('\n'),
  )
}
const ours = median(results.get(hosts[1]?.[0] as string) ?? [])
if (!smoke && ours > bare * 1.1) {
  process.stderr.write(
    `target missed: the host with the package keeps ${(ours / bare).toFixed(2)}× the bare host's RSS\n`,
  )
  process.exitCode = 1
}
