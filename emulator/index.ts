import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EVENT_NAMES, type EventName, parseEvent } from '../src/index.js'
import {
  positiveInteger,
  refuseUnknownOptions,
  unknownName,
  WebhookError,
} from '../src/internal.js'
import { sampleEvent } from '../testing/index.js'
import { Bus, type Delivery, type Listener } from './bus.js'
import { createDelivery, requester, type TriggerInput } from './delivery.js'
import { formatEvent, wantsColour } from './live-log.js'
import { createHandshake, createSettingsApi, listenWebhook } from './settings.js'
import { ApiError, openStore } from './store.js'

/**
 * A local stand-in for SendClean's webhook side: the six `/settings/*` calls, the handshake on
 * add/edit, a key per webhook, signed and retried deliveries, a live log and a web console.
 */

export interface EmulatorOptions {
  /** Default 0 (any free port). */
  port?: number
  host?: string
  ownerId: string
  token: string
  /** Keep webhooks and keys in this JSON file across restarts. */
  dataFile?: string
  /** Delivery attempts per batch (the first included). Default 5. */
  attempts?: number
  /** Base of the exponential backoff between attempts. Default 1000 ms. */
  retryDelayMs?: number
  /** Per request to a receiver. Default 10 s. */
  timeoutMs?: number
  /**
   * The live log: one line per API call, handshake and delivery attempt. `true` writes to
   * stdout (coloured on a TTY unless NO_COLOR is set); a function gets each line. Default off.
   */
  log?: boolean | ((line: string) => void)
}

/** Every option of {@link startEmulator}: another name (a misspelt `dataFile`) is refused. */
const EMULATOR_OPTIONS = {
  port: true,
  host: true,
  ownerId: true,
  token: true,
  dataFile: true,
  attempts: true,
  retryDelayMs: true,
  timeoutMs: true,
  log: true,
} satisfies Record<keyof EmulatorOptions, true>

/** Methods of the settings API that change the webhook list. */
const CHANGES = new Set(['addWebhook', 'editWebhook', 'keyResetWebhook', 'deleteWebhook'])

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** The most a request body to the emulator may hold. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** A live-stream client that falls this far behind is dropped. */
const MAX_STREAM_BACKLOG = 1024 * 1024

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_REQUEST_BYTES) throw new Error('too large')
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  const parsed = JSON.parse(text)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('not an object')
  return parsed
}

