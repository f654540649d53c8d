import { randomBytes, randomInt } from 'node:crypto'
import { EVENT_NAMES, HANDSHAKE_BODY } from '../src/index.js'
import { signDelivery } from '../testing/index.js'
import type { Bus } from './bus.js'
import {
  ApiError,
  causeOf,
  nowSeconds,
  type Requester,
  type Store,
  type StoredWebhook,
} from './store.js'

type Params = Record<string, unknown>
export type SettingsApi = Record<string, (params: Params) => Promise<Record<string, unknown>>>

const SUBSCRIBABLE = new Set<string>(EVENT_NAMES)

function required(params: Params, name: string): string {
  const value = params[name]
  if (typeof value !== 'string' || value === '')
    throw new ApiError('ValidationError', `${name} is required`)
  return value
}

/** The comma-separated `event` list; unset means SendClean's documented list. */
function events(params: Params): string {
  if (params.event === undefined) return EVENT_NAMES.filter((e) => e !== 'delivered').join(',')
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
  if (value !== 'Enable' && value !== 'Disable') {
    throw new ApiError('ValidationError', "store_log must be 'Enable' or 'Disable'")
  }
  return value
}

const newKey = () => randomBytes(16).toString('base64url').slice(0, 22)
const newId = () => `${Date.now()}${String(randomInt(1e8)).padStart(8, '0')}`

/** SendClean's check on add/edit: the URL must answer exactly the handshake body. */
export function createHandshake(request: Requester, bus: Bus): (url: string) => Promise<void> {
  return async function handshake(url: string): Promise<void> {
    const start = performance.now()
    const done = (ok: boolean, detail: string) =>
      bus.emit({
        type: 'handshake',
        time: new Date().toISOString(),
        url,
        ok,
        detail,
        ms: Math.round(performance.now() - start),
      })
    let seen = ''
    try {
      const get = await request(url, { method: 'GET' })
      seen = `GET answered ${get.status}`
      if (get.status >= 200 && get.status < 300 && get.text === HANDSHAKE_BODY)
        return done(true, seen)
      // Like Mandrill, fall back to a POST of an empty batch signed with a placeholder key.
      const empty = await signDelivery({ key: 'placeholder-key', url, events: [] })
      const post = await request(url, { method: 'POST', ...empty })
      if (post.status >= 200 && post.status < 300 && post.text === HANDSHAKE_BODY)
        return done(true, `${seen}, POST answered ${post.status}`)
      // Never what it said: a URL that is not a receiver may be another local service.
      seen += `, POST answered ${post.status} without the handshake body`
    } catch (error) {
      seen += `${seen ? ', ' : ''}${causeOf(error)}`
    }
    done(false, seen)
    throw new ApiError(
      'ValidationError',
      `url must always respond 'God bless you, SendClean' (${seen})`,
    )
  }
}

/** The six `/settings/*` calls, on the store. */
export function createSettingsApi(store: Store, request: Requester, bus: Bus): SettingsApi {
  const { webhooks } = store
  const handshake = createHandshake(request, bus)

  function find(params: Params): StoredWebhook {
    const webhook = webhooks.get(required(params, 'webhook_id'))
    if (!webhook) throw new ApiError('ValidationError', 'Invalid webhook_id')
    return webhook
  }

  return {
    async addWebhook(params) {
      const url = required(params, 'url')
      const event = events(params)
      const log = storeLog(params.store_log, 'Disable')
      await handshake(url)
      const id = newId()
      webhooks.set(id, {
        webhook_id: id,
        url,
        event,
        description: typeof params.description === 'string' ? params.description : '',
        store_log: log,
        key: newKey(),
        create_date: nowSeconds(),
        last_success: null,
        total_event: 0,
      })
      store.persist()
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
      store.persist()
      return { message: 'Webhook Edited' }
    },
    async keyResetWebhook(params) {
      const webhook = find(params)
      webhook.key = newKey()
      store.persist()
      return { message: 'Webhook key reseted', webhook_id: webhook.webhook_id, key: webhook.key }
    },
    async listWebhook() {
      return {
        webhook_list: [...webhooks.values()].map(({ last_success, total_event, ...rest }) => rest),
      }
    },
    async deleteWebhook(params) {
      const webhook = find(params)
      webhooks.delete(webhook.webhook_id)
      store.logs.delete(webhook.webhook_id)
      store.persist()
      return { message: 'Webhook Deleted' }
    },
    async getWebhookInfo(params) {
      return { webhook_data: { ...find(params) } }
    },
  }
}

/**
 * What `sendclean-webhooks listen --forward-to` asks for (the emulator's own call, not one of
 * SendClean's): the webhook for `url`, created, or updated when one exists, with `key` (the one
 * the CLI remembered for `url`; without it the webhook keeps its key, or gets a new one) and
 * `event`. The handshake is tried but not required: the app
 * is usually started after `listen`, with the key it prints, and deliveries retry until it
 * answers.
 */
export async function listenWebhook(
  store: Store,
  handshake: (url: string) => Promise<void>,
  params: Params,
): Promise<{ webhook: StoredWebhook; handshake: { ok: boolean; detail: string } }> {
  const url = required(params, 'url')
  try {
    new URL(url)
  } catch {
    throw new ApiError('ValidationError', 'url must be an absolute http(s) URL')
  }
  const event = params.event === undefined ? EVENT_NAMES.join(',') : events(params)
  let webhook = [...store.webhooks.values()].find((w) => w.url === url)
  // The key asked for, else the webhook's own, else a new one.
  const key = params.key === undefined ? (webhook?.key ?? newKey()) : required(params, 'key')
  if (!/^[\x21-\x7e]{1,200}$/.test(key))
    throw new ApiError('ValidationError', 'key must be 1 to 200 printable ASCII characters')
  if (webhook) Object.assign(webhook, { event, key })
  else {
    const id = newId()
    webhook = {
      webhook_id: id,
      url,
      event,
      description: 'sendclean-webhooks listen',
      store_log: 'Enable',
      key,
      create_date: nowSeconds(),
      last_success: null,
      total_event: 0,
    }
    store.webhooks.set(id, webhook)
  }
  store.persist()
  try {
    await handshake(url)
    return { webhook, handshake: { ok: true, detail: 'answered' } }
  } catch (error) {
    return { webhook, handshake: { ok: false, detail: (error as Error).message } }
  }
}
