import type { IdempotencyStore } from '../src/index.js'
import { sleep } from '../src/internal.js'

/** One check of the claim protocol: a name for your test runner and a function that throws. */
export interface StoreCheck {
  name: string
  run: () => Promise<void>
}

function expectClaim(actual: unknown, expected: string, what: string): void {
  if (actual !== expected) {
    throw new Error(`${what}: claim answered ${JSON.stringify(actual)}, expected "${expected}"`)
  }
}

/**
 * The conformance suite for an {@link IdempotencyStore}: every check the built-in stores pass,
 * runner-agnostic, so a store of your own (a SQL table, DynamoDB…) can be held to the same
 * protocol. Each check uses keys of its own; timing checks wait about `unitMs × 3`.
 *
 * @example
 * for (const check of storeConformance(() => myStore)) it(check.name, check.run)
 */
export function storeConformance(
  makeStore: () => IdempotencyStore | Promise<IdempotencyStore>,
  { unitMs = 50 }: { unitMs?: number } = {},
): StoreCheck[] {
  const run = unique()
  const key = (name: string) => `conformance:${run}:${name}`
  const long = 60_000
  const check = (name: string, body: (store: IdempotencyStore) => Promise<void>): StoreCheck => ({
    name,
    run: async () => body(await makeStore()),
  })
  return [
    check('a fresh key is claimed, and a second claim is busy', async (store) => {
      expectClaim(await store.claim(key('fresh'), 'a', long), 'claimed', 'first claim')
      expectClaim(await store.claim(key('fresh'), 'b', long), 'busy', 'second claim')
    }),
    check('keys are independent', async (store) => {
      expectClaim(await store.claim(key('one'), 'a', long), 'claimed', 'key one')
      expectClaim(await store.claim(key('two'), 'a', long), 'claimed', 'key two')
    }),
    check('of concurrent claims exactly one wins', async (store) => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.claim(key('race'), `t${i}`, long)),
      )
      const won = results.filter((r) => r === 'claimed').length
      if (won !== 1) throw new Error(`${won} of 20 concurrent claims won, expected exactly 1`)
      if (results.some((r) => r !== 'claimed' && r !== 'busy')) {
        throw new Error(`concurrent claims answered ${JSON.stringify(results)}`)
      }
    }),
    check('complete makes the key done, for either outcome', async (store) => {
      for (const outcome of ['handled', 'skipped'] as const) {
        const k = key(`done-${outcome}`)
        expectClaim(await store.claim(k, 'a', long), 'claimed', 'claim')
        await store.complete(k, 'a', long, outcome)
        expectClaim(await store.claim(k, 'b', long), 'done', `after complete(${outcome})`)
      }
    }),
    check('release by the holder frees the key', async (store) => {
      expectClaim(await store.claim(key('release'), 'a', long), 'claimed', 'claim')
      await store.release(key('release'), 'a')
      expectClaim(await store.claim(key('release'), 'b', long), 'claimed', 'after release')
    }),
    check('release with another token leaves the claim alone', async (store) => {
      expectClaim(await store.claim(key('foreign'), 'a', long), 'claimed', 'claim')
      await store.release(key('foreign'), 'b')
      expectClaim(await store.claim(key('foreign'), 'c', long), 'busy', 'after a foreign release')
    }),
    check('release of a done key keeps it done', async (store) => {
      expectClaim(await store.claim(key('done-release'), 'a', long), 'claimed', 'claim')
      await store.complete(key('done-release'), 'a', long, 'handled')
      await store.release(key('done-release'), 'a')
      expectClaim(await store.claim(key('done-release'), 'b', long), 'done', 'after release')
    }),
    check(
      'a claim expires after its lease, and the old holder cannot release the new one',
      async (store) => {
        expectClaim(await store.claim(key('lease'), 'dead', unitMs), 'claimed', 'claim')
        await sleep(unitMs * 3)
        expectClaim(await store.claim(key('lease'), 'next', long), 'claimed', 'after the lease')
        await store.release(key('lease'), 'dead')
        expectClaim(await store.claim(key('lease'), 'third', long), 'busy', 'after a stale release')
      },
    ),
    check('a done marker expires after its TTL', async (store) => {
      expectClaim(await store.claim(key('ttl'), 'a', long), 'claimed', 'claim')
      await store.complete(key('ttl'), 'a', unitMs, 'handled')
      expectClaim(await store.claim(key('ttl'), 'b', long), 'done', 'within the TTL')
      await sleep(unitMs * 3)
      expectClaim(await store.claim(key('ttl'), 'c', long), 'claimed', 'after the TTL')
    }),
  ]
}

function unique(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`
}
