import { DEFAULT_EVENTS_FIELD, type EventName } from '../src/index.js'
import { backoffMs, sleep, unknownName } from '../src/internal.js'
import { SAMPLE_TYPES, sampleEvent, signDelivery } from '../testing/index.js'
import { ANSWER_LIMIT, type Attempt, type Bus, type Delivery } from './bus.js'
import {
  ApiError,
  causeOf,
  type DeliveryResult,
  nowSeconds,
  type Requester,
  type Store,
  type StoredWebhook,
} from './store.js'

/** What to deliver: generated events of some types, or raw events as they are. */
export interface TriggerInput {
  /** Event types to generate (`count` of each); ignored when `payload` is given. */
  events?: EventName[]
  count?: number
  /** Events per POST. Default 100. */
  batch?: number
  /** Raw events to deliver as they are. */
  payload?: Array<Record<string, unknown>>
  /** Only this webhook (an unknown id is an error). */
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

/** The deliveries the emulator remembers (for the console and `GET /emulator/deliveries`). */
const KEPT_DELIVERIES = 500

function cut(text: string): string {
  return text.length > ANSWER_LIMIT ? `${text.slice(0, ANSWER_LIMIT)}…` : text
}

/** What a trigger asks for, checked: the events to send and the webhooks to send them to. */
function plan(store: Store, input: TriggerInput) {
  let all: Array<Record<string, unknown>>
  if (input.payload !== undefined) {
    if (!Array.isArray(input.payload) || input.payload.some((e) => typeof e !== 'object' || !e))
      throw new ApiError('ValidationError', 'payload must be an array of event objects')
    if (input.payload.length > MAX_COUNT * 10) {
      throw new ApiError('ValidationError', `payload holds at most ${MAX_COUNT * 10} events`)
    }
    all = input.payload
  } else {
    const types: readonly string[] = input.events?.length ? input.events : SAMPLE_TYPES
    const bad = types.find((t) => !(SAMPLE_TYPES as readonly string[]).includes(t))
    if (bad) {
      throw new ApiError('ValidationError', unknownName('event type', bad, SAMPLE_TYPES))
    }
    const count = input.count ?? 1
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_COUNT) {
      throw new ApiError('ValidationError', `count must be a whole number from 1 to ${MAX_COUNT}`)
    }
    all = types.flatMap((type) =>
      Array.from({ length: count }, () => sampleEvent(type as EventName)),
    )
  }
  if (input.webhookId !== undefined && !store.webhooks.has(input.webhookId)) {
    throw new ApiError('NotFound', `no webhook with id "${input.webhookId}"`)
  }
  const size = input.batch ?? 100
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_BATCH) {
    throw new ApiError('ValidationError', `batch must be a whole number from 1 to ${MAX_BATCH}`)
  }
  const targets = [...store.webhooks.values()].filter(
    (w) => input.webhookId === undefined || w.webhook_id === input.webhookId,
  )
  return targets.flatMap((webhook) => {
    const mine = all.filter((e) => subscribes(webhook, String(e.event)))
    const batches: Array<{ webhook: StoredWebhook; events: Array<Record<string, unknown>> }> = []
    for (let i = 0; i < mine.length; i += size)
      batches.push({ webhook, events: mine.slice(i, i + size) })
    return batches
  })
}

/** Most events of one type a trigger makes, and most events per batch (SendClean sends 1000). */
export const MAX_COUNT = 1000
export const MAX_BATCH = 1000

