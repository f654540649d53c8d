// HTTP benchmark on loopback: each adapter against the same framework hand-written with its
// usual body parser, the same framework answering 200 after only reading the body, and without
// reading it, and bare node:http. A framework's servers run side by side and take turns in short
// slices of load (runHttp, below); medians of req/s, p99 and CPU per request, and ratios per turn.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { distinctPayload, payload } from './payloads.js'
import { quantile } from './stats.js'

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

/** What {@link compareCpu} found for each variant against the last one. */
export interface CpuComparison {
  /** Each variant's CPU per request, µs, every turn. */
  cpuUs: Map<string, number[]>
  /** Each variant's minor page faults per request, every turn. */
  pageFaults: Map<string, number[]>
  /** Last variant's CPU per request ÷ each other's, per turn (above 1: that one is cheaper). */
  ratios: Map<string, number[]>
  /** The median of those ratios in each session. */
  sessionMedians: Map<string, number[]>
}

/**
 * Server CPU per request of a few variants of one framework and size, weighed against the last
 * variant, over `sessions` sessions of fresh processes: each session starts the servers together
 * and warms each for 2 s, then they take `turns` turns of 1 s of load each, in a fresh random
 * order per turn (or, `together`, loaded at the same time), so that whatever else the machine
 * runs falls on all alike. A variant is `<variant>` or `<variant>@<dist>` as in
 * bench/http-server.ts. `log` gets one line per session.
 */
export async function compareCpu(
  framework: string,
  n: number,
  variants: readonly string[],
  { sessions, turns, together = false }: { sessions: number; turns: number; together?: boolean },
  log: (line: string) => void = () => {},
): Promise<CpuComparison> {
  const base = variants[variants.length - 1] as string
  const others = variants.slice(0, -1)
  const series = (names: readonly string[]) => new Map(names.map((v) => [v, [] as number[]]))
  const result: CpuComparison = {
    cpuUs: series(variants),
    pageFaults: series(variants),
    ratios: series(others),
    sessionMedians: series(others),
  }
  for (let session = 1; session <= sessions; session++) {
    const servers = await Promise.all(
      variants.map(async (name) => {
        const [variant, dist] = name.split('@') as [string, string | undefined]
        return { name, server: await start(framework, variant, n, false, dist) }
      }),
    )
    try {
      for (const { server } of servers) await server.load(2)
      const perTurn = series(others)
      for (let turn = 0; turn < turns; turn++) {
        const spent = new Map<string, number>()
        const record = (name: string, measure: Measure) => {
          spent.set(name, measure.cpuUs)
          result.cpuUs.get(name)?.push(measure.cpuUs)
          result.pageFaults.get(name)?.push(measure.pageFaults / measure.requests)
        }
        if (together) {
          const measures = await Promise.all(servers.map(({ server }) => server.load(1)))
          for (const [i, { name }] of servers.entries()) record(name, measures[i] as Measure)
        } else {
          for (const { name, server } of shuffle(servers)) record(name, await server.load(1))
        }
        for (const v of others) {
          perTurn.get(v)?.push((spent.get(base) as number) / (spent.get(v) as number))
        }
      }
      for (const v of others) {
        const rs = perTurn.get(v) as number[]
        result.ratios.get(v)?.push(...rs)
        result.sessionMedians.get(v)?.push(quantile(rs, 0.5))
        log(`  session ${session}: ${base} ÷ ${v}: ${rs.map((r) => r.toFixed(3)).join(' ')}`)
      }
    } finally {
      for (const { server } of servers) server.stop()
    }
  }
  return result
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
