// HTTP benchmark on loopback: each adapter against the same framework hand-written with its
// usual body parser, the same framework answering 200 after only reading the body, and without
// reading it, and bare node:http.
// Fresh server process per run, shuffled order, several rounds; medians of req/s and p99.
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
  /** The server's full collections (mark-compact) per 1000 requests. */
  majorGcs: number[]
}

export async function once(
  framework: string,
  variant: string,
  n: number,
  seconds: number,
  /** A fresh, distinct signed batch per request (so queue jobs do not collapse). */
  distinct = false,
  /** Another build's dist/ folder for the package's adapters (bench/revisions.ts). */
  dist?: string,
  /** Seconds of load before the measured run (not counted). */
  warmup = seconds > 1 ? 2 : 0,
): Promise<{
  rps: number
  p99: number
  maxRssMb: number
  cpuUs: number
  majorGcs: number
  requests: number
}> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/http-server.ts', framework, variant],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: dist ? { ...process.env, BENCH_DIST: dist } : process.env,
    },
  )
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
      }
    const p = payload(n)
    const load = (duration: number) =>
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
    // Warm up first, unmeasured: a server lives long, and its first requests run before the JIT
    // has compiled the hot paths (more of them in the package's server than in a hand-written one).
    if (warmup > 0) await load(warmup)
    const before = await stats()
    const result = await load(seconds)
    const non2xx = result.non2xx + result.errors + result.timeouts
    if (non2xx > 0) throw new Error(`${framework}/${variant} N=${n}: ${non2xx} failed requests`)
    const after = await stats()
    return {
      rps: result.requests.total / result.duration,
      p99: result.latency.p99,
      maxRssMb: after.maxRssKb / 1024,
      cpuUs: (after.cpuUs - before.cpuUs) / result.requests.total,
      majorGcs: ((after.majorGcs - before.majorGcs) * 1000) / result.requests.total,
      requests: result.requests.total,
    }
  } finally {
    child.kill('SIGTERM')
  }
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

export async function runHttp({
  rounds,
  seconds,
  sizes,
}: {
  rounds: number
  seconds: number
  sizes: number[]
}) {
  // A round runs every framework and size as a group, the groups in random order and the
  // variants of a group back to back (in random order): the package and the hand-written server
  // it is weighed against then run seconds apart, and their ratio is taken per round.
  const groups = ['express', 'koa', 'hono', 'hono-web']
    .flatMap((framework) =>
      sizes.map((n) => ({ framework, n, variants: ['package', 'handwritten', 'read', 'bare'] })),
    )
    .concat(sizes.map((n) => ({ framework: 'node', n, variants: ['bare'] })))
  const results = new Map<string, HttpResult>()
  for (let round = 0; round < rounds; round++) {
    for (const group of shuffle(groups)) {
      for (const variant of shuffle(group.variants)) {
        const c = { framework: group.framework, variant, n: group.n }
        const key = `${c.framework}/${c.variant}/${c.n}`
        const r = await once(c.framework, c.variant, c.n, seconds)
        const entry = results.get(key) ?? {
          ...c,
          rps: [],
          p99: [],
          maxRssMb: [],
          cpuUs: [],
          majorGcs: [],
        }
        for (const field of ['rps', 'p99', 'maxRssMb', 'cpuUs', 'majorGcs'] as const) {
          entry[field].push(r[field])
        }
        results.set(key, entry)
        process.stderr.write(`  round ${round + 1}: ${key} ${Math.round(r.rps)} req/s\n`)
      }
    }
  }
  return [...results.values()]
}
