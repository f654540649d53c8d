// The hostile-flood phase of `npm run soak`: four connections send unsigned bodies of the maximum
// size (many fields, a duplicate field, a million-element JSON array, 4 MiB of nesting, one huge
// encoded value, an over-limit Content-Length) for a fixed time, while a signed 100-event batch
// and a handshake GET keep arriving. Measures the server's peak RSS growth, its CPU per hostile
// request, and the latency of the valid requests during the flood.
import { spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { DEFAULT_MAX_BODY_BYTES, type EventName } from 'sendclean-webhooks'
import { SAMPLE_TYPES, sampleEvent, signDelivery } from 'sendclean-webhooks/testing'
import { SOAK_KEY, SOAK_PATH } from './soak-server.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const MAX = DEFAULT_MAX_BODY_BYTES
const CONNECTIONS = 4
export const PEAK_MULTIPLE = 5
const FORM = 'application/x-www-form-urlencoded'

function fill(unit: string, bytes: number, head = '', tail = ''): string {
  const room = bytes - head.length - tail.length
  return head + unit.repeat(Math.floor(room / unit.length)) + tail
}

// Built once, before anything is measured; each just under the limit (the last one just over).
const size = MAX - 1024
const hostile: Array<{ name: string; type: string; body: string; length?: number }> = [
  { name: 'many empty fields', type: FORM, body: fill('a=&', size) },
  { name: 'a duplicate field', type: FORM, body: fill('a', size, 'x=', '&x=1') },
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
  {
    name: 'one encoded value',
    type: FORM,
    body: fill('%7B%7D%2C', size, 'SendCleantes_events=%5B', '%5D'),
  },
  { name: 'over the limit (Content-Length)', type: FORM, body: 'a=1', length: MAX + 1 },
]

export interface FloodRow {
  adapter: string
  seconds: number
  hostile: number
  statuses: Record<number, number>
  cpuMsPerHostile: number
  rssBefore: number
  rssPeak: number
  rssAfter: number
  heapBefore: number
  heapAfter: number
  validMaxMs: number
  validStatuses: Record<number, number>
  handshakeMaxMs: number
  problems: string[]
}

function send(
  agent: Agent | false,
  port: number,
  method: string,
  headers: Record<string, string | number>,
  body?: string,
): Promise<{ status: number; ms: number }> {
  const started = performance.now()
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: SOAK_PATH, method, headers, agent },
      (res) => {
        res.resume()
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }),
        )
      },
    )
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }))
    if (body === undefined) req.end()
    else {
      req.write(body)
      req.end()
    }
  })
}

export async function flood(adapter: string, seconds: number): Promise<FloodRow> {
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
    (await (await fetch(`http://127.0.0.1:${statsPort}${path}`)).json()) as {
      rss: number
      heapUsed: number
      cpu: { user: number; system: number }
    }
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS + 4 })
  // Warm up the valid path, then the baseline.
  for (let i = 0; i < 20; i++) await send(agent, port, 'POST', valid.headers, valid.body)
  const before = await get('/')
  const until = Date.now() + seconds * 1000

  const statuses: Record<number, number> = {}
  let hostileCount = 0
  const attacker = async (offset: number) => {
    for (let i = offset; Date.now() < until; i++) {
      const h = hostile[i % hostile.length] as (typeof hostile)[number]
      const headers = {
        'content-type': h.type,
        'content-length': h.length ?? Buffer.byteLength(h.body),
      }
      // An over-limit Content-Length is answered before the body: send only its head, on a
      // connection of its own (it cannot be reused).
      const { status } = h.length
        ? await send(false, port, 'POST', { ...headers, connection: 'close' }, '')
        : await send(agent, port, 'POST', headers, h.body)
      statuses[status] = (statuses[status] ?? 0) + 1
      hostileCount++
    }
  }
  const validStatuses: Record<number, number> = {}
  let validMaxMs = 0
  let handshakeMaxMs = 0
  let rssPeak = before.rss
  const witness = async () => {
    while (Date.now() < until) {
      const v = await send(agent, port, 'POST', valid.headers, valid.body)
      validStatuses[v.status] = (validStatuses[v.status] ?? 0) + 1
      validMaxMs = Math.max(validMaxMs, v.ms)
      const h = await send(agent, port, 'GET', {})
      handshakeMaxMs = Math.max(handshakeMaxMs, h.ms)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const sampler = async () => {
    while (Date.now() < until) {
      rssPeak = Math.max(rssPeak, (await get('/peek')).rss)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  await Promise.all([
    ...Array.from({ length: CONNECTIONS }, (_, i) => attacker(i)),
    witness(),
    sampler(),
  ])
  const during = await get('/peek')
  await new Promise((r) => setTimeout(r, 1000))
  const after = await get('/')
  agent.destroy()
  child.kill('SIGTERM')

  const cpuUs = during.cpu.user + during.cpu.system - before.cpu.user - before.cpu.system
  const row: FloodRow = {
    adapter,
    seconds,
    hostile: hostileCount,
    statuses,
    cpuMsPerHostile: cpuUs / 1000 / Math.max(1, hostileCount),
    rssBefore: before.rss,
    rssPeak,
    rssAfter: after.rss,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    validMaxMs,
    validStatuses,
    handshakeMaxMs,
    problems: [],
  }
  const bound = 4 * MAX * CONNECTIONS
  if (rssPeak - before.rss > bound) {
    row.problems.push(
      `RSS grew ${((rssPeak - before.rss) / 2 ** 20).toFixed(0)} MiB (> ${bound / 2 ** 20})`,
    )
  }
  if (validMaxMs > 2000) row.problems.push(`a valid batch took ${validMaxMs.toFixed(0)} ms`)
  if (handshakeMaxMs > 250) row.problems.push(`a handshake took ${handshakeMaxMs.toFixed(0)} ms`)
  if (Object.keys(validStatuses).some((s) => s !== '200'))
    row.problems.push('a valid batch was refused')
  if (Object.keys(statuses).some((s) => !['400', '401', '413'].includes(s))) {
    row.problems.push(`hostile requests answered ${JSON.stringify(statuses)}`)
  }
  return row
}
