// The hostile phases of `npm run soak`, one adapter per server process:
// - two "Content-Length liar" phases first, on a fresh process: 1,000 connections that each
//   promise a body (4 MiB, then 64 KiB), send 20 bytes of it and wait, measuring what the
//   promise cost in CPU, RSS and address space;
// - one phase per shape of unsigned body (4 connections sending only that shape, back to back),
//   measuring the server's CPU per hostile request, the largest answer it wrote, and its RSS.
// In every phase one client sends a signed 100-event batch and a handshake GET every 100 ms:
// the slowest of them is the phase's "slowest valid batch".
import { spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { DEFAULT_MAX_BODY_BYTES, type EventName } from 'sendclean-webhooks'
import { SAMPLE_TYPES, sampleEvent, signDelivery } from 'sendclean-webhooks/testing'
import { SOAK_KEY, SOAK_PATH } from './soak-server.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const MAX = DEFAULT_MAX_BODY_BYTES
const CONNECTIONS = 4
const LIARS = Number(process.env.SOAK_LIARS ?? 1000)
const FORM = 'application/x-www-form-urlencoded'
const FIELD = 'SendCleantes_events'

/** Limits the phases are checked against (the issue's targets, with room for a noisy machine). */
export const TARGETS = {
  /** A shape's CPU per request ÷ the same size of plain bytes, same adapter, same run. */
  shapeRatio: 3,
  /** The largest answer to a hostile request, in bytes. */
  answerBytes: 2048,
  /**
   * Peak RSS growth during a shape phase ÷ (4 MiB × 4 connections): each request in flight may
   * hold its body, the decoded copy and the decoded names, and the GC frees them a little late.
   */
  peakMultiple: 10,
  /** RSS growth per liar connection, in KiB (its socket, parser and first chunk included). */
  liarKiB: 48,
  /** Address space growth per liar connection, in KiB (a promise must not reserve its size). */
  liarAddressKiB: 256,
  validMs: 2000,
  handshakeMs: 250,
}

function fill(unit: string, bytes: number, head = '', tail = ''): string {
  const room = bytes - head.length - tail.length
  return head + unit.repeat(Math.floor(room / unit.length)) + tail
}

// Built once, before anything is measured; each just under the limit (the last one just over).
const size = MAX - 1024
export const SHAPES: Array<{ name: string; type: string; body: string; length?: number }> = [
  { name: 'plain bytes (the reference)', type: FORM, body: fill('x', size, `${FIELD}=`) },
  { name: 'malformed % escapes', type: FORM, body: fill('%', size, `${FIELD}=`) },
  { name: 'malformed %% pairs', type: FORM, body: fill('%%', size, `${FIELD}=`) },
  { name: 'valid % escapes', type: FORM, body: fill('%41', size, `${FIELD}=`) },
  { name: 'many empty fields', type: FORM, body: fill('a=&', size) },
  { name: 'a duplicate field', type: FORM, body: fill('a', size, 'x=', '&x=1') },
  {
    name: '32 field names ending in _events',
    type: FORM,
    body: Array.from({ length: 32 }, (_, i) =>
      fill('n', Math.floor(size / 32) - 10, `${i}`, `_events=`),
    ).join('&'),
  },
  {
    name: 'a 2 MiB field name, twice',
    type: FORM,
    body: `${fill('n', size / 2 - 2, '', '=1')}&${fill('n', size / 2 - 2, '', '=1')}`,
  },
  { name: 'one encoded value', type: FORM, body: fill('%7B%7D%2C', size, `${FIELD}=%5B`, '%5D') },
  {
    name: 'JSON: a million empty objects',
    type: 'application/json',
    body: fill('{},', size, '[', '{}]'),
  },
  {
    name: 'JSON: deep nesting',
    type: 'application/json',
    body: `${'['.repeat(size / 2)}${']'.repeat(size / 2)}`,
  },
  { name: 'a charset of 2 KiB', type: `${FORM}; charset=${'y'.repeat(2048)}`, body: 'a=1' },
  { name: 'a content type of 2 KiB', type: `text/${'y'.repeat(2048)}`, body: 'a=1' },
  { name: 'over the limit (Content-Length)', type: FORM, body: 'a=1', length: MAX + 1 },
]

interface Sample {
  rss: number
  vmSize: number | null
  heapUsed: number
  cpu: { user: number; system: number }
}

export interface PhaseRow {
  phase: string
  requests: number
  statuses: Record<number, number>
  cpuMsPerRequest: number
  largestAnswer: number
  rssBefore: number
  rssPeak: number
  vmGrowth: number | null
  validMaxMs: number
  validStatuses: Record<number, number>
  handshakeMaxMs: number
  problems: string[]
}

export interface FloodResult {
  adapter: string
  seconds: number
  shapes: PhaseRow[]
  liars: PhaseRow[]
  heapBefore: number
  heapAfter: number
  rssAfter: number
  problems: string[]
}

function send(
  agent: Agent | false,
  port: number,
  method: string,
  headers: Record<string, string | number>,
  body?: string,
): Promise<{ status: number; ms: number; bytes: number }> {
  const started = performance.now()
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: SOAK_PATH, method, headers, agent },
      (res) => {
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }),
        )
      },
    )
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, bytes: 0 }))
    if (body === undefined) req.end()
    else {
      req.write(body)
      req.end()
    }
  })
}

