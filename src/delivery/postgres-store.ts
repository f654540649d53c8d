import { configurationError, excerpt, refuseUnknownOptions, requireMethods } from '../errors.js'
import type { ClaimResult, EventOutcome, IdempotencyStore } from './idempotency.js'

/** The part of a `pg` Pool or Client the PostgreSQL store uses (`query` with parameters). */
export interface PgLike {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>
}

export interface PostgresStoreOptions {
  /** The table, optionally schema-qualified. Default `sendclean_webhook_events`. */
  table?: string
  /**
   * Create the table on first use (`CREATE TABLE IF NOT EXISTS`). Default false: run the
   * statement from {@link postgresStoreMigration} with your migrations instead.
   */
  createTable?: boolean
  /**
   * At most how often expired rows are deleted, in ms (one bounded `DELETE` after a completed
   * event, never on the acknowledgement's path). Default one minute.
   */
  cleanupEveryMs?: number
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/

/**
 * The one statement that creates the store's table: run it with your migrations (or pass
 * `createTable: true`). `state` is `claimed`, `handled`, `skipped` or `free` (a released claim
 * that keeps the progress of its handlers); `expires_at` is the lease while claimed and the
 * done marker's expiry after.
 */
export function postgresStoreMigration(table = 'sendclean_webhook_events'): string {
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw configurationError(
      `postgresStore: ${excerpt(String(table))} is not a table name (letters, digits and _, optionally schema.table)`,
    )
  }
  return `CREATE TABLE IF NOT EXISTS ${table} (
  key text PRIMARY KEY,
  state text NOT NULL,
  token text,
  expires_at timestamptz NOT NULL,
  handlers_done integer NOT NULL DEFAULT 0,
  progress_expires_at timestamptz
)`
}

const ms = (value: number) => Math.max(1, Math.round(value))

/**
 * A PostgreSQL-backed store, for apps whose instances share a PostgreSQL database and run no
 * Redis. One table (see {@link postgresStoreMigration}); every call is one statement, and a
 * claim is atomic (`INSERT … ON CONFLICT DO UPDATE` reads the row's latest version under its
 * lock), so two instances never run the same event at once. Leases and expiries use the
 * database's clock. Expired rows are deleted a bounded batch at a time after completions, so
 * no scheduled job is needed. Takes your `pg` Pool; the package does not depend on `pg`.
 *
 * @example
 * import pg from 'pg'
 * const store = postgresStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }))
 */
