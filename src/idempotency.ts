/**
 * De-duplication of events across retries and replays. SendClean retries a whole batch that
 * was not acknowledged, and a captured request can be replayed (no timestamp is signed), so a
 * receiver with side effects should skip events it has already handled.
 *
 * Keys are {@link eventIdentity} values. `mark` records how an event ended: `handled`, or
 * `skipped` when the error hook chose to give up on it.
 */
export interface IdempotencyStore {
  has(key: string): boolean | Promise<boolean>
  mark(key: string, ttlMs: number, outcome: EventOutcome): void | Promise<void>
}

export type EventOutcome = 'handled' | 'skipped'

/**
 * A bounded in-memory store: right for one process; use {@link redisStore} when several
 * instances receive the same webhook.
 *
 * @example
 * createExpressMiddleware({ keys, idempotency: { store: memoryStore({ max: 50_000 }) } })
 */
export function memoryStore({ max = 100_000 }: { max?: number } = {}): IdempotencyStore & {
  /** How an event ended, while it is remembered. */
  outcome(key: string): EventOutcome | undefined
  readonly size: number
} {
  // Map keeps insertion order: the first entry is the oldest, evicted first.
  const entries = new Map<string, { expires: number; outcome: EventOutcome }>()
  const live = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.expires <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }
  return {
    has: (key) => live(key) !== undefined,
    mark(key, ttlMs, outcome) {
      entries.delete(key)
      entries.set(key, { expires: Date.now() + ttlMs, outcome })
      while (entries.size > max) entries.delete(entries.keys().next().value as string)
    },
    outcome: (key) => live(key)?.outcome,
    get size() {
      return entries.size
    },
  }
}

/** The two commands the Redis store uses; an ioredis or node-redis v4 (legacy mode) client fits. */
export interface RedisLike {
  exists(key: string): Promise<number>
  set(key: string, value: string, mode: 'PX', ttlMs: number): Promise<unknown>
  get(key: string): Promise<string | null>
}

/**
 * A Redis-backed store for apps that run several instances. Takes your client; the package
 * does not depend on a Redis library.
 *
 * @example
 * import Redis from 'ioredis'
 * const store = redisStore(new Redis(process.env.REDIS_URL))
 */
export function redisStore(
  client: RedisLike,
  { prefix = 'sendclean-webhooks:event:' }: { prefix?: string } = {},
): IdempotencyStore & { outcome(key: string): Promise<EventOutcome | undefined> } {
  return {
    has: async (key) => (await client.exists(prefix + key)) === 1,
    async mark(key, ttlMs, outcome) {
      await client.set(prefix + key, outcome, 'PX', Math.max(1, Math.round(ttlMs)))
    },
    async outcome(key) {
      return ((await client.get(prefix + key)) as EventOutcome | null) ?? undefined
    },
  }
}
