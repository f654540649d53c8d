// What OpenTelemetry costs the core: the same batch through four receivers, in interleaved
// rounds in one process (median round), as ratios to the receiver with telemetry turned off.
//   off         openTelemetry: false (also what runs when @opentelemetry/api is not installed)
//   off again   the same as off, a second receiver: how far apart two equal runs land (A/A)
//   no SDK      the default, with @opentelemetry/api installed and no SDK registered
//   no-op SDK   SDK providers with no span processor and no metric reader
//   in-memory   SDK providers exporting to memory (spans) and a reader (metrics)
// `npm run bench:telemetry [-- --smoke] [-- --json]`.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { createReceiver, EVENT_NAMES, type ReceiverOptions } from 'sendclean-webhooks'
import { telemetryFor } from '../src/telemetry/telemetry.js'
import { coreRequest, KEY, payload, URL_SIGNED } from './payloads.js'

const smoke = process.argv.includes('--smoke')
const SIZES = smoke ? [1] : [1, 100]
const ROUNDS = smoke ? 3 : 21

class Reader extends MetricReader {
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

const spans = new InMemorySpanExporter()
const reader = new Reader()
const noop = () => {}
const variants: Array<[string, ReceiverOptions<undefined>['openTelemetry']]> = [
  ['off', false],
  ['off again', false],
  ['no SDK', undefined],
  ['no-op SDK', { tracerProvider: new BasicTracerProvider(), meterProvider: new MeterProvider() }],
  [
    'in-memory',
    {
      tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
      meterProvider: new MeterProvider({ readers: [reader] }),
    },
  ],
]

export interface TelemetryRow {
  n: number
  variant: string
  us: number
  ratio: number
}

const rows: TelemetryRow[] = []
for (const n of SIZES) {
  const request = coreRequest(payload(n))
  const receivers = variants.map(([name, openTelemetry]) => {
    const receiver = createReceiver<undefined>({
      keys: KEY,
      url: URL_SIGNED,
      openTelemetry,
      on: Object.fromEntries(EVENT_NAMES.map((type) => [type, noop])),
    })
    return { name, receiver }
  })
  for (const { name, receiver } of receivers) {
    const res = await receiver.handle(request())
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.body}`)
  }
  // About 100 ms per variant and round on this machine, so a GC pause weighs little.
  const iterations = Math.max(5, Math.round(150_000 / (n * 20 + 10)))
  const times = new Map<string, number[]>()
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round, so no variant always runs first (or after a GC-heavy one).
    for (let k = 0; k < receivers.length; k++) {
      const { name, receiver } = receivers[(k + round) % receivers.length] as (typeof receivers)[0]
      const start = performance.now()
      for (let i = 0; i < iterations; i++) await receiver.handle(request())
      times.set(name, [
        ...(times.get(name) ?? []),
        ((performance.now() - start) * 1000) / iterations,
      ])
    }
    spans.reset()
    await reader.collect()
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  const off = median(times.get('off') ?? [])
  for (const [name] of variants) {
    const us = median(times.get(name) ?? [])
    rows.push({ n, variant: name, us, ratio: us / off })
  }
}

// The whole per-request cost of "no SDK", timed alone: the check that finds no SDK registered.
{
  const telemetry = telemetryFor(undefined)
  if (!telemetry) throw new Error('@opentelemetry/api is not installed')
  const calls = smoke ? 10_000 : 1_000_000
  const perCall: number[] = []
  for (let round = 0; round < 5; round++) {
    const start = performance.now()
    for (let i = 0; i < calls; i++)
      if (telemetry.begin('core')) throw new Error('an SDK is registered')
    perCall.push(((performance.now() - start) * 1000) / calls)
  }
  const us = [...perCall].sort((a, b) => a - b)[2] ?? 0
  const off = rows.find((r) => r.n === 1 && r.variant === 'off')?.us ?? Number.NaN
  rows.push({ n: 1, variant: 'no-SDK check alone', us, ratio: (off + us) / off })
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(rows)}\n`)
} else {
  const lines = ['| N | variant | µs per batch | ÷ off |', '|---:|---|---:|---:|']
  for (const r of rows)
    lines.push(`| ${r.n} | ${r.variant} | ${r.us.toFixed(1)} | ${r.ratio.toFixed(3)} |`)
  process.stdout.write(`${lines.join('\n')}\n`)
}
