// Per-step costs of the core against their own floors, and @octokit/webhooks's two steps, in one
// process, for batches of N events. Every input is built before timing starts; the steps are
// timed in interleaved rounds (each round runs every step once, in turn) and the median round
// is reported. `npm run bench:steps [-- --smoke] [--sizes 1,100]` prints a Markdown table for
// the sizes given (100 and 1000 by default); `--json` prints the rows for `npm run bench`, which
// checks the issue-14 targets and their limits on them.
//
// The source is imported (not the build) so that each step is the core's own function.
import { createHmac } from 'node:crypto'
import { parse as parseQuery } from 'node:querystring'
import { DEFAULT_EVENTS_FIELD, DEFAULT_MAX_FIELDS } from '../src/constants.js'
import { EVENT_NAMES, parseBatch } from '../src/events/schemas.js'
import { createReceiver } from '../src/index.js'
import { createFormLoop, hmacSha1Base64 } from '../src/platform/node.js'
import { decodeForm } from '../src/request/form.js'
import { formSignedParts } from '../src/verify/signature.js'
import { KEY, payload, URL_SIGNED } from './payloads.js'
import { classic, floor, floorZod, octokitPeer } from './peers.js'

const smoke = process.argv.includes('--smoke')
const sizesAt = process.argv.indexOf('--sizes')
const given = sizesAt > 0 ? (process.argv[sizesAt + 1] ?? '').split(',').map(Number) : undefined
const SIZES = given ?? (smoke ? [10] : [100, 1000])
const ROUNDS = smoke ? 3 : 15

const utf8 = new TextDecoder()
const formLoop = createFormLoop()
const noop = () => {}
const receiver = createReceiver<undefined>({
  keys: KEY,
  url: URL_SIGNED,
  on: Object.fromEntries(EVENT_NAMES.map((name) => [name, noop])),
})

/** Keeps a result observable so no step is optimised away. */
let sink = 0
const keep = (value: unknown) => {
  sink = (sink + (value === undefined ? 0 : 1)) | 0
}

interface Step {
  name: string
  run: () => unknown
}

async function measure(n: number) {
  const p = payload(n)
  const bytes = new Uint8Array(p.formBytes)
  const eq = bytes.indexOf(0x3d) + 1
  const fields = decodeForm(bytes, DEFAULT_MAX_FIELDS) ?? []
  const value = fields[0]?.value as Uint8Array
  const text = utf8.decode(value)
  const raw = JSON.parse(text) as unknown[]
  const valueText = p.form.slice(p.form.indexOf('=') + 1)
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    'x-sendcleantes-signature': p.signature,
  })
  const copyLoop = (src: Uint8Array, from: number) => {
    const out = new Uint8Array(src.length - from)
    for (let i = from; i < src.length; i++) out[i - from] = src[i] as number
    return out
  }

  const steps: Step[] = [
    { name: 'core: whole handle()', run: () => receiver.handle(request()) },
    {
      name: "1 form decode (decodeForm, with the Node platform file's WebAssembly loop)",
      run: () => decodeForm(bytes, DEFAULT_MAX_FIELDS, formLoop),
    },
    {
      name: '1j the same, JavaScript loop only (as on Workers)',
      run: () => decodeForm(bytes, DEFAULT_MAX_FIELDS),
    },
    { name: '1f a JS loop copying the same bytes', run: () => copyLoop(bytes, eq) },
    { name: '1n floor: one native pass (TextDecoder)', run: () => utf8.decode(bytes) },
    { name: '1q peer: querystring.parse', run: () => parseQuery(p.form) },
    {
      name: '1d native: decodeURIComponent (after + → space)',
      run: () => decodeURIComponent(valueText.replaceAll('+', ' ')),
    },
    {
      name: '1u native: unescape (after + → space)',
      run: () => unescape(valueText.replaceAll('+', ' ')),
    },
    { name: '2 UTF-8 decode of the value', run: () => utf8.decode(value) },
    {
      name: '3 HMAC-SHA1 of URL + field + value',
      run: () => hmacSha1Base64(KEY, formSignedParts(URL_SIGNED, fields)),
    },
    { name: '4 JSON.parse of the events', run: () => JSON.parse(text) },
    {
      name: '2+4 UTF-8 decode and JSON.parse as the core does',
      run: () => JSON.parse(utf8.decode(value)),
    },
    {
      name: '5 validation (parseBatch: zod, one schema per event)',
      run: () => parseBatch(raw, false),
    },
    { name: '5z peer: classic zod discriminated union', run: () => classic.safeParse(raw) },
    { name: 'floor + zod: the same, then the textbook zod union (whole)', run: floorZod(p) },
    {
      name: 'floor: querystring + HMAC + JSON.parse (whole)',
      run: floor(p),
    },
    {
      name: 'octokit: HMAC-SHA256 of the JSON body',
      run: () => createHmac('sha256', KEY).update(p.json).digest('hex'),
    },
    { name: 'octokit: JSON.parse of the JSON body', run: () => JSON.parse(p.json) },
    { name: 'octokit: verify + JSON.parse (whole)', run: await octokitPeer(p) },
  ]
  function request() {
    return { method: 'POST', url: URL_SIGNED, headers, body: bytes, context: undefined }
  }
  if (DEFAULT_EVENTS_FIELD !== fields[0]?.name) throw new Error('unexpected form')
  const check = await receiver.handle(request())
  if (check.status !== 200) throw new Error(check.body)

  // Enough iterations per step and round for ~5 ms at N=100.
  const iterations = Math.max(3, Math.round(20_000 / n))
  const times = new Map<string, number[]>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const step of steps) {
      const start = performance.now()
      for (let i = 0; i < iterations; i++) {
        const result = step.run()
        keep(result instanceof Promise ? await result : result)
      }
      const perOp = ((performance.now() - start) * 1000) / iterations
      times.set(step.name, [...(times.get(step.name) ?? []), perOp])
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  return {
    n,
    bodyBytes: bytes.length,
    rows: steps.map((s) => ({ name: s.name, us: median(times.get(s.name) ?? []) })),
  }
}

export type StepResult = Awaited<ReturnType<typeof measure>>

const results: StepResult[] = []
for (const n of SIZES) results.push(await measure(n))
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(results)}\n`)
  process.exit(0)
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))
const lines = [
  `| step | ${results.map((r) => `N=${r.n} (${fmt(r.bodyBytes / 1024)} KB) µs`).join(' | ')} | ${results.map((r) => `N=${r.n} ÷ octokit`).join(' | ')} |`,
  `|---|${results.map(() => '---:').join('|')}|${results.map(() => '---:').join('|')}|`,
]
for (const [i, row] of (results[0]?.rows ?? []).entries()) {
  const cells = results.map((r) => fmt(r.rows[i]?.us ?? 0))
  const ratios = results.map((r) => {
    const octo = r.rows.find((x) => x.name.startsWith('octokit: verify'))?.us ?? 1
    return ((r.rows[i]?.us ?? 0) / octo).toFixed(2)
  })
  lines.push(`| ${row.name} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`)
}
process.stdout.write(`${lines.join('\n')}\n`)
if (sink === -1) process.stdout.write('\n') // read the sink