async function readInput(req: IncomingMessage): Promise<Record<string, unknown>> {
  try {
    return await readJson(req)
  } catch {
    throw new HttpError(400, 'the body must be a JSON object')
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

/** An answer in SendClean's error envelope (HTTP 200 but for the emulator's own 404 and 500). */
function sendError(res: ServerResponse, status: number, name: ApiError['kind'], message: string) {
  send(res, status, { status: 'error', code: -1, name, message })
}

/** The console's files, read once; served from `./console/` next to this module. */
function consoleFiles() {
  const dir = new URL('./console/', import.meta.url)
  const read = (name: string) => {
    try {
      return readFileSync(new URL(name, dir), 'utf8')
    } catch {
      return undefined
    }
  }
  return { html: read('index.html'), script: read('app.js') }
}

/** The console's icon: an envelope with a check mark. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="7" width="28" height="19" rx="3" fill="#2563eb"/><path d="M3 9l13 9 13-9" fill="none" stroke="#fff" stroke-width="2"/><circle cx="25" cy="24" r="6" fill="#16a34a"/><path d="M22 24l2 2 4-4" fill="none" stroke="#fff" stroke-width="2"/></svg>'

/** Host names that mean this machine's loopback. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/**
 * Whether a request may talk to the emulator: it runs next to a browser, so
 * - its `Host` must name the address it listens on or a loopback name with its port (a page on a
 *   DNS-rebinding name has its own name there);
 * - a browser's request must come from the emulator's own pages: an `Origin` that is not one of
 *   those hosts, or a `Sec-Fetch-Site` other than `same-origin`/`none` (reads included: an
 *   `<img>` or no-cors fetch sends no `Origin`, but it does send `Sec-Fetch-Site`), is refused.
 * Requests without these headers (the CLI, curl, the package's client) pass.
 */
function allowed(req: IncomingMessage, hosts: ReadonlySet<string>): boolean {
  const host = req.headers.host
  if (host === undefined || !hosts.has(host.toLowerCase())) return false
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
  const origin = req.headers.origin
  if (origin === undefined) return true
  try {
    const { protocol, host: originHost } = new URL(origin)
    return protocol === 'http:' && hosts.has(originHost.toLowerCase())
  } catch {
    return false
  }
}

/**
 * What the defaults of `startEmulator` do not cover: a value of the wrong kind would otherwise
 * take effect strangely (a `port` of `'abc'` is a Unix socket of that name; `attempts: 0`
 * delivers nothing).
 */
function checkEmulatorOptions(options: EmulatorOptions): void {
  const refuse = (message: string) => {
    throw new WebhookError('CONFIGURATION', `startEmulator: ${message}`)
  }
  for (const name of ['ownerId', 'token'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') {
      refuse(`\`${name}\` must be a non-empty string`)
    }
  }
  const { port, retryDelayMs, dataFile } = options
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    refuse('`port` must be a port number (0 for any free port)')
  }
  if (retryDelayMs !== undefined && !(Number.isSafeInteger(retryDelayMs) && retryDelayMs >= 0)) {
    refuse('`retryDelayMs` must be a whole number of ms, 0 or more')
  }
  if (dataFile !== undefined && (typeof dataFile !== 'string' || dataFile === '')) {
    refuse('`dataFile` must be a file path')
  }
}

/** Start the emulator. Resolves once it listens. */
export async function startEmulator(options: EmulatorOptions) {
  refuseUnknownOptions(options, EMULATOR_OPTIONS)
  checkEmulatorOptions(options)
  const attempts = positiveInteger(options.attempts, 'attempts', 5)
  const retryDelayMs = options.retryDelayMs ?? 1000
  const timeoutMs = positiveInteger(options.timeoutMs, 'timeoutMs', 10_000)
  const store = openStore(options.dataFile)
  const { webhooks, logs } = store
  const bus = new Bus()
  const request = requester(timeoutMs)
  const api = createSettingsApi(store, request, bus)
  const handshake = createHandshake(request, bus)
  const engine = createDelivery(store, request, bus, { attempts, retryDelayMs })
  const files = consoleFiles()
  const streams = new Set<ServerResponse>()

  if (options.log) {
    const write =
      typeof options.log === 'function'
        ? options.log
        : (line: string) => process.stdout.write(`${line}\n`)
    const colour =
      typeof options.log === 'function' ? false : wantsColour(process.stdout, process.env)
    bus.on((event) => {
      const line = formatEvent(event, colour)
      if (line !== undefined) write(line)
    })
  }

  /** Run a settings method, with its line in the live log; a change updates the console. */
  async function call(method: string, params: Record<string, unknown>) {
    const handler = api[method]
    if (!handler) throw new HttpError(404, `unknown method ${method}`)
    const start = performance.now()
    const time = new Date().toISOString()
    const ms = () => Math.round(performance.now() - start)
    try {
      const result = await handler(params)
      bus.emit({
        type: 'api',
        time,
        method,
        ok: true,
        message: String(result.message ?? 'ok'),
        ms: ms(),
      })
      if (CHANGES.has(method)) bus.emit({ type: 'webhooks' })
      return result
    } catch (error) {
      const message = (error as Error).message
      bus.emit({ type: 'api', time, method, ok: false, message, ms: ms() })
      throw error
    }
  }

  /** Deliveries started by a trigger or replay: answered at once, or after every attempt with `wait`. */
  async function answerDeliveries(
    res: ServerResponse,
    started: { deliveries: Delivery[]; done: Promise<unknown[]> },
    wait: boolean,
  ) {
    if (wait) return send(res, 200, { deliveries: await started.done })
    started.done.catch(() => {})
    send(res, 202, {
      deliveries: started.deliveries.map(({ id, webhookId, url, types, state }) => ({
        id,
        webhookId,
        url,
        types,
        state,
      })),
    })
  }

  // Each event is serialised once for every stream client; a client whose unsent backlog passes
  // MAX_STREAM_BACKLOG is dropped (its browser reconnects and reloads), so a client that never
  // reads cannot grow the emulator's memory.
  bus.on((event) => {
    if (streams.size === 0) return
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
    for (const res of streams) {
      if (res.writableLength > MAX_STREAM_BACKLOG) {
        streams.delete(res)
        res.destroy()
      } else res.write(frame)
    }
  })

  function openStream(req: IncomingMessage, res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    })
    res.write('retry: 1000\n\nevent: hello\ndata: {}\n\n')
    streams.add(res)
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000)
    req.on('close', () => {
      clearInterval(ping)
      streams.delete(res)
    })
  }

  /** The emulator's own endpoints (JSON errors with HTTP statuses), or false when none matched. */
  async function emulatorRoute(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ) {
    const method = req.method ?? 'GET'
    if (path === '/emulator/trigger' && method === 'POST') {
      const input = await readInput(req)
      const started = await engine.start(input as TriggerInput)
      return answerDeliveries(res, started, input.wait === true || query.get('wait') === '1')
    }
    if (path === '/emulator/stream' && method === 'GET') return openStream(req, res)
    if (path === '/emulator/webhooks' && method === 'GET') {
      return send(res, 200, { webhooks: [...webhooks.values()] })
    }
    if (path === '/emulator/webhooks' && method === 'POST') {
      const input = await readInput(req)
      await call('addWebhook', input)
      const added = [...webhooks.values()].at(-1)
      return send(res, 201, { webhook: added })
    }
    if (path === '/emulator/listen' && method === 'POST') {
      const result = await listenWebhook(store, handshake, await readInput(req))
      bus.emit({ type: 'webhooks' })
      return send(res, 200, result)
    }
    if (path === '/emulator/deliveries' && method === 'GET') {
      const webhook = query.get('webhook')
      const list = engine.list().filter((d) => !webhook || d.webhookId === webhook)
      return send(res, 200, { deliveries: list })
    }
    if (path === '/emulator/event-types' && method === 'GET') {
      return send(res, 200, { types: EVENT_NAMES })
    }
    const sample = /^\/emulator\/samples\/([a-z_]+)$/.exec(path)
    if (sample && method === 'GET') {
      const type = sample[1] as string
      if (!(EVENT_NAMES as readonly string[]).includes(type)) {
        throw new HttpError(404, unknownName('event type', type, EVENT_NAMES))
      }
      return send(res, 200, { event: sampleEvent(type as EventName) })
    }
    if (path === '/emulator/validate' && method === 'POST') {
      const { event } = await readInput(req)
      const parsed = parseEvent(event)
      if (parsed.event === 'invalid') return send(res, 200, { valid: false, issues: parsed.issues })
      if (parsed.event === 'unknown') {
        return send(res, 200, {
          valid: false,
          issues: [{ path: ['event'], message: `"${parsed.type}" is not a documented event type` }],
        })
      }
      return send(res, 200, { valid: true, issues: [] })
    }
    const delivery = /^\/emulator\/deliveries\/([^/]+)(\/replay)?$/.exec(path)
    if (delivery) {
      const id = delivery[1] as string
      if (delivery[2] && method === 'POST') {
        const input = await readInput(req)
        return answerDeliveries(res, await engine.replay(id), input.wait === true)
      }
      if (!delivery[2] && method === 'GET') {
        const found = engine.get(id)
        if (!found) throw new HttpError(404, `no delivery with id "${id}"`)
        return send(res, 200, { delivery: found })
      }
    }
    const hook = /^\/emulator\/webhooks\/([^/]+)(\/log|\/reset-key)?$/.exec(path)
    if (hook) {
      const id = hook[1] as string
      const webhook = webhooks.get(id)
      if (!webhook) throw new HttpError(404, `no webhook with id "${id}"`)
      if (hook[2] === '/log' && method === 'GET') {
        if (webhook.store_log !== 'Enable')
          return send(res, 409, { error: 'store_log is Disable for this webhook' })
        return send(res, 200, { log: logs.get(webhook.webhook_id) ?? [] })
      }
      if (hook[2] === '/reset-key' && method === 'POST') {
        const { key } = await call('keyResetWebhook', { webhook_id: id })
        return send(res, 200, { webhook: webhooks.get(id), key })
      }
      if (!hook[2] && method === 'GET') return send(res, 200, { webhook })
      if (!hook[2] && method === 'PATCH') {
        const input = await readInput(req)
        await call('editWebhook', { url: webhook.url, ...input, webhook_id: id })
        return send(res, 200, { webhook: webhooks.get(id) })
      }
      if (!hook[2] && method === 'DELETE') {
        await call('deleteWebhook', { webhook_id: id })
        return send(res, 200, { deleted: id })
      }
    }
    return false
  }

  // Filled once the port is known.
  const hosts = new Set<string>()
  const server = createServer(async (req, res) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://localhost')
    if (!allowed(req, hosts)) {
      req.resume()
      return send(res, 403, {
        error:
          'refused: the emulator answers only its own pages and local tools (Host and Origin are checked)',
      })
    }
    try {
      const settings = /\/settings\/([A-Za-z]+)$/.exec(pathname)
      if (settings && req.method === 'POST') {
        const method = settings[1] as string
        if (!api[method]) return sendError(res, 404, 'GeneralError', 'Unknown method')
        let params: Record<string, unknown>
        try {
          params = await readJson(req)
        } catch {
          return sendError(res, 200, 'ValidationError', 'Invalid JSON')
        }
        if (params.owner_id !== options.ownerId || params.token !== options.token) {
          bus.emit({
            type: 'api',
            time: new Date().toISOString(),
            method,
            ok: false,
            message: 'Token MissMatch',
            ms: 0,
          })
          throw new ApiError('AuthenticationError', 'Token MissMatch')
        }
        return send(res, 200, { status: 'success', ...(await call(method, params)) })
      }
      if (pathname.startsWith('/emulator/')) {
        try {
          if ((await emulatorRoute(req, res, pathname, searchParams)) !== false) return
          return send(res, 404, { error: 'not found' })
        } catch (error) {
          if (error instanceof HttpError) return send(res, error.status, { error: error.message })
          if (error instanceof ApiError) {
            return send(res, error.kind === 'NotFound' ? 404 : 400, { error: error.message })
          }
          throw error
        }
      }
      if ((pathname === '/' || pathname === '/index.html') && req.method === 'GET' && files.html) {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
        })
        return res.end(files.html)
      }
      if ((pathname === '/favicon.ico' || pathname === '/favicon.svg') && req.method === 'GET') {
        res.writeHead(200, {
          'content-type': 'image/svg+xml',
          'cache-control': 'max-age=86400',
        })
        return res.end(FAVICON)
      }
      if (pathname === '/console/app.js' && req.method === 'GET' && files.script) {
        res.writeHead(200, {
          'content-type': 'text/javascript; charset=utf-8',
          'cache-control': 'no-store',
        })
        return res.end(files.script)
      }
      send(res, 404, { error: 'not found' })
    } catch (error) {
      if (error instanceof ApiError) return sendError(res, 200, error.kind, error.message)
      sendError(res, 500, 'GeneralError', (error as Error).message)
    }
  })

  // A busy port rejects (with the listen error: code EADDRINUSE, and its port).
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const listening = (options.host ?? '127.0.0.1').toLowerCase()
  for (const name of LOOPBACK.has(listening) ? LOOPBACK : new Set([...LOOPBACK, listening])) {
    hosts.add(`${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`)
  }
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`
  return {
    /** Base URL of the emulator; the client's `baseUrl`, and the web console at `/`. */
    url,
    port,
    /** Deliver and wait for every result (after retries). */
    trigger: engine.trigger,
    /** Every event inside the emulator (API calls, handshakes, deliveries, attempts). */
    on: (listener: Listener) => bus.on(listener),
    /** A webhook's current key (as `listWebhook` shows it). */
    keyOf: (webhookId: string) => webhooks.get(webhookId)?.key,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A running emulator, as `startEmulator` returns it: its URL, `trigger`, `close` and the live log. */
export type Emulator = Awaited<ReturnType<typeof startEmulator>>
export type { Attempt, Delivery, EmulatorEvent } from './bus.js'
export { subscribes, type TriggerInput } from './delivery.js'
export { formatEvent } from './live-log.js'
export type { DeliveryLogEntry, DeliveryResult } from './store.js'
