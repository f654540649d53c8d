// npm run soak: a bounded autocannon run through each adapter on loopback, mixing valid batches,
// bad signatures, malformed bodies and batches whose handler fails on purpose, then the hostile
// phases of bench/flood.ts (one shape of unsigned body at a time, and Content-Length liars).
// Checks that no valid batch is refused or slow, no invalid request accepted, no 5xx but the
// injected faults, every hostile shape costs about what plain bytes cost, no answer echoes a
// body, and memory comes back. Writes its section of bench/RESULTS.md; exits 1 on a problem.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import type { EventName } from 'sendclean-webhooks'
import { SAMPLE_TYPES, sampleEvent, signDelivery } from 'sendclean-webhooks/testing'
import { type FloodResult, flood, SHAPES, TARGETS } from './flood.js'
import { writeSection } from './results-file.js'
import { SOAK_KEY, SOAK_PATH } from './soak-server.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const AMOUNT = Number(process.env.SOAK_REQUESTS ?? 50_000)
const ADAPTERS = (process.env.SOAK_ADAPTERS ?? 'express,koa,hono,node,fetch').split(',')
const URL_SIGNED = `http://soak.test${SOAK_PATH}`

const batch = Array.from({ length: 10 }, (_, i) =>
  sampleEvent(SAMPLE_TYPES[i % SAMPLE_TYPES.length] as EventName),
)
const valid = await signDelivery({ key: SOAK_KEY, url: URL_SIGNED, events: batch })
const forged = await signDelivery({ key: 'not-the-key', url: URL_SIGNED, events: batch })
const malformed = await signDelivery({
  key: SOAK_KEY,
  url: URL_SIGNED,
  events: '[{"event":"send",',
})
const fault = await signDelivery({
  key: SOAK_KEY,
  url: URL_SIGNED,
  events: [{ ...sampleEvent('send'), _id: 'inject-fault' }],
})

const mix = [
  { kind: 'valid', expect: 200, ...valid },
  { kind: 'valid', expect: 200, ...valid },
  { kind: 'bad-signature', expect: 401, ...forged },
  { kind: 'valid', expect: 200, ...valid },
  { kind: 'malformed', expect: 400, ...malformed },
  { kind: 'fault', expect: 500, ...fault },
  { kind: 'unsupported', expect: 415, body: 'hello', headers: { 'content-type': 'text/plain' } },
]
const expected = Object.fromEntries(mix.map((m) => [m.kind, m.expect]))

interface Row {
  adapter: string
  requests: number
  p99: number
  errors: number
  tally: Record<string, Record<number, number>>
  heapBefore: number
  heapAfter: number
  problems: string[]
}

async function soak(adapter: string): Promise<Row> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/soak-server.ts', adapter],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const { port, statsPort } = await new Promise<{ port: number; statsPort: number }>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))),
  )
  const stats = async () =>
    (await (await fetch(`http://127.0.0.1:${statsPort}`)).json()) as {
      tally: Row['tally']
      heapUsed: number
    }
  const run = (amount: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: 10,
      amount,
      timeout: 10,
      requests: mix.map((m) => ({
        method: 'POST' as const,
        path: SOAK_PATH,
        body: m.body,
        headers: { ...m.headers, 'x-kind': m.kind },
      })),
    })
  await run(2_000) // warm up: JIT, pools, lazily built structures
  const before = await stats()
  const result = await run(AMOUNT)
  const after = await stats()
  child.kill('SIGTERM')

  // Counts from this run only: subtract the warm-up's.
  const tally: Row['tally'] = {}
  for (const [kind, statuses] of Object.entries(after.tally)) {
    for (const [status, n] of Object.entries(statuses)) {
      const delta = n - (before.tally[kind]?.[Number(status)] ?? 0)
      if (delta <= 0) continue
      tally[kind] ??= {}
      ;(tally[kind] as Record<number, number>)[Number(status)] = delta
    }
  }
  const problems: string[] = []
  for (const [kind, statuses] of Object.entries(tally)) {
    for (const [status, n] of Object.entries(statuses)) {
      if (Number(status) !== expected[kind]) problems.push(`${n} ${kind} answered ${status}`)
    }
  }
  if (result.errors || result.timeouts)
    problems.push(`${result.errors} errors, ${result.timeouts} timeouts`)
  const growth = (after.heapUsed - before.heapUsed) / before.heapUsed
  if (growth > 0.1) problems.push(`heap grew ${(growth * 100).toFixed(1)}%`)
  return {
    adapter,
    requests: result.requests.total,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    tally,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    problems,
  }
}

const SHAPE_SECONDS = Number(process.env.SOAK_SHAPE_SECONDS ?? 2)
const rows: Row[] = []
const floods: FloodResult[] = []
for (const adapter of ADAPTERS) {
  const row = await soak(adapter)
  rows.push(row)
  console.log(
    `${adapter}: ${row.requests} requests, ${row.problems.length ? row.problems.join('; ') : 'ok'}`,
  )
  if (SHAPE_SECONDS > 0) {
    const f = await flood(adapter, SHAPE_SECONDS)
    floods.push(f)
    console.log(`${adapter} hostile phases: ${floodProblems(f).join('; ') || 'ok'}`)
  }
}

