import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createDelivery, requester, type TriggerInput } from './delivery.js'
import { createSettingsApi } from './settings.js'
import { ApiError, openStore } from './store.js'

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

/** An answer in SendClean's error envelope (HTTP 200 but for the emulator's own 404 and 500). */
function sendError(res: ServerResponse, status: number, name: ApiError['kind'], message: string) {
  send(res, status, { status: 'error', code: -1, name, message })
}

/** Start the emulator. Resolves once it listens. */
export async function startEmulator(options: EmulatorOptions) {
  const attempts = options.attempts ?? 5
  const retryDelayMs = options.retryDelayMs ?? 1000
  const timeoutMs = options.timeoutMs ?? 10_000
  const store = openStore(options.dataFile)
  const { webhooks, logs } = store
  const request = requester(timeoutMs)
  const api = createSettingsApi(store, request)
  const trigger = createDelivery(store, request, { attempts, retryDelayMs })

  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost')
    try {
      const settings = /\/settings\/([A-Za-z]+)$/.exec(pathname)
      if (settings && req.method === 'POST') {
        const handler = api[settings[1] as string]
        if (!handler) return sendError(res, 404, 'GeneralError', 'Unknown method')
        let params: Record<string, unknown>
        try {
          params = await readJson(req)
        } catch {
          return sendError(res, 200, 'ValidationError', 'Invalid JSON')
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
      if (error instanceof ApiError) return sendError(res, 200, error.kind, error.message)
      sendError(res, 500, 'GeneralError', (error as Error).message)
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
export { subscribes, type TriggerInput } from './delivery.js'
export { messageId, SAMPLE_TYPES, sampleEvent } from './samples.js'
export type { DeliveryLogEntry, DeliveryResult } from './store.js'
