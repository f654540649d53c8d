// One server for the HTTP benchmark: `<framework> <variant>`, where framework is express, koa,
// hono (on @hono/node-server), hono-web (the same app given only the Web Request) or node, and variant is `package` (this package's adapter), `handwritten` (the framework's
// usual body parser + HMAC + JSON.parse, as a user would write it), `handwritten-zod` (the same,
// validating the events with the textbook zod union: the package's work), `bare` (200, no parsing),
// `read` (200 once the body is read into one buffer, nothing parsed: what any receiver pays), or
// `queue` (express only: the adapter in queue mode on BullMQ at $REDIS_URL).
// Prints {"port","statsPort"}; the stats port answers the process's peak RSS and the CPU time
// it has used so far (user + system, µs, every thread: GC helpers included), its full GCs and
// its minor page faults. $BENCH_DIST, when
// set, is another build's dist/ folder to take the adapters from.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PerformanceObserver, constants as perf } from 'node:perf_hooks'
import { createAdaptorServer } from '@hono/node-server'
import { bodyParser } from '@koa/bodyparser'
import express from 'express'
import Koa from 'koa'
import { HANDSHAKE_BODY } from 'sendclean-webhooks'
import { bullmqSink, createQueue } from 'sendclean-webhooks/queue'
import { honoApp, benchOptions as options, PATH } from './hono-apps.js'
import { KEY, URL_SIGNED } from './payloads.js'
import { handwrittenVerify } from './peers.js'

// $BENCH_DIST: take the adapters from another build (bench/revisions.ts compares two revisions).
const dist = process.env.BENCH_DIST
const load = <T>(entry: string, local: () => Promise<T>): Promise<T> =>
  dist ? (import(`${dist}/${entry}.js`) as Promise<T>) : local()
const { createExpressMiddleware } = await load(
  'express',
  () => import('sendclean-webhooks/express'),
)
const { createHonoHandler } = await load('hono', () => import('sendclean-webhooks/hono'))
const { createKoaMiddleware } = await load('koa', () => import('sendclean-webhooks/koa'))
const { createNodeHandler } = await load('node', () => import('sendclean-webhooks/node'))

const noop = (_event?: unknown) => {}

// `handwritten-zod`: the hand-written server, and the textbook zod union validating the events
// after JSON.parse, so it does the package's work (the hand-written server validates nothing).
const validates = process.argv[3] === 'handwritten-zod'
const verifyAndParse = (fields: Record<string, unknown>, signature: string | undefined) =>
  handwrittenVerify(fields, signature, validates, noop)

/** The body into one buffer, the cheapest way Node offers: what every receiver must pay. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function build(framework: string, variant: string): Server {
  const handwritten = variant === 'handwritten' || validates
  if (framework === 'express') {
    const app = express()
    if (variant === 'package') app.use(PATH, createExpressMiddleware(options))
    else if (variant === 'queue') {
      const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
      const queue = createQueue('bench-events', {
        connection: { host: redis.hostname, port: Number(redis.port) },
        prefix: process.env.QUEUE_PREFIX ?? 'bench',
      })
      app.use(
        PATH,
        createExpressMiddleware({ keys: KEY, url: URL_SIGNED, queue: { sink: bullmqSink(queue) } }),
      )
    } else if (handwritten) {
      app.post(PATH, express.urlencoded({ extended: false, limit: '10mb' }), (req, res) => {
        const ok = verifyAndParse(
          req.body as Record<string, unknown>,
          req.get('x-sendcleantes-signature'),
        )
        res
          .status(ok ? 200 : 401)
          .type('text/plain')
          .send(ok ? HANDSHAKE_BODY : 'bad signature')
      })
    } else if (variant === 'read') {
      app.post(PATH, async (req, res) => {
        await readBody(req)
        res.type('text/plain').send(HANDSHAKE_BODY)
      })
    } else app.post(PATH, (_req, res) => void res.type('text/plain').send(HANDSHAKE_BODY))
    return createServer(app)
  }
  if (framework === 'koa') {
    const app = new Koa()
    if (variant === 'package') app.use(createKoaMiddleware({ ...options, path: PATH }))
    else if (handwritten) {
      app.use(bodyParser({ formLimit: '10mb' }))
      app.use((ctx) => {
        const ok = verifyAndParse(
          ctx.request.body as Record<string, unknown>,
          ctx.get('x-sendcleantes-signature'),
        )
        ctx.status = ok ? 200 : 401
        ctx.body = ok ? HANDSHAKE_BODY : 'bad signature'
      })
    } else if (variant === 'read') {
      app.use(async (ctx) => {
        await readBody(ctx.req)
        ctx.body = HANDSHAKE_BODY
      })
    } else {
      app.use((ctx) => {
        ctx.body = HANDSHAKE_BODY
      })
    }
    return createServer(app.callback())
  }
  if (framework === 'hono' || framework === 'hono-web') {
    const app = honoApp(variant, createHonoHandler)
    // hono-web: the app gets only the Web Request (no node-server env), as on Bun, Deno, Workers.
    const fetch = framework === 'hono-web' ? (request: Request) => app.fetch(request) : app.fetch
    return createAdaptorServer({ fetch }) as Server
  }
  if (framework === 'node') {
    if (variant === 'package') return createServer(createNodeHandler({ ...options, path: PATH }))
    return createServer((req, res) => {
      req.resume()
      req.on('end', () => res.end(HANDSHAKE_BODY))
    })
  }
  throw new Error(`unknown ${framework} ${variant}`)
}

const server = build(process.argv[2] ?? '', process.argv[3] ?? '')
// Full collections (mark-compact) so far: a server that promotes request data to the old
// generation does them every few hundred requests, and they cost CPU on the GC threads too.
let majorGcs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const { detail } = entry as { detail?: { kind?: number } }
    if (detail?.kind === perf.NODE_PERFORMANCE_GC_MAJOR) majorGcs++
  }
}).observe({ entryTypes: ['gc'] })
const stats = createServer((_req, res) => {
  const { user, system } = process.cpuUsage()
  const { maxRSS: maxRssKb, minorPageFault: pageFaults } = process.resourceUsage()
  res.end(JSON.stringify({ maxRssKb, cpuUs: user + system, majorGcs, pageFaults }))
})
server.listen(0, '127.0.0.1', () =>
  stats.listen(0, '127.0.0.1', () => {
    const port = (server.address() as AddressInfo).port
    process.stdout.write(
      `${JSON.stringify({ port, statsPort: (stats.address() as AddressInfo).port })}\n`,
    )
  }),
)

// Exit cleanly on SIGTERM, so that `--cpu-prof` runs of this server write their profile.
process.on('SIGTERM', () => process.exit(0))
