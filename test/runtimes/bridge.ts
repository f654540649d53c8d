// The test side of the runtime matrix: a host process on another runtime (host.mjs, worker.mjs)
// serves the receivers, and this bridge keeps the matrices' functions (handlers, onError, store
// methods) here, answering the host's calls over HTTP. So the SPEC and bad-input matrices run
// unchanged against Bun, Deno, workerd and other Node versions: same expectations, same closures.
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseEvent, type ReceiverOptions, WebhookError } from '../../src/index.js'
import type { Mount, Remote } from '../support/spec-matrix.js'

type Fn = (...args: unknown[]) => unknown

/** What a host sends back for an event or an error (host-core.mjs `encode`). */
function decode(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value
  if ('$event' in value) return parseEvent(value.$event)
  if ('$error' in value) {
    const fields = value.$error as Record<string, unknown>
    return Object.assign(Object.create(WebhookError.prototype), {
      ...fields,
      event: decode(fields.event),
    })
  }
  return value
}

export class Bridge {
  readonly #fns = new Map<string, Fn>()
  readonly #server: Server
  url = ''

  constructor() {
    this.#server = createServer((req, res) => {
      let text = ''
      req.on('data', (d) => {
        text += d
      })
      req.on('end', async () => {
        res.setHeader('content-type', 'application/json')
        res.end(await this.#answer(text))
      })
    })
  }

  /** One call from a host: a function of the matrices' run here, or a log line printed here. */
  async #answer(text: string): Promise<string> {
    const body = JSON.parse(text) as { id?: string; args?: unknown[]; console?: string[] }
    if (body.console) {
      console.error(...body.console)
      return '{}'
    }
    const fn = this.#fns.get(body.id ?? '')
    try {
      if (!fn) throw new Error(`no function ${body.id}`)
      return JSON.stringify({ value: (await fn(...(body.args ?? []).map(decode))) ?? null })
    } catch (error) {
      return JSON.stringify({ error: error instanceof Error ? error.message : String(error) })
    }
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/call`
    return this
  }

  /** Answer a host's call made through a Request (miniflare's outbound service). */
  async handle(request: Request): Promise<Response> {
    return new Response(await this.#answer(await request.text()), {
      headers: { 'content-type': 'application/json' },
    })
  }

  close(): void {
    this.#server.closeAllConnections()
    this.#server.close()
  }

  /** Options as JSON, each function (also an object's methods) replaced by `{ $fn: id }`. */
  serialize(value: unknown): unknown {
    if (typeof value === 'function') {
      const id = randomUUID()
      this.#fns.set(id, value as Fn)
      return { $fn: id }
    }
    if (Array.isArray(value)) return value.map((v) => this.serialize(v))
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key]
        out[key] =
          typeof v === 'function' ? this.serialize((v as Fn).bind(value)) : this.serialize(v)
      }
      return out
    }
    return value
  }
}

/** Where a host serves its Web adapters and, on Node and Bun, its Node-style ones. */
export interface Host {
  web: string
  node?: string
}

export type Adapter =
  | 'fetch'
  | 'hono'
  | 'express'
  | 'koa'
  | 'fastify'
  | 'node'
  /** The body read before the receiver: by the app, or by a Hono middleware through c.req. */
  | 'fetch-read-first'
  | 'hono-read-first'

/** A matrix `Mount` whose receivers live on `host`, built by `adapter` there. */
export function remoteMount(bridge: Bridge, host: () => Host, adapter: Adapter): Mount {
  // biome-ignore lint/suspicious/noExplicitAny: the matrices pass options for any context
  return (options: ReceiverOptions<any>): Remote => {
    const { web, node } = host()
    const id = randomUUID().slice(0, 8)
    const origin = ['express', 'koa', 'fastify', 'node'].includes(adapter) ? node : web
    if (!origin) throw new Error(`${adapter} does not run on this runtime's host`)
    const ready = fetch(`${web}/__register`, {
      method: 'POST',
      body: JSON.stringify({ id, adapter, options: bridge.serialize(options) }),
    }).then(async (res) => {
      if (!res.ok) throw new Error(`the host refused ${adapter}: ${await res.text()}`)
    })
    ready.catch(() => {}) // surfaced by the first request
    return {
      base: `${origin}/m/${id}`,
      ready,
      close: () => void fetch(`${web}/__unregister?id=${id}`).catch(() => {}),
    }
  }
}