export function createDelivery(
  store: Store,
  request: Requester,
  bus: Bus,
  { attempts, retryDelayMs }: { attempts: number; retryDelayMs: number },
) {
  const deliveries = new Map<string, Delivery>()
  let serial = 0

  function remember(delivery: Delivery): void {
    deliveries.set(delivery.id, delivery)
    if (deliveries.size > KEPT_DELIVERIES) {
      const oldest = deliveries.keys().next().value
      if (oldest !== undefined) deliveries.delete(oldest)
    }
  }

  /** Sign one batch for a webhook and record it as pending; nothing is sent yet. */
  async function open(
    webhook: StoredWebhook,
    events: Array<Record<string, unknown>>,
  ): Promise<Delivery> {
    const signed = await signDelivery({
      key: webhook.key,
      url: webhook.url,
      events,
      field: DEFAULT_EVENTS_FIELD,
    })
    const delivery: Delivery = {
      id: `d${++serial}`,
      webhookId: webhook.webhook_id,
      url: webhook.url,
      time: new Date().toISOString(),
      types: events.map((e) => String(e.event)),
      state: 'pending',
      maxAttempts: attempts,
      attempts: [],
      request: { method: 'POST', url: webhook.url, headers: signed.headers, body: signed.body },
      events,
    }
    remember(delivery)
    bus.emit({ type: 'delivery', delivery })
    return delivery
  }

  /** POST until a 2xx or the last attempt, with backoff and jitter between attempts. */
  async function run(delivery: Delivery): Promise<DeliveryResult> {
    const { request: sent } = delivery
    for (let n = 1; n <= attempts; n++) {
      const start = performance.now()
      let attempt: Attempt
      try {
        const res = await request(sent.url, {
          method: 'POST',
          headers: sent.headers,
          body: sent.body,
        })
        attempt = {
          n,
          time: new Date().toISOString(),
          status: res.status,
          ms: Math.round(performance.now() - start),
          answer: cut(res.text),
        }
      } catch (caught) {
        attempt = {
          n,
          time: new Date().toISOString(),
          status: null,
          ms: Math.round(performance.now() - start),
          error: causeOf(caught),
          answer: '',
        }
      }
      delivery.attempts.push(attempt)
      if (ok(attempt.status)) delivery.state = 'ok'
      else if (n === attempts) delivery.state = 'failed'
      bus.emit({ type: 'attempt', delivery, attempt })
      if (delivery.state !== 'pending') break
      await sleep(backoffMs(retryDelayMs, n - 1, 0.5))
    }
    return finish(delivery)
  }

  function finish(delivery: Delivery): DeliveryResult {
    const webhook = store.webhooks.get(delivery.webhookId)
    const last = delivery.attempts.at(-1)
    if (webhook && delivery.state === 'ok') {
      webhook.last_success = nowSeconds()
      webhook.total_event += delivery.types.length
      store.persist()
      bus.emit({ type: 'webhooks' })
    }
    const result: DeliveryResult = {
      id: delivery.id,
      webhookId: delivery.webhookId,
      url: delivery.url,
      events: delivery.types.length,
      status: last?.status ?? null,
      attempts: delivery.attempts.length,
      ok: delivery.state === 'ok',
      ...(last?.error ? { error: last.error } : {}),
      ...(last && !ok(last.status) && last.answer ? { answer: last.answer } : {}),
    }
    if (webhook?.store_log === 'Enable') {
      const log = store.logs.get(webhook.webhook_id) ?? []
      log.push({ ...result, time: delivery.time, body: delivery.request.body })
      store.logs.set(webhook.webhook_id, log.slice(-100))
    }
    return result
  }

  /**
   * Start delivering: resolves once every batch is signed and recorded, with the deliveries
   * (still pending) and a promise of their results.
   */
  async function start(input: TriggerInput) {
    const opened: Delivery[] = []
    for (const { webhook, events } of plan(store, input)) opened.push(await open(webhook, events))
    // Webhooks in parallel; one webhook's batches in order, as SendClean sends them.
    const byWebhook = new Map<string, Delivery[]>()
    for (const d of opened) {
      const list = byWebhook.get(d.webhookId)
      if (list) list.push(d)
      else byWebhook.set(d.webhookId, [d])
    }
    const done = Promise.all(
      [...byWebhook.values()].map(async (list) => {
        const results: DeliveryResult[] = []
        for (const delivery of list) results.push(await run(delivery))
        return results
      }),
    ).then((lists) => {
      const byId = new Map(lists.flat().map((r) => [r.id, r]))
      return opened.map((d) => byId.get(d.id) as DeliveryResult)
    })
    return { deliveries: opened, done }
  }

  return {
    start,
    /** Deliver and wait for every result (after retries). */
    async trigger(input: TriggerInput): Promise<DeliveryResult[]> {
      return (await start(input)).done
    },
    /** Send a remembered delivery's events again, signed with the webhook's current key. */
    async replay(id: string) {
      const delivery = deliveries.get(id)
      if (!delivery) throw new ApiError('NotFound', `no delivery with id "${id}"`)
      const webhook = store.webhooks.get(delivery.webhookId)
      if (!webhook) throw new ApiError('NotFound', 'its webhook was deleted')
      const again = await open(webhook, delivery.events)
      return { deliveries: [again], done: run(again).then((r) => [r]) }
    },
    get: (id: string) => deliveries.get(id),
    list: () => [...deliveries.values()],
  }
}

export type DeliveryEngine = ReturnType<typeof createDelivery>
