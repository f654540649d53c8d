// A receiver for the soak run, one adapter per process (argv[2]). It counts answers per request
// kind (the x-kind header) and serves those counts and a post-GC heap on a second port.
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'
import { isKnownEvent, type ReceiverOptions, type WebhookEvent } from 'sendclean-webhooks'
import { createExpressMiddleware } from 'sendclean-webhooks/express'
import { createFetchHandler } from 'sendclean-webhooks/fetch'
import { createHonoHandler } from 'sendclean-webhooks/hono'
import { createKoaMiddleware } from 'sendclean-webhooks/koa'
import { createNodeHandler } from 'sendclean-webhooks/node'

export const SOAK_KEY = 'soak-key'
export const SOAK_PATH = '/hook'

// biome-ignore lint/suspicious/noExplicitAny: one options object serves every adapter's context
const options: ReceiverOptions<any> = {
  keys: SOAK_KEY,
  url: `http://soak.test${SOAK_PATH}`,
  onError: () => {},
  on: {
    '*': (event: WebhookEvent) => {
      // The injected fault: a batch carrying this message id fails in its handler.
      if (isKnownEvent(event) && event._id === 'inject-fault') throw new Error('injected')
    },
  },
}

function build(adapter: string): Server {
  switch (adapter) {
    case 'express': {
      const app = express()
      app.use(SOAK_PATH, createExpressMiddleware(options))
      return createServer(app)
    }
    case 'koa': {
      const app = new Koa()
      // Koa logs every request whose socket fails (the liars' closed connections): not news here.
      app.silent = true
      app.use(createKoaMiddleware({ ...options, path: SOAK_PATH }))
      return createServer(app.callback())
    }
    case 'hono': {
      const app = new Hono()
      app.all(SOAK_PATH, createHonoHandler(options))
      return createAdaptorServer({ fetch: app.fetch }) as Server
    }
    case 'node':
      return createServer(createNodeHandler({ ...options, path: SOAK_PATH }))
    case 'fetch':
      return createAdaptorServer({ fetch: createFetchHandler(options) }) as Server
    default:
      throw new Error(`unknown adapter ${adapter}`)
  }
}

if (process.argv[2]) {
  const server = build(process.argv[2])
  const tally: Record<string, Record<number, number>> = {}
  server.on('request', (req, res) => {
    const kind = String(req.headers['x-kind'] ?? 'none')
    res.on('finish', () => {
      tally[kind] ??= {}
      const byStatus = tally[kind] as Record<number, number>
      byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1
    })
  })
  // Address space (Linux only): what a promised but unsent body would reserve.
  const vmSize = () => {
    try {
      const kib = /VmSize:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1]
      return kib ? Number(kib) * 1024 : null
    } catch {
      return null
    }
  }
  const stats = createServer(async (req, res) => {
    // `/peek`: memory and CPU as they are, no GC (sampled during a flood for the peak).
    if (req.url === '/peek') {
      res.end(
        JSON.stringify({
          rss: process.memoryUsage().rss,
          vmSize: vmSize(),
          cpu: process.cpuUsage(),
        }),
      )
      return
    }
    const gc = (globalThis as { gc?: () => void }).gc
    // Web streams and Responses are released through finalizers, which run after a GC: collect,
    // let them run, and collect again, a few times.
    for (let i = 0; i < 4; i++) {
      gc?.()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    res.end(
      JSON.stringify({
        tally,
        heapUsed: process.memoryUsage().heapUsed,
        rss: process.memoryUsage().rss,
        vmSize: vmSize(),
        cpu: process.cpuUsage(),
      }),
    )
  })
  server.listen(0, '127.0.0.1', () => {
    stats.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port
      const statsPort = (stats.address() as AddressInfo).port
      process.stdout.write(`${JSON.stringify({ port, statsPort })}\n`)
    })
  })
}
