import { z } from 'zod'
import { backoffMs, sleep, unknownName, unknownOption } from '../src/internal.js'

/**
 * A typed client for SendClean's webhook management API (`/settings/*Webhook`). fetch-based,
 * so it runs wherever the receiver runs.
 */

/** The event types a webhook can subscribe to. `delivered` is accepted too (see the README). */
export type SubscribableEvent =
  | 'send'
  | 'delivered'
  | 'open'
  | 'click'
  | 'soft_bounce'
  | 'hard_bounce'
  | 'spam'

/** The account to call SendClean's management API as, and how to call it. */
export interface ClientOptions {
  ownerId: string
  token: string
  /** Default `https://api.sendclean.net/v1.0`. */
  baseUrl?: string
  /** White-label app domain, sent as `SendCleanTES_APP_DOMAIN`. */
  appDomain?: string
  fetch?: typeof fetch
  /** Per attempt. Default 10 s. */
  timeoutMs?: number
  /**
   * Retries, with backoff. Every call is retried after a 429 (the rate limiter refused it, so
   * nothing was applied); only the idempotent calls (`listWebhooks`, `getWebhook`,
   * `editWebhook`) also after a 5xx, a network failure or a timeout, since the request may
   * have reached SendClean and a repeated `addWebhook` could create a second webhook. Default 3.
   */
  retries?: number
  /** Base of the exponential backoff (full jitter). Default 500 ms. */
  retryDelayMs?: number
}

/** A webhook to add or edit: its URL and the event types it subscribes to. */
export interface WebhookInput {
  url: string
  events?: readonly SubscribableEvent[]
  description?: string
  storeLog?: boolean
}

/** A webhook as SendClean returns it, with its signing key. */
export interface Webhook {
  webhookId: string
  url: string
  events: SubscribableEvent[]
  description: string
  storeLog: boolean
  /** Always a string, though the documentation calls it an integer. */
  key: string
  createdAt: Date | null
}

/** A webhook with its delivery statistics (`getWebhook`). */
export interface WebhookInfo extends Webhook {
  lastSuccess: Date | null
  totalEvents: number
}

/**
 * What went wrong, for {@link SendCleanApiError}: SendClean answered `status: "error"`
 * (`validation`, `general`, `authentication`: its `name`), a non-200 HTTP answer after the
 * retries (`http`), no answer (`network`, `timeout`), an answer that is not what the API
 * documents (`response`), or the client was created with unusable options (`configuration`).
 * `validation` is also what the client throws, before it sends anything, for input SendClean
 * could not take: a `url` that is not absolute, an unknown event type or field, no webhook id.
 */
export type ClientErrorKind =
  | 'validation'
  | 'general'
  | 'authentication'
  | 'http'
  | 'network'
  | 'timeout'
  | 'response'
  | 'configuration'

/**
 * The one error the client throws; switch on `kind`. Never contains the token.
 *
 * @example
 * try { await client.addWebhook({ url }) } catch (error) {
 *   if (error instanceof SendCleanApiError && error.kind === 'validation') console.log(error.apiMessage)
 * }
 */
export class SendCleanApiError extends Error {
  override name = 'SendCleanApiError'
  readonly kind: ClientErrorKind
  /** The API method (`addWebhook`, …), when a call failed. */
  readonly method: string | undefined
  /** The HTTP status, for `http` (429 when rate limited). */
  readonly status: number | undefined
  /** SendClean's `code` and `message`, for `validation`, `general` and `authentication`. */
  readonly code: number | undefined
  readonly apiMessage: string | undefined

  constructor(
    kind: ClientErrorKind,
    message: string,
    details: {
      method?: string
      status?: number
      code?: number
      apiMessage?: string
      cause?: unknown
    } = {},
  ) {
    const where = details.method ? `${details.method}: ` : ''
    super(`sendclean-webhooks client: ${where}${message}`, { cause: details.cause })
    this.kind = kind
    this.method = details.method
    this.status = details.status
    this.code = details.code
    this.apiMessage = details.apiMessage
  }
}

function httpError(method: string, status: number): SendCleanApiError {
  return new SendCleanApiError('http', `HTTP ${status}`, { method, status })
}

