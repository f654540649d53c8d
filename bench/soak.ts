// npm run soak: a bounded autocannon run through each adapter on loopback, mixing valid batches,
// bad signatures, malformed bodies and batches whose handler fails on purpose. Checks that no
// valid batch is refused, no invalid request accepted, no 5xx but the injected faults, and that
// the heap after a forced GC is within 10% of the heap before. Writes its section of bench/RESULTS.md.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import type { EventName } from 'sendclean-webhooks'
import { SAMPLE_TYPES, sampleEvent, signDelivery } from 'sendclean-webhooks/testing'
import { type FloodRow, flood, PEAK_MULTIPLE } from './flood.js'
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

const FLOOD_SECONDS = Number(process.env.SOAK_FLOOD_SECONDS ?? 10)
const rows: Row[] = []
const floods: FloodRow[] = []
for (const adapter of ADAPTERS) {
  const row = await soak(adapter)
  rows.push(row)
  console.log(
    `${adapter}: ${row.requests} requests, ${row.problems.length ? row.problems.join('; ') : 'ok'}`,
  )
  if (FLOOD_SECONDS > 0) {
    const f = await flood(adapter, FLOOD_SECONDS)
    floods.push(f)
    console.log(
      `${adapter} flood: ${f.hostile} hostile requests, ${f.problems.length ? f.problems.join('; ') : 'ok'}`,
    )
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`
const count = (row: Row, kind: string) =>
  Object.entries(row.tally[kind] ?? {})
    .map(([s, n]) => `${n}×${s}`)
    .join(' ')
const lines = [
  '## Soak (hardening)',
  '',
  `Command: \`SOAK_REQUESTS=${AMOUNT} npm run soak\` — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${ADAPTERS.length} adapters, 10 connections, loopback.`,
  'Mix per 7 requests: 3 valid 10-event batches (200), 1 bad signature (401), 1 malformed JSON (400), 1 injected handler fault (500), 1 unsupported type (415). Heap: `heapUsed` after forced GCs (four, 50 ms apart, so finalizers of Web streams run), before and after the run, after a 2,000-request warm-up.',
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
        `### Hostile flood (${FLOOD_SECONDS} s per adapter, \`SOAK_FLOOD_SECONDS\`)`,
        '',
        `Four connections send unsigned bodies of the maximum size (4 MiB: many empty fields, a duplicate field, a million-element JSON array, 2 MiB of nesting, one huge encoded value, and an over-limit \`Content-Length\`) back to back, while one client sends a signed 100-event batch and a handshake \`GET\` every 100 ms. RSS of the server process: before (after GC), peak (sampled every 100 ms), after (1 s later, after GC). CPU: the server's user+system time during the flood ÷ hostile requests (it includes the valid requests' share). Targets: peak RSS growth ≤ ${PEAK_MULTIPLE} × 4 MiB × 4 connections (the column gives the multiple), the heap after GC back within 25% of before, every valid batch 200 within 2 s, every handshake within 250 ms.`,
        '',
        '| adapter | hostile requests | their statuses | CPU ms per hostile request | RSS before → peak → after | peak growth ÷ (4 MiB × 4) | heap after GC, before → after | valid batches | slowest valid batch | slowest handshake | verdict |',
        '|---|---:|---|---:|---|---:|---|---|---:|---:|---|',
        ...floods.map(
          (f) =>
            `| ${f.adapter} | ${f.hostile} | ${Object.entries(f.statuses)
              .map(([s, n]) => `${n}×${s}`)
              .join(
                ' ',
              )} | ${f.cpuMsPerHostile.toFixed(1)} | ${mb(f.rssBefore)} → ${mb(f.rssPeak)} → ${mb(f.rssAfter)} | ${((f.rssPeak - f.rssBefore) / (16 * 2 ** 20)).toFixed(1)}× | ${mb(f.heapBefore)} → ${mb(f.heapAfter)} | ${Object.entries(
              f.validStatuses,
            )
              .map(([s, n]) => `${n}×${s}`)
              .join(
                ' ',
              )} | ${f.validMaxMs.toFixed(0)} ms | ${f.handshakeMaxMs.toFixed(0)} ms | ${f.problems.length ? f.problems.join('; ') : 'pass'} |`,
        ),
        '',
      ]),
]
writeSection('soak', lines.join('\n'))
console.log(lines.join('\n'))
process.exit(rows.some((r) => r.problems.length) || floods.some((f) => f.problems.length) ? 1 : 0)