export function postgresStore(
  client: PgLike,
  options: PostgresStoreOptions = {},
): IdempotencyStore & { outcome(key: string): Promise<EventOutcome | undefined> } {
  refuseUnknownOptions(options, {
    table: true,
    createTable: true,
    cleanupEveryMs: true,
  } satisfies Record<keyof PostgresStoreOptions, true>)
  requireMethods(
    client,
    ['query'],
    'postgresStore needs a `pg` Pool or Client (anything with `query(text, values)`)',
  )
  const {
    table = 'sendclean_webhook_events',
    createTable = false,
    cleanupEveryMs = 60_000,
  } = options
  if (typeof cleanupEveryMs !== 'number' || !(cleanupEveryMs >= 0)) {
    throw configurationError('`cleanupEveryMs` must be a number of ms, 0 or more')
  }
  const migration = postgresStoreMigration(table)
  let ready: Promise<unknown> | undefined
  const query = async (text: string, values: unknown[]) => {
    if (createTable) {
      ready ??= client.query(migration).catch((error: unknown) => {
        ready = undefined // try again on the next call
        throw error
      })
      await ready
    }
    return client.query(text, values)
  }
  const interval = (param: string) =>
    `now() + ${param}::double precision * interval '1 millisecond'`
  // Held: this token's claim, and its lease has not run out.
  const HELD = `key = $1 AND state = 'claimed' AND token = $2 AND expires_at > now()`
  const CLAIMABLE = `(e.state = 'free' OR e.expires_at <= now())`
  // A progress record outlives a lost or released claim until its own expiry.
  const LIVE_PROGRESS = `(e.progress_expires_at IS NOT NULL AND e.progress_expires_at > now())`
  const CLAIM = `INSERT INTO ${table} AS e (key, state, token, expires_at)
VALUES ($1, 'claimed', $2, ${interval('$3')})
ON CONFLICT (key) DO UPDATE SET
  state = CASE WHEN ${CLAIMABLE} THEN 'claimed' ELSE e.state END,
  token = CASE WHEN ${CLAIMABLE} THEN excluded.token ELSE e.token END,
  expires_at = CASE WHEN ${CLAIMABLE} THEN excluded.expires_at ELSE e.expires_at END,
  handlers_done = CASE WHEN NOT ${CLAIMABLE} OR ${LIVE_PROGRESS} THEN e.handlers_done ELSE 0 END,
  progress_expires_at = CASE WHEN NOT ${CLAIMABLE} OR ${LIVE_PROGRESS} THEN e.progress_expires_at ELSE NULL END
RETURNING state, token, handlers_done`
  const RENEW = `UPDATE ${table} SET expires_at = ${interval('$3')} WHERE ${HELD}`
  const PROGRESS = `UPDATE ${table} SET handlers_done = $3, progress_expires_at = ${interval('$4')} WHERE ${HELD}`
  const COMPLETE = `UPDATE ${table} SET state = $3, token = NULL, expires_at = ${interval('$4')},
  handlers_done = 0, progress_expires_at = NULL WHERE ${HELD}`
  // Compare-and-delete, unless handlers completed in this attempt: then the row stays, free,
  // with its progress, until the progress expires. (The two branches exclude each other.)
  const RELEASE = `WITH gone AS (
  DELETE FROM ${table} WHERE ${HELD} AND NOT (progress_expires_at IS NOT NULL AND progress_expires_at > now())
  RETURNING key
)
UPDATE ${table} SET state = 'free', token = NULL, expires_at = progress_expires_at
WHERE ${HELD} AND progress_expires_at IS NOT NULL AND progress_expires_at > now()`
  const OUTCOME = `SELECT state FROM ${table} WHERE key = $1 AND expires_at > now() AND state IN ('handled', 'skipped')`
  const CLEANUP = `DELETE FROM ${table} WHERE key IN (
  SELECT key FROM ${table}
  WHERE expires_at <= now() AND (progress_expires_at IS NULL OR progress_expires_at <= now())
  LIMIT 1000
)`

  let lastCleanup = 0
  const cleanup = () => {
    const at = performance.now()
    if (at - lastCleanup < cleanupEveryMs) return
    lastCleanup = at
    // Best effort, off the acknowledgement's path: a failed cleanup is tried again later.
    query(CLEANUP, []).catch(() => {})
  }

  return {
    async claim(key, token, leaseMs): Promise<ClaimResult> {
      const { rows } = await query(CLAIM, [key, token, ms(leaseMs)])
      const row = rows[0]
      if (!row) throw new Error('postgresStore: the claim returned no row')
      if (row.state === 'claimed' && row.token === token) {
        return { handlersDone: Number(row.handlers_done) }
      }
      return row.state === 'claimed' ? 'busy' : 'done'
    },
    async renew(key, token, leaseMs) {
      return (await query(RENEW, [key, token, ms(leaseMs)])).rowCount === 1
    },
    async progress(key, token, handlersDone, ttlMs) {
      return (await query(PROGRESS, [key, token, handlersDone, ms(ttlMs)])).rowCount === 1
    },
    async complete(key, token, ttlMs, outcome) {
      const done = (await query(COMPLETE, [key, token, outcome, ms(ttlMs)])).rowCount === 1
      cleanup()
      return done
    },
    async release(key, token) {
      await query(RELEASE, [key, token])
    },
    async outcome(key) {
      const state = (await query(OUTCOME, [key])).rows[0]?.state
      return state === 'handled' || state === 'skipped' ? state : undefined
    },
  }
}
