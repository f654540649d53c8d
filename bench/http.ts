// HTTP benchmark on loopback: each adapter against the same framework hand-written with its
// usual body parser, the same framework answering 200 after only reading the body, and without
// reading it, and bare node:http. A framework's servers run side by side and take turns in short
// slices of load (runHttp, below); medians of req/s, p99 and CPU per request, and ratios per turn.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { distinctPayload, payload } from './payloads.js'

const root = fileURLToPath(new URL('..', import.meta.url))

export interface HttpResult {
  framework: string
  variant: string
  n: number
  rps: number[]
  p99: number[]
  maxRssMb: number[]
  /** The server's CPU time per request, µs (user + system, all its threads). */
  cpuUs: number[]
  /** The server's full collections (mark-compact) in each slice. */
  majorGcs: number[]
  /** The server's minor page faults in each slice. */
  pageFaults: number[]
  /** Requests in each slice. */
  requests: number[]
}

/** What one measured stretch of load cost a server. */
export interface Measure {
  rps: number
  p99: number
  maxRssMb: number
  /** The server's CPU time per request, µs (user + system, all its threads). */
  cpuUs: number
  /** The server's full collections (mark-compact) during the stretch. */
  majorGcs: number
  /** The server's minor page faults during the stretch (memory the allocator gave back and took again). */
  pageFaults: number
  requests: number
}

/** A bench server of one variant, started and ready; `load` measures a stretch of load. */
interface Running {
  load(seconds: number): Promise<Measure>
  stop(): void
}

/** One bench server, started; `load` measures a stretch of load (bench/http-ab.ts uses it too). */
export async function start(
  framework: string,
  variant: string,
  n: number,
  /** A fresh, distinct signed batch per request (so queue jobs do not collapse). */
  distinct = false,
  /** Another build's dist/ folder for the package's adapters (bench/revisions.ts). */
  dist?: string,
): Promise<Running> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/http-server.ts', framework, variant],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: dist ? { ...process.env, BENCH_DIST: dist } : process.env,
    },
  )
  const stop = () => void child.kill('SIGTERM')
  try {
    const { port, statsPort } = await new Promise<{ port: number; statsPort: number }>(
      (resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString())))
        child.once('exit', (code) => reject(new Error(`${framework}/${variant} exited ${code}`)))
      },
    )
    const stats = async () =>
      (await (await fetch(`http://127.0.0.1:${statsPort}`)).json()) as {
        maxRssKb: number
        cpuUs: number
        majorGcs: number
        pageFaults: number
      }
    const p = payload(n)
    const run = (duration: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}/webhooks/sendclean`,
        method: 'POST',
        connections: 10,
        duration,
        body: p.form,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-sendcleantes-signature': p.signature,
        },
        ...(distinct
          ? {
              setupClient: (client: autocannon.Client) => {
                const next = () => {
                  const fresh = distinctPayload(n)
                  client.setBody(fresh.form)
                  client.setHeaders({
                    'content-type': 'application/x-www-form-urlencoded',
                    'x-sendcleantes-signature': fresh.signature,
                  })
                }
                next()
                client.on('response', next)
              },
            }
          : {}),
      })
    const load = async (seconds: number): Promise<Measure> => {
      const before = await stats()
      const result = await run(seconds)
      const failed = result.non2xx + result.errors + result.timeouts
      if (failed > 0) throw new Error(`${framework}/${variant} N=${n}: ${failed} failed requests`)
      const after = await stats()
      return {
        rps: result.requests.total / result.duration,
        p99: result.latency.p99,
        maxRssMb: after.maxRssKb / 1024,
        cpuUs: (after.cpuUs - before.cpuUs) / result.requests.total,
        majorGcs: after.majorGcs - before.majorGcs,
        pageFaults: after.pageFaults - before.pageFaults,
        requests: result.requests.total,
      }
    }
    return { load, stop }
  } catch (error) {
    stop()
    throw error
  }
}

/** One fresh server: warmed up, then one measured stretch (bench/revisions.ts, bench/queue.ts). */
export async function once(
  framework: string,
  variant: string,
  n: number,
  seconds: number,
  distinct = false,
  dist?: string,
  /** Seconds of load before the measured run (not counted). */
  warmup = seconds > 1 ? 2 : 0,
): Promise<Measure> {
  const server = await start(framework, variant, n, distinct, dist)
  try {
    // Warm up first, unmeasured: a server lives long, and its first requests run before the JIT
    // has compiled the hot paths (more of them in the package's server than in a hand-written one).
    if (warmup > 0) await server.load(warmup)
    return await server.load(seconds)
  } finally {
    server.stop()
  }
}

export function shuffle<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

const FIELDS = ['rps', 'p99', 'maxRssMb', 'cpuUs', 'majorGcs', 'pageFaults', 'requests'] as const

export async function runHttp({
  sessions,
  slices,
  seconds,
  warmup,
  sizes,
}: {
  /** Fresh servers per group, this many times over (a server's JIT and heap differ per process). */
  sessions: number
  /** Measured slices per server and session, the group's servers taking turns. */
  slices: number
  seconds: number
  warmup: number
  sizes: number[]
}) {
  // A group is one framework and size with its five servers, all started at once. After each is
  // warmed up, they take turns: one slice of load each, in a fresh random order per turn, for
  // `slices` turns. A turn's package and hand-written slices then ran seconds apart, and their
  // ratio is taken per turn: what else the machine ran moves both. Sessions repeat this with
  // fresh processes, the groups in random order each time.
  const groups = ['express', 'koa', 'hono', 'hono-web']
    .flatMap((framework) =>
      sizes.map((n) => ({
        framework,
        n,
        variants: ['package', 'handwritten', 'handwritten-zod', 'read', 'bare'],
      })),
    )
    .concat(sizes.map((n) => ({ framework: 'node', n, variants: ['bare'] })))
  const results = new Map<string, HttpResult>()
  for (let session = 0; session < sessions; session++) {
    for (const group of shuffle(groups)) {
      const servers = await Promise.all(
        group.variants.map(async (variant) => {
          const key = `${group.framework}/${variant}/${group.n}`
          if (!results.has(key)) {
            const { framework, n } = group
            const empty = {
              rps: [],
              p99: [],
              maxRssMb: [],
              cpuUs: [],
              majorGcs: [],
              pageFaults: [],
              requests: [],
            }
            results.set(key, { framework, variant, n, ...empty })
          }
          return {
            entry: results.get(key) as HttpResult,
            server: await start(group.framework, variant, group.n),
          }
        }),
      )
      try {
        if (warmup > 0) for (const { server } of servers) await server.load(warmup)
        for (let slice = 0; slice < slices; slice++) {
          for (const { entry, server } of shuffle(servers)) {
            const r = await server.load(seconds)
            for (const field of FIELDS) entry[field].push(r[field])
          }
        }
        process.stderr.write(
          `  session ${session + 1}: ${group.framework} N=${group.n}, ${slices} turns\n`,
        )
      } finally {
        for (const { server } of servers) server.stop()
      }
    }
  }
  return [...results.values()]
}
