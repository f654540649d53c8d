import { DEFAULT_EVENTS_FIELD, type EventName, signDelivery } from '../src/index.js'
import { backoffMs, sleep } from '../src/internal.js'
import { SAMPLE_TYPES, sampleEvent } from './samples.js'
import {
  ApiError,
  type DeliveryResult,
  nowSeconds,
  type Requester,
  type Store,
  type StoredWebhook,
} from './store.js'

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

/** A request to a receiver, bounded by `timeoutMs`; redirects are not followed. */
export function requester(timeoutMs: number): Requester {
  return async (url, init) => {
    const res = await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    })
    return { status: res.status, text: await res.text() }
  }
}

/**
 * `delivered` is not in SendClean's subscription list: it goes to webhooks that take `send`
 * (or list `delivered`). A webhook with no list gets everything.
 */
export function subscribes(webhook: { event: string }, type: string): boolean {
  const list = webhook.event
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
  if (list.length === 0 || list.includes(type)) return true
  return type === 'delivered' && list.includes('send')
}

const ok = (status: number | null) => status !== null && status >= 200 && status < 300

export function createDelivery(
  store: Store,
  request: Requester,
  { attempts, retryDelayMs }: { attempts: number; retryDelayMs: number },
) {
  /** POST one signed batch, retrying non-2xx answers and failures with backoff and jitter. */
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
        if (ok(status)) break
      } catch (caught) {
        status = null
        error = (caught as Error).message
      }
      if (attempt < attempts) await sleep(backoffMs(retryDelayMs, attempt - 1, 0.5))
    }
    if (ok(status)) {
      webhook.last_success = nowSeconds()
      webhook.total_event += batch.length
      store.persist()
    }
    const result: DeliveryResult = {
      webhookId: webhook.webhook_id,
      url: webhook.url,
      events: batch.length,
      status,
      attempts: attempt,
      ok: ok(status),
      ...(error ? { error } : {}),
    }
    if (webhook.store_log === 'Enable') {
      const log = store.logs.get(webhook.webhook_id) ?? []
      log.push({ ...result, time: new Date().toISOString(), body: delivery.body })
      store.logs.set(webhook.webhook_id, log.slice(-100))
    }
    return result
  }

  /** Deliver generated or given events to every subscribed webhook, in batches. */
  return async function trigger(input: TriggerInput): Promise<DeliveryResult[]> {
    let all: Array<Record<string, unknown>>
    if (input.payload) {
      all = input.payload
    } else {
      const types = input.events?.length ? input.events : SAMPLE_TYPES
      const bad = types.find((t) => !(SAMPLE_TYPES as readonly string[]).includes(t))
      if (bad) throw new ApiError('ValidationError', `unknown event type ${bad}`)
      all = types.flatMap((type) =>
        Array.from({ length: input.count ?? 1 }, () => sampleEvent(type as EventName)),
      )
    }
    const size = Math.max(1, input.batch ?? 100)
    const targets = [...store.webhooks.values()].filter(
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
}