function floodProblems(f: FloodResult): string[] {
  return [
    ...f.problems,
    ...[...f.shapes, ...f.liars].flatMap((p) => p.problems.map((text) => `${p.phase}: ${text}`)),
  ]
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`
const statuses = (tally: Record<number, number>) =>
  Object.entries(tally)
    .map(([s, n]) => `${n}×${s}`)
    .join(' ')
const count = (row: Row, kind: string) => statuses(row.tally[kind] ?? {})
const max = (xs: number[]) => Math.max(0, ...xs)
const lines = [
  '## Soak (hardening)',
  '',
  `Command: \`SOAK_REQUESTS=${AMOUNT} SOAK_SHAPE_SECONDS=${SHAPE_SECONDS} npm run soak\` — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${ADAPTERS.length} adapters, loopback.`,
  '',
  '### Mixed traffic',
  '',
  'Ten connections; per 7 requests: 3 valid 10-event batches (200), 1 bad signature (401), 1 malformed JSON (400), 1 injected handler fault (500), 1 unsupported type (415). Heap: `heapUsed` after forced GCs (four, 50 ms apart, so finalizers of Web streams run), before and after the run, after a 2,000-request warm-up.',
  '',
  '| adapter | requests | p99 ms | valid | bad signature | malformed | fault | unsupported | heap before → after | verdict |',
  '|---|---:|---:|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.adapter} | ${r.requests} | ${r.p99} | ${count(r, 'valid')} | ${count(r, 'bad-signature')} | ${count(r, 'malformed')} | ${count(r, 'fault')} | ${count(r, 'unsupported')} | ${mb(r.heapBefore)} → ${mb(r.heapAfter)} (${(((r.heapAfter - r.heapBefore) / r.heapBefore) * 100).toFixed(1)}%) | ${r.problems.length ? r.problems.join('; ') : 'pass'} |`,
  ),
  '',
  ...(floods.length === 0
    ? []
    : [
        `### Hostile bodies, one shape at a time (${SHAPE_SECONDS} s per shape and adapter)`,
        '',
        `Four connections send one shape of unsigned body back to back (4 MiB less 1 KiB, except the header shapes and the over-limit \`Content-Length\`, which sends only its head), while one client sends a signed 100-event batch and a handshake \`GET\` every 100 ms. CPU: the server's user+system time during the phase ÷ hostile requests (it includes the valid requests' share), in ms, with the ratio to plain bytes on the same adapter. Targets: every shape ≤ ${TARGETS.shapeRatio}× plain bytes, every answer ≤ ${TARGETS.answerBytes} bytes, peak RSS growth ≤ ${TARGETS.peakMultiple} × 4 MiB × 4 connections, every valid batch 200 within ${TARGETS.validMs} ms, every handshake within ${TARGETS.handshakeMs} ms.`,
        '',
        `| shape | answered | largest answer (bytes) | ${floods.map((f) => f.adapter).join(' | ')} |`,
        `|---|---|---:|${floods.map(() => '---:').join('|')}|`,
        ...SHAPES.map((shape, i) => {
          const phases = floods.map((f) => f.shapes[i] as FloodResult['shapes'][number])
          const answered = [...new Set(phases.flatMap((p) => Object.keys(p.statuses)))].join(', ')
          return `| ${shape.name} | ${answered} | ${max(phases.map((p) => p.largestAnswer))} | ${phases
            .map((p, j) => {
              const plain = (floods[j] as FloodResult).shapes[0] as FloodResult['shapes'][number]
              return `${p.cpuMsPerRequest.toFixed(1)} (${(p.cpuMsPerRequest / plain.cpuMsPerRequest).toFixed(1)}×)`
            })
            .join(' | ')} |`
        }),
        '',
        `### Content-Length liars (${floods[0]?.liars[0]?.requests ?? 0} connections)`,
        '',
        'Each connection sends the head of a form POST promising a body, then 20 bytes of it, and waits (2 s at least) while the valid client keeps sending. What each promise cost the server: CPU per connection, peak RSS growth per connection (its socket and HTTP parser included), peak growth of the address space (`VmSize`). Target: no answer before the body, at most ' +
          `${TARGETS.liarKiB} KiB of RSS and ${TARGETS.liarAddressKiB} KiB of address space per connection, valid batches as above.`,
        '',
        '| adapter | promise | CPU ms per connection | RSS growth per connection | address space growth | slowest valid batch | verdict |',
        '|---|---|---:|---:|---:|---:|---|',
        ...floods.flatMap((f) =>
          f.liars.map(
            (p) =>
              `| ${f.adapter} | ${p.phase.replace(/^\d+ connections promising (.*), sending 20 bytes$/, '$1')} | ${p.cpuMsPerRequest.toFixed(2)} | ${((p.rssPeak - p.rssBefore) / 1024 / p.requests).toFixed(0)} KiB | ${p.vmGrowth === null ? 'n/a' : mb(p.vmGrowth)} | ${p.validMaxMs.toFixed(0)} ms | ${p.problems.length ? p.problems.join('; ') : 'pass'} |`,
          ),
        ),
        '',
        '### Each adapter across the hostile phases',
        '',
        '| adapter | peak RSS growth ÷ (4 MiB × 4) | heap after GC, first → last | RSS after | slowest valid batch | slowest handshake | verdict |',
        '|---|---:|---|---:|---:|---:|---|',
        ...floods.map((f) => {
          const all = [...f.shapes, ...f.liars]
          return `| ${f.adapter} | ${max(f.shapes.map((p) => (p.rssPeak - p.rssBefore) / (16 * 2 ** 20))).toFixed(1)}× | ${mb(f.heapBefore)} → ${mb(f.heapAfter)} | ${mb(f.rssAfter)} | ${max(all.map((p) => p.validMaxMs)).toFixed(0)} ms | ${max(all.map((p) => p.handshakeMaxMs)).toFixed(0)} ms | ${floodProblems(f).join('; ') || 'pass'} |`
        }),
        '',
      ]),
]
writeSection('soak', lines.join('\n'))
console.log(lines.join('\n'))
process.exit(
  rows.some((r) => r.problems.length) || floods.some((f) => floodProblems(f).length) ? 1 : 0,
)
