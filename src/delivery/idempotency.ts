import {
  configurationError,
  positiveInteger,
  refuseUnknownOptions,
  requireMethods,
} from '../errors.js'

/**
 * De-duplication of events across retries, replays and instances. SendClean retries a whole
 * batch that was not acknowledged, and a captured request can be replayed (no timestamp is
 * signed), so a receiver with side effects must run each event's handlers once.
 *
 * The claim protocol, per event (keys are the webhook's namespace and the event's identity;
 * `token` is unique per attempt; every write but the claim happens only while `token` holds it):
 * 1. `claim(key, token, leaseMs)`, atomically: no claim and no done marker → store a claim by
 *    `token` for `leaseMs` and answer how many of the event's handlers completed in earlier
 *    attempts (`{ handlersDone: 0 }` for a new event); an unexpired claim → `'busy'`; a done
 *    marker → `'done'`.
 * 2. While the handlers run, `renew(key, token, leaseMs)` extends the claim well inside
 *    `leaseMs` (false: the claim was lost, someone else may now run the event).
 * 3. After each handler but the last, `progress(key, token, handlersDone, ttlMs)` records it
 *    for `ttlMs`, so a later attempt runs only the handlers that have not completed (also
 *    when this one's holder dies).
 * 4. Then `complete(key, token, ttlMs, outcome)` replaces the claim with a done marker kept
 *    `ttlMs` (and forgets the progress); or, when a handler failed, `release(key, token)`
 *    removes the claim (keeping the progress).
 * 5. A claim whose holder died is no longer renewed: it expires after `leaseMs`, and the next
 *    delivery takes it over.
 *
 * Expiry is measured by the store (Redis `PX`) or a monotonic clock, never by comparing
 * `Date.now()` values. `'busy'` makes the receiver wait (polling `claim`) until the event is
 * done, up to `handlerTimeoutMs`, then answer 503 so that SendClean retries: a duplicate is
 * never acknowledged before its original has finished.
 */
export interface IdempotencyStore {
  claim(key: string, token: string, leaseMs: number): ClaimResult | Promise<ClaimResult>
  renew(key: string, token: string, leaseMs: number): boolean | Promise<boolean>
  progress(
    key: string,
    token: string,
    handlersDone: number,
    ttlMs: number,
  ): boolean | Promise<boolean>
  complete(
    key: string,
    token: string,
    ttlMs: number,
    outcome: EventOutcome,
  ): boolean | Promise<boolean>
  release(key: string, token: string): void | Promise<void>
}

/**
 * What `claim` found: the event is now yours (with how many of its handlers already completed
 * in earlier attempts), someone is running it, or it is done.
 */
export type ClaimResult = { handlersDone: number } | 'busy' | 'done'

/** How a done event ended: handled, or skipped because the error hook said `'skip'`. */
export type EventOutcome = 'handled' | 'skipped'

type Entry =
  | { state: 'claimed'; token: string; expires: number }
  | { state: EventOutcome; expires: number }

/** A monotonic clock in ms: a wall-clock step never shortens or stretches a lease. */
const now = () => performance.now()

/**
 * A bounded in-memory store: right for one process; use {@link redisStore} when several
 * instances receive the same webhook. It lives and dies with the process: after a restart,
 * or once more than `max` events are remembered (the oldest done markers are evicted first;
 * claims in flight never are), a replay of a forgotten event runs again.
 *
 * @example
 * createExpressMiddleware({ keys, idempotency: { store: memoryStore({ max: 50_000 }) } })
 */
