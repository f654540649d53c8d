import { randomBytes, randomInt } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DEFAULT_EVENTS_FIELD, HANDSHAKE_BODY, signDelivery } from '../src/index.js'
import { SAMPLE_TYPES, sampleEvent } from './samples.js'

/**
 * A local stand-in for SendClean's webhook side: the six `/settings/*` calls, the handshake on
 * add/edit, a key per webhook, and signed, retried deliveries triggered over HTTP.
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
}

interface StoredWebhook {
  webhook_id: string
  url: string
  event: string
  description: string
  store_log: 'Enable' | 'Disable'
  key: string
  create_date: number
  last_success: number | null
  total_event: number
}

export interface DeliveryLogEntry {
  time: string
  webhookId: string
  url: string
  events: number
  status: number | null
  attempts: number
  ok: boolean
  error?: string
  body: string
}

export interface DeliveryResult {
  webhookId: string
  url: string
  events: number
  status: number | null
  attempts: number
  ok: boolean
  error?: string
}

export interface TriggerInput {
  /** Event types to generate (`count` of each); ignored when `payload` is given. */
  events?: string[]
  count?: number
  /** Events per POST. Default 100. */
  batch?: number
  /** Raw events to deliver as they are. */
  payload?: Array<Record<string, unknown>>
  /** Only this webhook. */
  webhookId?: string
}

const SUBSCRIBABLE = new Set([
  'send',
  'delivered',
  'open',
  'click',
  'soft_bounce',
  'hard_bounce',
  'spam',
])