const tallyInto = (into: Record<number, number>, status: number) => {
  into[status] = (into[status] ?? 0) + 1
}

export async function flood(adapter: string, seconds: number): Promise<FloodResult> {
  const valid = await signDelivery({
    key: SOAK_KEY,
    url: `http://soak.test${SOAK_PATH}`,
    events: Array.from({ length: 100 }, (_, i) =>
      sampleEvent(SAMPLE_TYPES[i % SAMPLE_TYPES.length] as EventName),
    ),
  })
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/soak-server.ts', adapter],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const { port, statsPort } = await new Promise<{ port: number; statsPort: number }>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))),
  )
  const get = async (path: string) =>
    (await (await fetch(`http://127.0.0.1:${statsPort}${path}`)).json()) as Sample
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS + 4 })
  // Warm up the valid path, then the baseline.
  for (let i = 0; i < 20; i++) await send(agent, port, 'POST', valid.headers, valid.body)
  const hostile = (shape: (typeof SHAPES)[number]) => {
    const headers = {
      'content-type': shape.type,
      'content-length': shape.length ?? Buffer.byteLength(shape.body),
    }
    // An over-limit Content-Length is answered before the body: send only its head, on a
    // connection of its own (it cannot be reused).
    return shape.length
      ? send(false, port, 'POST', { ...headers, connection: 'close' }, '')
      : send(agent, port, 'POST', headers, shape.body)
  }
  const first = await get('/')

  /** Run `work` until `until`, with the witness and the RSS sampler beside it. */
  const phase = async (
    name: string,
    work: (until: number, row: PhaseRow) => Promise<void>,
    ms: number,
  ): Promise<PhaseRow> => {
    const before = await get('/')
    const row: PhaseRow = {
      phase: name,
      requests: 0,
      statuses: {},
      cpuMsPerRequest: 0,
      largestAnswer: 0,
      rssBefore: before.rss,
      rssPeak: before.rss,
      vmGrowth: null,
      validMaxMs: 0,
      validStatuses: {},
      handshakeMaxMs: 0,
      problems: [],
    }
    let vmPeak = before.vmSize ?? 0
    const until = Date.now() + ms
    const witness = async () => {
      while (Date.now() < until) {
        const v = await send(agent, port, 'POST', valid.headers, valid.body)
        tallyInto(row.validStatuses, v.status)
        row.validMaxMs = Math.max(row.validMaxMs, v.ms)
        const h = await send(agent, port, 'GET', {})
        row.handshakeMaxMs = Math.max(row.handshakeMaxMs, h.ms)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    const sampler = async () => {
      while (Date.now() < until) {
        const s = await get('/peek')
        row.rssPeak = Math.max(row.rssPeak, s.rss)
        vmPeak = Math.max(vmPeak, s.vmSize ?? 0)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    const cpuStart = (await get('/peek')).cpu
    await Promise.all([work(until, row), witness(), sampler()])
    const cpuEnd = (await get('/peek')).cpu
    const cpuUs = cpuEnd.user + cpuEnd.system - cpuStart.user - cpuStart.system
    row.cpuMsPerRequest = cpuUs / 1000 / Math.max(1, row.requests)
    if (before.vmSize !== null) row.vmGrowth = vmPeak - before.vmSize
    if (row.validMaxMs > TARGETS.validMs)
      row.problems.push(`a valid batch took ${row.validMaxMs.toFixed(0)} ms`)
    if (row.handshakeMaxMs > TARGETS.handshakeMs)
      row.problems.push(`a handshake took ${row.handshakeMaxMs.toFixed(0)} ms`)
    if (Object.keys(row.validStatuses).some((s) => s !== '200'))
      row.problems.push(`valid batches answered ${JSON.stringify(row.validStatuses)}`)
    return row
  }

  // The liars: each connection promises `promise` bytes, sends 20 of them, and waits.
  const liars: PhaseRow[] = []
  for (const promise of [MAX - 1024, 64 * 1024]) {
    const sockets: Socket[] = []
    const row = await phase(
      `${LIARS} connections promising ${promise >= 2 ** 20 ? `${((promise + 1024) / 2 ** 20).toFixed(0)} MiB` : `${promise / 1024} KiB`}, sending 20 bytes`,
      async (until, row) => {
        for (let i = 0; i < LIARS; i++) {
          const socket = connect(port, '127.0.0.1')
          socket.on('error', () => {})
          socket.on('data', (d) => {
            const status = Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString('latin1'))?.[1] ?? 0)
            tallyInto(row.statuses, status)
          })
          socket.write(
            `POST ${SOAK_PATH} HTTP/1.1\r\nhost: soak.test\r\ncontent-type: ${FORM}\r\ncontent-length: ${promise}\r\n\r\n${FIELD}=%5B%7B`,
          )
          sockets.push(socket)
          row.requests++
          if (i % 50 === 49) await new Promise((r) => setImmediate(r))
        }
        await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())))
      },
      Math.max(2000, seconds * 1000),
    )
    for (const socket of sockets) socket.destroy()
    const perConnection = (row.rssPeak - row.rssBefore) / 1024 / LIARS
    if (perConnection > TARGETS.liarKiB)
      row.problems.push(`${perConnection.toFixed(0)} KiB RSS per connection`)
    const addressPerConnection = (row.vmGrowth ?? 0) / 1024 / LIARS
    if (addressPerConnection > TARGETS.liarAddressKiB)
      row.problems.push(`${addressPerConnection.toFixed(0)} KiB of address space per connection`)
    if (Object.keys(row.statuses).length > 0)
      row.problems.push(`liars were answered ${JSON.stringify(row.statuses)} before their body`)
    liars.push(row)
    await new Promise((r) => setTimeout(r, 500))
  }

  for (const shape of SHAPES) await hostile(shape) // warm-up
  const shapes: PhaseRow[] = []
  for (const shape of SHAPES) {
    const row = await phase(
      shape.name,
      async (until, row) => {
        const attacker = async () => {
          while (Date.now() < until) {
            const { status, bytes } = await hostile(shape)
            tallyInto(row.statuses, status)
            row.largestAnswer = Math.max(row.largestAnswer, bytes)
            row.requests++
          }
        }
        await Promise.all(Array.from({ length: CONNECTIONS }, attacker))
      },
      seconds * 1000,
    )
    if (Object.keys(row.statuses).some((s) => !['400', '401', '413', '415'].includes(s)))
      row.problems.push(`answered ${JSON.stringify(row.statuses)}`)
    if (row.largestAnswer > TARGETS.answerBytes)
      row.problems.push(`an answer of ${row.largestAnswer} bytes`)
    const growth = (row.rssPeak - row.rssBefore) / (MAX * CONNECTIONS)
    if (growth > TARGETS.peakMultiple)
      row.problems.push(`RSS grew ${growth.toFixed(1)}× the bodies`)
    shapes.push(row)
  }
  const plain = shapes[0] as PhaseRow
  for (const row of shapes.slice(1)) {
    const ratio = row.cpuMsPerRequest / plain.cpuMsPerRequest
    if (ratio > TARGETS.shapeRatio) row.problems.push(`${ratio.toFixed(1)}× plain bytes`)
  }

  await new Promise((r) => setTimeout(r, 1000))
  const last = await get('/')
  agent.destroy()
  child.kill('SIGTERM')
  const result: FloodResult = {
    adapter,
    seconds,
    shapes,
    liars,
    heapBefore: first.heapUsed,
    heapAfter: last.heapUsed,
    rssAfter: last.rss,
    problems: [],
  }
  if (last.heapUsed > first.heapUsed * 1.25)
    result.problems.push(
      `heap after GC ${(first.heapUsed / 2 ** 20).toFixed(1)} → ${(last.heapUsed / 2 ** 20).toFixed(1)} MB`,
    )
  return result
}
