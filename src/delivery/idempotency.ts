/**
 * De-duplication of events across retries, replays and instances. SendClean retries a whole
 * batch that was not acknowledged, and a captured request can be replayed (no timestamp is
 * signed), so a receiver with side effects must run each event's handlers once.
 *
 * The claim protocol, per event (keys are {@link eventIdentity} values; `token` is unique per
 * attempt):
 * 1. `claim(key, token, leaseMs)`, atomically: no entry → store `claimed` by `token` for
 *    `leaseMs` and answer `'claimed'`; an unexpired claim → `'busy'`; a done marker → `'done'`.
 * 2. The claimant runs the handlers, then `complete(key, token, ttlMs, outcome)` replaces the
 *    claim with a done marker kept `ttlMs`; or, when they failed, `release(key, token)` removes
 *    the claim only if `token` still holds it.
 * 3. A claim whose holder died expires after `leaseMs`, and the next delivery takes it over.
 *
 * `'busy'` makes the receiver wait (polling `claim`) until the event is done, up to
 * `handlerTimeoutMs`, then answer 503 so that SendClean retries: a duplicate is never
 * acknowledged before its original has finished.
 */
export interface IdempotencyStore {
  claim(key: string, token: string, leaseMs: number): ClaimResult | Promise<ClaimResult>
  complete(key: string, token: string, ttlMs: number, outcome: EventOutcome): void | Promise<void>
  release(key: string, token: string): void | Promise<void>
}

/** What `claim` found: the event is now yours, someone is running it, or it is done. */
export type ClaimResult = 'claimed' | 'busy' | 'done'

/** How a done event ended: handled, or skipped because the error hook said `'skip'`. */
export type EventOutcome = 'handled' | 'skipped'

type Entry =
  | { state: 'claimed'; token: string; expires: number }
  | { state: EventOutcome; expires: number }

/**
 * A bounded in-memory store: right for one process; use {@link redisStore} when several
 * instances receive the same webhook. Past `max` entries the oldest done markers are evicted
 * (claims in flight never are).
 *
 * @example
 * createExpressMiddleware({ keys, idempotency: { store: memoryStore({ max: 50_000 }) } })
 */
export function memoryStore({ max = 100_000 }: { max?: number } = {}): IdempotencyStore & {
  /** How an event ended, while it is remembered. */
  outcome(key: string): EventOutcome | undefined
  readonly size: number
} {
  // Map keeps insertion order: the first entries are the oldest, evicted first.
  const entries = new Map<string, Entry>()
  const live = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.expires <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }
  const evict = () => {
    if (entries.size <= max) return
    for (const [key, entry] of entries) {
      if (entries.size <= max) return
      if (entry.state !== 'claimed') entries.delete(key)
    }
  }
  return {
    claim(key, token, leaseMs) {
      const entry = live(key)
      if (entry) return entry.state === 'claimed' ? 'busy' : 'done'
      entries.set(key, { state: 'claimed', token, expires: Date.now() + leaseMs })
      evict()
      return 'claimed'
    },
    complete(key, _token, ttlMs, outcome) {
      entries.delete(key)
      entries.set(key, { state: outcome, expires: Date.now() + ttlMs })
      evict()
    },
    release(key, token) {
      const entry = entries.get(key)
      if (entry?.state === 'claimed' && entry.token === token) entries.delete(key)
    },
    outcome(key) {
      const state = live(key)?.state
      return state === 'claimed' ? undefined : state
    },
    get size() {
      return entries.size
    },
  }
}

/** The commands the Redis store uses; an ioredis client (or node-redis in legacy mode) fits. */
export interface RedisLike {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  set(key: string, value: string, mode: 'PX', ttlMs: number): Promise<unknown>
  get(key: string): Promise<string | null>
}

// One round trip, atomic: take the key if free, else say who holds it.
const CLAIM = `local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if string.sub(v, 1, 8) == 'claimed:' then return 'busy' end
return 'done'`

// Compare and delete: a claim that expired and was taken over is not ours to remove.
const RELEASE = `if redis.call('GET', KEYS[1]) == 'claimed:' .. ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`

const ms = (value: number) => Math.max(1, Math.round(value))

/**
 * A Redis-backed store for apps that run several instances: claims are atomic (a Lua script),
 * so two instances never run the same event at once. Takes your client; the package does not
 * depend on a Redis library.
 *
 * @example
 * import { Redis } from 'ioredis'
 * const store = redisStore(new Redis(process.env.REDIS_URL))
 */
export function redisStore(
  client: RedisLike,
  { prefix = 'sendclean-webhooks:event:' }: { prefix?: string } = {},
): IdempotencyStore & { outcome(key: string): Promise<EventOutcome | undefined> } {
  return {
    async claim(key, token, leaseMs) {
      const result = await client.eval(CLAIM, 1, prefix + key, token, ms(leaseMs))
      if (result !== 'claimed' && result !== 'busy' && result !== 'done') {
        throw new Error(`unexpected answer from the claim script: ${String(result)}`)
      }
      return result
    },
    async complete(key, _token, ttlMs, outcome) {
      await client.set(prefix + key, outcome, 'PX', ms(ttlMs))
    },
    async release(key, token) {
      await client.eval(RELEASE, 1, prefix + key, token)
    },
    async outcome(key) {
      const value = await client.get(prefix + key)
      return value === 'handled' || value === 'skipped' ? value : undefined
    },
  }
}