class ApiError extends Error {
  constructor(
    readonly kind: 'ValidationError' | 'GeneralError' | 'AuthenticationError',
    message: string,
  ) {
    super(message)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const now = () => Math.floor(Date.now() / 1000)

/** `delivered` is not in SendClean's subscription list: it goes to webhooks that take `send` (or list `delivered`). */
export function subscribes(webhook: { event: string }, type: string): boolean {
  const list = webhook.event
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
  if (list.length === 0) return true
  if (list.includes(type)) return true
  return type === 'delivered' && list.includes('send')
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  const parsed = JSON.parse(text)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('not an object')
  return parsed
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** Start the emulator. Resolves once it listens. */
export async function startEmulator(options: EmulatorOptions) {
  const attempts = options.attempts ?? 5
  const retryDelayMs = options.retryDelayMs ?? 1000
  const timeoutMs = options.timeoutMs ?? 10_000
  const webhooks = new Map<string, StoredWebhook>()
  const logs = new Map<string, DeliveryLogEntry[]>()

  if (options.dataFile && existsSync(options.dataFile)) {
    const saved = JSON.parse(readFileSync(options.dataFile, 'utf8')) as {
      webhooks?: StoredWebhook[]
    }
    for (const webhook of saved.webhooks ?? []) webhooks.set(webhook.webhook_id, webhook)
  }
  const persist = () => {
    if (!options.dataFile) return
    const tmp = `${options.dataFile}.tmp`
    writeFileSync(tmp, JSON.stringify({ webhooks: [...webhooks.values()] }, null, 2))
    renameSync(tmp, options.dataFile)
  }

  async function request(
    url: string,
    init: RequestInit,
  ): Promise<{ status: number; text: string }> {
    const res = await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    })
    return { status: res.status, text: await res.text() }
  }

  /** SendClean's check on add/edit: the URL must answer exactly the handshake body. */
  async function handshake(url: string): Promise<void> {
    let seen = ''
    try {
      const get = await request(url, { method: 'GET' })
      if (get.status >= 200 && get.status < 300 && get.text === HANDSHAKE_BODY) return
      seen = `GET answered ${get.status}`
      // Like Mandrill, fall back to a POST of an empty batch signed with a placeholder key.
      const empty = await signDelivery({ key: 'placeholder-key', url, events: [] })
      const post = await request(url, { method: 'POST', ...empty })
      if (post.status >= 200 && post.status < 300 && post.text === HANDSHAKE_BODY) return
      seen += `, POST answered ${post.status} ${JSON.stringify(post.text.slice(0, 60))}`
    } catch (error) {
      seen += `${seen ? ', ' : ''}${(error as Error).message}`
    }
    throw new ApiError(
      'ValidationError',
      `url must always respond 'God bless you, SendClean' (${seen})`,
    )
  }

  function required(params: Record<string, unknown>, name: string): string {
    const value = params[name]
    if (typeof value !== 'string' || value === '')
      throw new ApiError('ValidationError', `${name} is required`)
    return value
  }

  function find(params: Record<string, unknown>): StoredWebhook {
    const id = required(params, 'webhook_id')
    const webhook = webhooks.get(id)
    if (!webhook) throw new ApiError('ValidationError', 'Invalid webhook_id')
    return webhook
  }

  function events(params: Record<string, unknown>): string {
    if (params.event === undefined)
      return [...SUBSCRIBABLE].filter((e) => e !== 'delivered').join(',')
    if (typeof params.event !== 'string')
      throw new ApiError('ValidationError', 'event must be a string')
    const list = params.event
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    const bad = list.find((e) => !SUBSCRIBABLE.has(e))
    if (bad) throw new ApiError('ValidationError', `Invalid event: ${bad}`)
    return list.join(',')
  }

  function storeLog(value: unknown, fallback: 'Enable' | 'Disable'): 'Enable' | 'Disable' {
    if (value === undefined) return fallback
    if (value !== 'Enable' && value !== 'Disable')
      throw new ApiError('ValidationError', "store_log must be 'Enable' or 'Disable'")
    return value
  }

  const newKey = () => randomBytes(16).toString('base64url').slice(0, 22)

  const api: Record<string, (params: Record<string, unknown>) => Promise<Record<string, unknown>>> =
    {
      async addWebhook(params) {
        const url = required(params, 'url')
        const event = events(params)
        const log = storeLog(params.store_log, 'Disable')
        await handshake(url)
        const id = `${Date.now()}${String(randomInt(1e8)).padStart(8, '0')}`
        webhooks.set(id, {
          webhook_id: id,
          url,
          event,
          description: typeof params.description === 'string' ? params.description : '',
          store_log: log,
          key: newKey(),
          create_date: now(),
          last_success: null,
          total_event: 0,
        })
        persist()
        return { message: 'Webhook Added' }
      },
      async editWebhook(params) {
        const webhook = find(params)
        const url = required(params, 'url')
        const event = params.event === undefined ? webhook.event : events(params)
        const log = storeLog(params.store_log, webhook.store_log)
        await handshake(url)
        Object.assign(webhook, { url, event, store_log: log })
        if (typeof params.description === 'string') webhook.description = params.description
        persist()
        return { message: 'Webhook Edited' }
      },
      async keyResetWebhook(params) {
        const webhook = find(params)
        webhook.key = newKey()
        persist()
        return { message: 'Webhook key reseted', webhook_id: webhook.webhook_id, key: webhook.key }
      },
      async listWebhook() {
        return {
          webhook_list: [...webhooks.values()].map(
            ({ last_success, total_event, ...rest }) => rest,
          ),
        }
      },
      async deleteWebhook(params) {
        const webhook = find(params)
        webhooks.delete(webhook.webhook_id)
        logs.delete(webhook.webhook_id)
        persist()
        return { message: 'Webhook Deleted' }
      },
      async getWebhookInfo(params) {
        return { webhook_data: { ...find(params) } }
      },
    }

  async function deliver(
    webhook: StoredWebhook,
    batch: Array<Record<string, unknown>>,
  ): Promise<DeliveryResult> {
    const delivery = await signDelivery({
      key: webhook.key,
      url: webhook.url,
      events: batch,
      field: DEFAULT_EVENTS_FIELD,
    })
    let status: number | null = null
    let error: string | undefined
    let attempt = 0
    while (attempt < attempts) {
      attempt++
      try {
        status = (await request(webhook.url, { method: 'POST', ...delivery })).status
        error = undefined
        if (status >= 200 && status < 300) break
      } catch (caught) {
        status = null
        error = (caught as Error).message
      }
      if (attempt < attempts)
        await sleep(retryDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2))
    }
    const ok = status !== null && status >= 200 && status < 300
    if (ok) {
      webhook.last_success = now()
      webhook.total_event += batch.length
      persist()
    }
    const result: DeliveryResult = {
      webhookId: webhook.webhook_id,
      url: webhook.url,
      events: batch.length,
      status,
      attempts: attempt,
      ok,
      ...(error ? { error } : {}),
    }
    if (webhook.store_log === 'Enable') {
      const log = logs.get(webhook.webhook_id) ?? []
      log.push({ ...result, time: new Date().toISOString(), body: delivery.body })
      logs.set(webhook.webhook_id, log.slice(-100))
    }
    return result
  }