const KINDS: Record<string, ClientErrorKind> = {
  ValidationError: 'validation',
  GeneralError: 'general',
  AuthenticationError: 'authentication',
}

const numeric = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
const seconds = z
  .union([numeric, z.null(), z.literal('')])
  .optional()
  .transform((value) => (typeof value === 'number' && value > 0 ? new Date(value * 1000) : null))

const webhookWire = z
  .looseObject({
    webhook_id: z.union([z.string(), z.number()]).transform(String),
    url: z.string(),
    event: z.string().optional().default(''),
    description: z.string().nullish().default(''),
    store_log: z.string().optional().default('Disable'),
    key: z.union([z.string(), z.number()]).transform(String),
    create_date: seconds,
  })
  .transform(
    (w): Webhook => ({
      webhookId: w.webhook_id,
      url: w.url,
      events: w.event
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean) as SubscribableEvent[],
      description: w.description ?? '',
      storeLog: w.store_log.toLowerCase() === 'enable',
      key: w.key,
      createdAt: w.create_date,
    }),
  )

const infoWire = z
  .looseObject({
    webhook_data: z.looseObject({
      last_success: seconds,
      total_event: numeric.optional().default(0),
    }),
  })
  .transform((r) => r.webhook_data)

const envelope = z.discriminatedUnion('status', [
  z.looseObject({ status: z.literal('success') }),
  z.looseObject({
    status: z.literal('error'),
    code: numeric.optional().default(-1),
    name: z.string(),
    message: z.string().optional().default(''),
  }),
])

/** The documented `listWebhook` example single-quotes a value; be lenient about that one quirk. */
function parseLenient(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    const fixed = text.replace(/:\s*'([^'"\\\n]*)'/g, ':"$1"')
    if (fixed === text) throw error
    return JSON.parse(fixed)
  }
}

/** A content-type as an error may quote it: its media type only, and short. */
function excerptType(type: string): string {
  return (type.split(';')[0] ?? '').trim().slice(0, 64) || 'no content-type'
}

/** The event types SendClean takes in a subscription (and `delivered`, see SubscribableEvent). */
const SUBSCRIBABLE: readonly SubscribableEvent[] = [
  'send',
  'delivered',
  'open',
  'click',
  'soft_bounce',
  'hard_bounce',
  'spam',
]

const INPUT_FIELDS = {
  url: true,
  events: true,
  description: true,
  storeLog: true,
} satisfies Record<keyof WebhookInput, true>

function refuseInput(method: string, message: string): never {
  throw new SendCleanApiError('validation', message, { method })
}

/**
 * Refuses, before anything is sent, a webhook SendClean could not take as meant: a misspelt
 * field or event type would otherwise be dropped or subscribe the webhook to nothing.
 */
function checkInput(method: string, input: Partial<WebhookInput>): void {
  if (typeof input !== 'object' || input === null) {
    refuseInput(method, 'takes the webhook as an object: { url, events, description, storeLog }')
  }
  const unknown = unknownOption(input, INPUT_FIELDS)
  if (unknown !== undefined) refuseInput(method, unknown.replace('unknown option', 'unknown field'))
  const { url, events, description, storeLog } = input
  if ((method === 'addWebhook' || url !== undefined) && !isHttpUrl(url)) {
    refuseInput(method, '`url` must be the absolute http(s) URL of your receiver')
  }
  if (events !== undefined) {
    if (!Array.isArray(events)) refuseInput(method, '`events` must be an array of event types')
    for (const type of events) {
      if (!SUBSCRIBABLE.includes(type)) {
        refuseInput(method, unknownName('event type', type, SUBSCRIBABLE))
      }
    }
  }
  if (description !== undefined && typeof description !== 'string') {
    refuseInput(method, '`description` must be a string')
  }
  if (storeLog !== undefined && typeof storeLog !== 'boolean') {
    refuseInput(method, '`storeLog` must be true or false')
  }
}