export function memoryStore(options: { max?: number } = {}): IdempotencyStore & {
  /** How an event ended, while it is remembered. */
  outcome(key: string): EventOutcome | undefined
  readonly size: number
} {
  refuseUnknownOptions(options, { max: true })
  // At `max: 0` every done marker would be evicted as it is made: replays would run again.
  const max = positiveInteger(options.max, 'max', 100_000)
  // Map keeps insertion order: the first entries are the oldest, evicted first.
  const entries = new Map<string, Entry>()
  // Handlers completed by attempts that did not finish, kept apart so a lost lease keeps them.
  const progress = new Map<string, { handlersDone: number; expires: number }>()
  const live = <T extends { expires: number }>(map: Map<string, T>, key: string) => {
    const entry = map.get(key)
    if (entry && entry.expires <= now()) {
      map.delete(key)
      return undefined
    }
    return entry
  }
  const held = (key: string, token: string) => {
    const entry = live(entries, key)
    return entry?.state === 'claimed' && entry.token === token ? entry : undefined
  }
  const evict = () => {
    if (entries.size <= max) return
    for (const [key, entry] of entries) {
      if (entries.size <= max) return
      if (entry.state !== 'claimed') entries.delete(key)
    }
  }
  const put = (key: string, entry: Entry) => {
    entries.delete(key)
    entries.set(key, entry)
    evict()
  }
  return {
    claim(key, token, leaseMs) {
      const entry = live(entries, key)
      if (entry) return entry.state === 'claimed' ? 'busy' : 'done'
      put(key, { state: 'claimed', token, expires: now() + leaseMs })
      return { handlersDone: live(progress, key)?.handlersDone ?? 0 }
    },
    renew(key, token, leaseMs) {
      const entry = held(key, token)
      if (entry) entry.expires = now() + leaseMs
      return entry !== undefined
    },
    progress(key, token, handlersDone, ttlMs) {
      if (!held(key, token)) return false
      progress.delete(key)
      progress.set(key, { handlersDone, expires: now() + ttlMs })
      // As bounded as the entries: the oldest go first.
      if (progress.size > max) progress.delete(progress.keys().next().value as string)
      return true
    },
    complete(key, token, ttlMs, outcome) {
      if (!held(key, token)) return false
      put(key, { state: outcome, expires: now() + ttlMs })
      progress.delete(key)
      return true
    },
    release(key, token) {
      if (held(key, token)) entries.delete(key)
    },
    outcome(key) {
      const state = live(entries, key)?.state
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
  get(key: string): Promise<string | null>
}

// Two keys per event, in one hash slot (Redis Cluster): KEYS[1] holds `claimed:<token>` (the
// lease is its expiry), `handled` or `skipped`; KEYS[2] holds how many handlers completed in
// attempts that did not finish. Each script is one atomic round trip; every write but the
// claim checks that the token still holds the claim.
const HELD = `local v = redis.call('GET', KEYS[1])
local held = v == 'claimed:' .. ARGV[1]
`

const CLAIM = `local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 8) == 'claimed:' then return 'busy' end
  return 'done'
end
redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'PX', ARGV[2])
return tonumber(redis.call('GET', KEYS[2]) or '0')`

const RENEW = `${HELD}if not held then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`

const PROGRESS = `${HELD}if not held then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`

const COMPLETE = `${HELD}if not held then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1`

const RELEASE = `${HELD}if not held then return 0 end
return redis.call('DEL', KEYS[1])`

const ms = (value: number) => Math.max(1, Math.round(value))

/**
 * A Redis-backed store for apps that run several instances: claims are atomic (a Lua script),
 * so two instances never run the same event at once. Takes your client; the package does not
 * depend on a Redis library. It remembers what Redis remembers: without persistence (AOF or
 * RDB snapshots), a Redis restart forgets every done marker and replays run again.
 *
 * @example
 * import { Redis } from 'ioredis'
 * const store = redisStore(new Redis(process.env.REDIS_URL))
 */
export function redisStore(
  client: RedisLike,
  options: { prefix?: string } = {},
): IdempotencyStore & { outcome(key: string): Promise<EventOutcome | undefined> } {
  refuseUnknownOptions(options, { prefix: true })
  requireMethods(
    client,
    ['eval', 'get'],
    'redisStore needs a Redis client with `eval` and `get` (an ioredis client, or node-redis in legacy mode)',
  )
  const { prefix = 'sendclean-webhooks:event:' } = options
  if (typeof prefix !== 'string') throw configurationError('`prefix` must be a string')
  // `{…}` is a hash tag: both keys of an event land in one slot of a Redis Cluster.
  const keys = (key: string): [string, string] => [
    `${prefix}{${key}}`,
    `${prefix}{${key}}:progress`,
  ]
  return {
    async claim(key, token, leaseMs) {
      const result = await client.eval(CLAIM, 2, ...keys(key), token, ms(leaseMs))
      if (result === 'busy' || result === 'done') return result
      if (typeof result === 'number' && Number.isSafeInteger(result) && result >= 0) {
        return { handlersDone: result }
      }
      throw new Error(`unexpected answer from the claim script: ${String(result)}`)
    },
    async renew(key, token, leaseMs) {
      return (await client.eval(RENEW, 2, ...keys(key), token, ms(leaseMs))) === 1
    },
    async progress(key, token, handlersDone, ttlMs) {
      return (await client.eval(PROGRESS, 2, ...keys(key), token, handlersDone, ms(ttlMs))) === 1
    },
    async complete(key, token, ttlMs, outcome) {
      return (await client.eval(COMPLETE, 2, ...keys(key), token, outcome, ms(ttlMs))) === 1
    },
    async release(key, token) {
      await client.eval(RELEASE, 2, ...keys(key), token)
    },
    async outcome(key) {
      const value = await client.get(keys(key)[0])
      return value === 'handled' || value === 'skipped' ? value : undefined
    },
  }
}
