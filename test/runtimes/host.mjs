// The matrix host for Node 22/24, Bun and Deno: serves receivers registered by the test (see
// host-core.mjs) and prints {"web": port, "node": port} once listening. $HOST_CALLBACK is the
// test's bridge. Started with `--conditions=browser`, the package resolves its Web platform file
// (Web Crypto), as on Workers; `#platform` here resolves as it does inside the package.
import { createFormLoop, PLATFORM } from '#platform'
import { createHost } from './host-core.mjs'

const dist = new URL('../../dist/', import.meta.url)
const { createFetchHandler } = await import(new URL('fetch.js', dist).href)
const { createHonoHandler } = await import(new URL('hono.js', dist).href)
const { Hono } = await import('hono')

const callback = process.env.HOST_CALLBACK
const call = (body) =>
  fetch(callback, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json())

const PATH = '/webhooks/sendclean'
const runtime = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node'
/** Node-style apps by receiver id: Express, Koa, Fastify and node:http, on runtimes with node:http servers. */
const nodeApps = new Map()

async function mountNode(adapter, id, options) {
  const path = `/m/${id}${PATH}`
  if (adapter === 'express') {
    const { default: express } = await import('express')
    const { createExpressMiddleware } = await import(new URL('express.js', dist).href)
    const app = express()
    app.use(path, createExpressMiddleware(options))
    nodeApps.set(id, app)
  } else if (adapter === 'koa') {
    const { default: Koa } = await import('koa')
    const { createKoaMiddleware } = await import(new URL('koa.js', dist).href)
    const app = new Koa()
    app.use(createKoaMiddleware({ ...options, path }))
    nodeApps.set(id, app.callback())
  } else if (adapter === 'fastify') {
    const { default: Fastify } = await import('fastify')
    const { createServer } = await import('node:http')
    const { sendcleanWebhooks } = await import(new URL('fastify.js', dist).href)
    // Fastify's own request handling, on the host's server (serverFactory hands it over).
    let handle
    const app = Fastify({
      serverFactory: (handler) => {
        handle = handler
        return createServer()
      },
    })
    app.register(sendcleanWebhooks, { ...options, path })
    await app.ready()
    nodeApps.set(id, (req, res) => handle(req, res))
  } else if (adapter === 'node') {
    const { createNodeHandler } = await import(new URL('node.js', dist).href)
    nodeApps.set(id, createNodeHandler({ ...options, path }))
  } else return false
  return true
}

const host = createHost({
  createFetchHandler,
  createHonoHandler,
  Hono,
  call,
  mountNode: runtime === 'deno' ? undefined : mountNode,
  platform: PLATFORM,
  formLoop: createFormLoop() !== undefined,
})

const idOf = (url) => /^\/m\/([^/]+)\//.exec(url ?? '')?.[1]
const ports = {}
if (runtime === 'deno') {
  ports.web = await new Promise((resolve) => {
    const onListen = ({ port }) => resolve(port)
    Deno.serve({ port: 0, hostname: '127.0.0.1', onListen }, host)
  })
} else {
  const { createServer } = await import('node:http')
  const nodeServer = (web) =>
    createServer((req, res) => {
      const app = nodeApps.get(idOf(req.url))
      if (app) {
        // Log lines forwarded to the test before the answer (see host-core.mjs).
        const end = res.end
        res.end = (...args) => {
          host.flushLog().then(() => end.apply(res, args))
          return res
        }
        app(req, res)
      } else if (web) web(req, res)
      else res.writeHead(404).end('no such receiver')
    })
  const listen = (server) =>
    new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
  if (runtime === 'bun') {
    ports.web = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: host }).port
    ports.node = await listen(nodeServer())
  } else {
    // Node: one server; Web adapters through @hono/node-server, as apps deploy them.
    const { getRequestListener } = await import('@hono/node-server')
    ports.web = ports.node = await listen(nodeServer(getRequestListener(host)))
  }
}
process.stdout.write(`${JSON.stringify(ports)}\n`)