function isHttpUrl(url: unknown): boolean {
  if (typeof url !== 'string') return false
  try {
    const { protocol } = new URL(url)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

/** A webhook id as given: without one, SendClean would be asked about no webhook. */
function idOf(method: string, webhookId: unknown): string | number {
  if ((typeof webhookId === 'string' && webhookId !== '') || Number.isSafeInteger(webhookId)) {
    return webhookId as string | number
  }
  return refuseInput(method, '`webhookId` must be the id of a webhook (listWebhooks gives them)')
}

/** Calls that can be repeated without a second effect: only these are retried after a 5xx. */
const IDEMPOTENT = new Set(['listWebhook', 'getWebhookInfo', 'editWebhook'])

/** Every option of {@link createClient}: another name (a misspelt `timeoutMs`) is refused. */
const CLIENT_OPTIONS = {
  ownerId: true,
  token: true,
  baseUrl: true,
  appDomain: true,
  fetch: true,
  timeoutMs: true,
  retries: true,
  retryDelayMs: true,
} satisfies Record<keyof ClientOptions, true>

/**
 * The management API, typed.
 *
 * @example
 * const client = createClient({ ownerId: process.env.SENDCLEAN_OWNER_ID!, token: process.env.SENDCLEAN_TOKEN! })
 * const hook = await client.addWebhook({ url: 'https://example.com/webhooks/sendclean', events: ['hard_bounce', 'spam'] })
 * console.log(hook.webhookId, hook.key)
 */
export function createClient(options: ClientOptions) {
  if (!options?.ownerId || !options.token) {
    throw new SendCleanApiError('configuration', 'ownerId and token are required')
  }
  const problem = unknownOption(options, CLIENT_OPTIONS)
  if (problem !== undefined) throw new SendCleanApiError('configuration', problem)
  const baseUrl = (options.baseUrl ?? 'https://api.sendclean.net/v1.0').replace(/\/+$/, '')
  const doFetch = options.fetch ?? globalThis.fetch
  const timeoutMs = options.timeoutMs ?? 10_000
  const retries = options.retries ?? 3
  const retryDelayMs = options.retryDelayMs ?? 500

  async function attempt(method: string, body: string): Promise<Response> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeoutMs)
    try {
      return await doFetch(`${baseUrl}/settings/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: controller.signal,
      })
    } catch (cause) {
      if (controller.signal.aborted)
        throw new SendCleanApiError('timeout', `no answer within ${timeoutMs} ms`, { method })
      // The cause may quote the request; keep only its message, which never holds the body.
      throw new SendCleanApiError(
        'network',
        `request failed (${(cause as Error)?.message ?? 'unknown'})`,
        { method },
      )
    } finally {
      clearTimeout(timer)
    }
  }

  /** Wait before retry number `retry` (0-based): Retry-After when given, else jittered backoff. */
  function pause(retry: number, res?: Response): Promise<unknown> {
    const after = Number(res?.headers.get('retry-after'))
    const wait = Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 60_000) : undefined
    return sleep(wait ?? backoffMs(retryDelayMs, retry))
  }

  async function call(
    method: string,
    params: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const idempotent = IDEMPOTENT.has(method)
    const body = JSON.stringify({
      owner_id: options.ownerId,
      token: options.token,
      ...(options.appDomain ? { SendCleanTES_APP_DOMAIN: options.appDomain } : {}),
      ...params,
    })
    for (let retry = 0; ; retry++) {
      let res: Response
      try {
        res = await attempt(method, body)
      } catch (error) {
        // The request may have been applied before the connection failed or the time ran out.
        if (!idempotent || retry >= retries) throw error
        await pause(retry)
        continue
      }
      if (res.status === 429 || (idempotent && res.status >= 500)) {
        await res.body?.cancel()
        if (retry >= retries) throw httpError(method, res.status)
        await pause(retry, res)
        continue
      }
      if (!res.ok) {
        await res.body?.cancel()
        throw httpError(method, res.status)
      }
      const text = await res.text()
      let parsed: unknown
      try {
        parsed = parseLenient(text)
      } catch {
        // Not JSON.parse's error as the cause: its message quotes the answer, which can hold
        // webhook keys. What kind of answer it was is enough to tell a proxy's error page.
        const type = res.headers.get('content-type') ?? 'no content-type'
        throw new SendCleanApiError(
          'response',
          `the answer is not JSON (${excerptType(type)}, ${text.length} characters)`,
          { method },
        )
      }
      const result = envelope.safeParse(parsed)
      if (!result.success) {
        throw new SendCleanApiError('response', 'the answer has no valid status', { method })
      }
      const answer = result.data
      if (answer.status === 'error') {
        throw new SendCleanApiError(
          KINDS[answer.name] ?? 'general',
          `${answer.name}: ${answer.message}`,
          { method, code: answer.code, apiMessage: answer.message },
        )
      }
      return answer
    }
  }

  function shape<T>(method: string, schema: z.ZodType<T>, value: unknown): T {
    const result = schema.safeParse(value)
    if (!result.success) {
      throw new SendCleanApiError(
        'response',
        `unexpected answer: ${z.prettifyError(result.error)}`,
        {
          method,
        },
      )
    }
    return result.data
  }

  function wire(method: string, input: Partial<WebhookInput>): Record<string, unknown> {
    checkInput(method, input)
    const out: Record<string, unknown> = {}
    if (input.url !== undefined) out.url = input.url
    if (input.events !== undefined) out.event = input.events.join(',')
    if (input.description !== undefined) out.description = input.description
    if (input.storeLog !== undefined) out.store_log = input.storeLog ? 'Enable' : 'Disable'
    return out
  }

  async function listWebhooks(): Promise<Webhook[]> {
    const answer = await call('listWebhook', {})
    return shape('listWebhook', z.array(webhookWire), answer.webhook_list ?? [])
  }

  return {
    /**
     * Add a webhook (SendClean sends its handshake to `url` first) and return it, with its id
     * and signing key. SendClean answers the call with a message only, so the webhook is then
     * read back with `listWebhook`: the newest one for `url`.
     */
    async addWebhook(input: WebhookInput): Promise<Webhook & { message: string }> {
      const answer = await call('addWebhook', wire('addWebhook', input))
      const message = String(answer.message ?? '')
      const added = (await listWebhooks())
        .filter((w) => w.url === input.url)
        .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0]
      if (!added) {
        throw new SendCleanApiError(
          'response',
          'the webhook was added, but listWebhook does not show it',
          { method: 'addWebhook' },
        )
      }
      return { ...added, message }
    },
    async editWebhook(webhookId: string, input: WebhookInput): Promise<{ message: string }> {
      const answer = await call('editWebhook', {
        webhook_id: idOf('editWebhook', webhookId),
        ...wire('editWebhook', input),
      })
      return { message: String(answer.message ?? '') }
    },
    /** SendClean signs with the new key at once: deploy it to the receiver alongside the old one. */
    async resetWebhookKey(webhookId: string): Promise<{ webhookId: string; key: string }> {
      const answer = await call('keyResetWebhook', {
        webhook_id: idOf('keyResetWebhook', webhookId),
      })
      return shape(
        'keyResetWebhook',
        z
          .looseObject({
            webhook_id: z.union([z.string(), z.number()]).transform(String),
            key: z.union([z.string(), z.number()]).transform(String),
          })
          .transform((a) => ({ webhookId: a.webhook_id, key: a.key })),
        answer,
      )
    },
    listWebhooks,
    async deleteWebhook(webhookId: string): Promise<{ message: string }> {
      const answer = await call('deleteWebhook', { webhook_id: idOf('deleteWebhook', webhookId) })
      return { message: String(answer.message ?? '') }
    },
    async getWebhook(webhookId: string): Promise<WebhookInfo> {
      const answer = await call('getWebhookInfo', { webhook_id: idOf('getWebhookInfo', webhookId) })
      const base = shape('getWebhookInfo', webhookWire, (answer.webhook_data as object) ?? {})
      const extra = shape('getWebhookInfo', infoWire, answer)
      return { ...base, lastSuccess: extra.last_success, totalEvents: extra.total_event }
    },
  }
}

/** What `createClient` returns: one method per webhook call of the management API. */
export type SendCleanClient = ReturnType<typeof createClient>