  /** Deliver generated or given events to every subscribed webhook, in batches. */
  async function trigger(input: TriggerInput): Promise<DeliveryResult[]> {
    let all: Array<Record<string, unknown>>
    if (input.payload) {
      all = input.payload
    } else {
      const types = input.events?.length ? input.events : SAMPLE_TYPES
      const bad = types.find((t) => !(SAMPLE_TYPES as readonly string[]).includes(t))
      if (bad) throw new ApiError('ValidationError', `unknown event type ${bad}`)
      all = []
      for (const type of types) {
        for (let i = 0; i < (input.count ?? 1); i++)
          all.push(sampleEvent(type as (typeof SAMPLE_TYPES)[number]))
      }
    }
    const size = Math.max(1, input.batch ?? 100)
    const targets = [...webhooks.values()].filter(
      (w) => !input.webhookId || w.webhook_id === input.webhookId,
    )
    const results = await Promise.all(
      targets.map(async (webhook) => {
        const mine = all.filter((e) => subscribes(webhook, String(e.event)))
        const out: DeliveryResult[] = []
        for (let i = 0; i < mine.length; i += size)
          out.push(await deliver(webhook, mine.slice(i, i + size)))
        return out
      }),
    )
    return results.flat()
  }

  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost')
    try {
      const settings = /\/settings\/([A-Za-z]+)$/.exec(pathname)
      if (settings && req.method === 'POST') {
        const handler = api[settings[1] as string]
        if (!handler)
          return send(res, 404, {
            status: 'error',
            code: -1,
            name: 'GeneralError',
            message: 'Unknown method',
          })
        let params: Record<string, unknown>
        try {
          params = await readJson(req)
        } catch {
          return send(res, 200, {
            status: 'error',
            code: -1,
            name: 'ValidationError',
            message: 'Invalid JSON',
          })
        }
        if (params.owner_id !== options.ownerId || params.token !== options.token) {
          throw new ApiError('AuthenticationError', 'Token MissMatch')
        }
        return send(res, 200, { status: 'success', ...(await handler(params)) })
      }
      if (pathname === '/emulator/trigger' && req.method === 'POST') {
        const input = (await readJson(req)) as TriggerInput
        return send(res, 200, { deliveries: await trigger(input) })
      }
      const log = /^\/emulator\/webhooks\/([^/]+)\/log$/.exec(pathname)
      if (log && req.method === 'GET') {
        const webhook = webhooks.get(log[1] as string)
        if (!webhook) return send(res, 404, { error: 'no such webhook' })
        if (webhook.store_log !== 'Enable')
          return send(res, 409, { error: 'store_log is Disable for this webhook' })
        return send(res, 200, { log: logs.get(webhook.webhook_id) ?? [] })
      }
      send(res, 404, { error: 'not found' })
    } catch (error) {
      if (error instanceof ApiError) {
        return send(res, 200, {
          status: 'error',
          code: -1,
          name: error.kind,
          message: error.message,
        })
      }
      send(res, 500, {
        status: 'error',
        code: -1,
        name: 'GeneralError',
        message: (error as Error).message,
      })
    }
  })

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  )
  const { port } = server.address() as AddressInfo
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`
  return {
    /** Base URL of the emulator; the client's `baseUrl`. */
    url,
    port,
    trigger,
    /** A webhook's current key (as `listWebhook` shows it). */
    keyOf: (webhookId: string) => webhooks.get(webhookId)?.key,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export type Emulator = Awaited<ReturnType<typeof startEmulator>>
export { SAMPLE_TYPES, sampleEvent } from './samples.js'
