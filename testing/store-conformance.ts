import type { IdempotencyStore } from '../src/index.js'
import { sleep } from '../src/internal.js'

/** One check of the claim protocol: a name for your test runner and a function that throws. */
export interface StoreCheck {
  name: string
  run: () => Promise<void>
}

/** A claim's answer as one word: `claimed:N` (N handlers done before), `busy` or `done`. */
function claimWord(result: unknown): string {
  if (result === 'busy' || result === 'done') return result
  const done = (result as { handlersDone?: unknown } | null)?.handlersDone
  return typeof done === 'number' ? `claimed:${done}` : JSON.stringify(result)
}

function expectClaim(actual: unknown, expected: string, what: string): void {
  const word = claimWord(actual)
  if (word !== expected) throw new Error(`${what}: claim answered ${word}, expected ${expected}`)
}

function expectHeld(actual: unknown, expected: boolean, what: string): void {
  if (actual !== expected) {
    throw new Error(`${what}: answered ${JSON.stringify(actual)}, expected ${expected}`)
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
      expectClaim(await store.claim(key('fresh'), 'a', long), 'claimed:0', 'first claim')
      expectClaim(await store.claim(key('fresh'), 'b', long), 'busy', 'second claim')
    }),
    check('keys are independent', async (store) => {
      expectClaim(await store.claim(key('one'), 'a', long), 'claimed:0', 'key one')
      expectClaim(await store.claim(key('two'), 'a', long), 'claimed:0', 'key two')
    }),
    check('of concurrent claims exactly one wins', async (store) => {
      const results = (
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.claim(key('race'), `t${i}`, long)),
        )
      ).map(claimWord)
      const won = results.filter((r) => r === 'claimed:0').length
      if (won !== 1) throw new Error(`${won} of 20 concurrent claims won, expected exactly 1`)
      if (results.some((r) => r !== 'claimed:0' && r !== 'busy')) {
        throw new Error(`concurrent claims answered ${JSON.stringify(results)}`)
      }
    }),
    check('complete by the holder makes the key done, for either outcome', async (store) => {
      for (const outcome of ['handled', 'skipped'] as const) {
        const k = key(`done-${outcome}`)
        expectClaim(await store.claim(k, 'a', long), 'claimed:0', 'claim')
        expectHeld(await store.complete(k, 'a', long, outcome), true, 'complete')
        expectClaim(await store.claim(k, 'b', long), 'done', `after complete(${outcome})`)
      }
    }),
    check('complete with another token is refused and leaves the claim alone', async (store) => {
      expectClaim(await store.claim(key('foreign-done'), 'a', long), 'claimed:0', 'claim')
      expectHeld(await store.complete(key('foreign-done'), 'b', long, 'handled'), false, 'complete')
      expectClaim(await store.claim(key('foreign-done'), 'c', long), 'busy', 'after it')
    }),
    check('release by the holder frees the key', async (store) => {
      expectClaim(await store.claim(key('release'), 'a', long), 'claimed:0', 'claim')
      await store.release(key('release'), 'a')
      expectClaim(await store.claim(key('release'), 'b', long), 'claimed:0', 'after release')
    }),
    check('release with another token leaves the claim alone', async (store) => {
      expectClaim(await store.claim(key('foreign'), 'a', long), 'claimed:0', 'claim')
      await store.release(key('foreign'), 'b')
      expectClaim(await store.claim(key('foreign'), 'c', long), 'busy', 'after a foreign release')
    }),
    check('release of a done key keeps it done', async (store) => {
      expectClaim(await store.claim(key('done-release'), 'a', long), 'claimed:0', 'claim')
      await store.complete(key('done-release'), 'a', long, 'handled')
      await store.release(key('done-release'), 'a')
      expectClaim(await store.claim(key('done-release'), 'b', long), 'done', 'after release')
    }),
    check('progress is kept across a release, and the next claim gets it', async (store) => {
      const k = key('progress')
      expectClaim(await store.claim(k, 'a', long), 'claimed:0', 'claim')
      expectHeld(await store.progress(k, 'a', 1, long), true, 'progress 1')
      expectHeld(await store.progress(k, 'a', 2, long), true, 'progress 2')
      expectHeld(await store.progress(k, 'b', 3, long), false, 'progress with another token')
      await store.release(k, 'a')
      expectClaim(await store.claim(k, 'b', long), 'claimed:2', 'after release')
      expectClaim(await store.claim(k, 'c', long), 'busy', 'while it is held again')
      expectHeld(await store.complete(k, 'b', long, 'handled'), true, 'complete')
      expectClaim(await store.claim(k, 'c', long), 'done', 'after complete')
    }),
    check('progress outlives a lease that expired', async (store) => {
      const k = key('progress-lease')
      expectClaim(await store.claim(k, 'dead', unitMs), 'claimed:0', 'claim')
      expectHeld(await store.progress(k, 'dead', 1, long), true, 'progress')
      await sleep(unitMs * 3)
      expectClaim(await store.claim(k, 'next', long), 'claimed:1', 'after the lease')
    }),
    check('progress is forgotten after its TTL', async (store) => {
      const k = key('progress-ttl')
      expectClaim(await store.claim(k, 'a', long), 'claimed:0', 'claim')
      await store.progress(k, 'a', 1, unitMs)
      await store.release(k, 'a')
      await sleep(unitMs * 3)
      expectClaim(await store.claim(k, 'b', long), 'claimed:0', 'after the TTL')
    }),
    check('complete forgets the progress', async (store) => {
      const k = key('progress-done')
      expectClaim(await store.claim(k, 'a', unitMs * 100), 'claimed:0', 'claim')
      await store.progress(k, 'a', 1, long)
      await store.complete(k, 'a', unitMs, 'handled')
      await sleep(unitMs * 3)
      expectClaim(await store.claim(k, 'b', long), 'claimed:0', 'after the done marker expired')
    }),
    check(
      'a claim expires after its lease, and the old holder can neither release, renew nor complete it',
      async (store) => {
        expectClaim(await store.claim(key('lease'), 'dead', unitMs), 'claimed:0', 'claim')
        await sleep(unitMs * 3)
        expectClaim(await store.claim(key('lease'), 'next', long), 'claimed:0', 'after the lease')
        await store.release(key('lease'), 'dead')
        expectHeld(await store.renew(key('lease'), 'dead', long), false, 'stale renew')
        expectHeld(
          await store.complete(key('lease'), 'dead', long, 'handled'),
          false,
          'stale complete',
        )
        expectClaim(await store.claim(key('lease'), 'third', long), 'busy', 'after all that')
      },
    ),
    check('renewal by the holder keeps a claim past its first lease', async (store) => {
      const k = key('renew')
      expectClaim(await store.claim(k, 'a', unitMs * 2), 'claimed:0', 'claim')
      for (let i = 0; i < 4; i++) {
        await sleep(unitMs)
        expectHeld(await store.renew(k, 'a', unitMs * 2), true, `renewal ${i + 1}`)
      }
      expectClaim(await store.claim(k, 'b', long), 'busy', `after ${unitMs * 4} ms renewed`)
      await sleep(unitMs * 3)
      expectClaim(await store.claim(k, 'b', long), 'claimed:0', 'once renewals stop')
    }),
    check('a done marker expires after its TTL', async (store) => {
      expectClaim(await store.claim(key('ttl'), 'a', long), 'claimed:0', 'claim')
      await store.complete(key('ttl'), 'a', unitMs, 'handled')
      expectClaim(await store.claim(key('ttl'), 'b', long), 'done', 'within the TTL')
      await sleep(unitMs * 3)
      expectClaim(await store.claim(key('ttl'), 'c', long), 'claimed:0', 'after the TTL')
    }),
  ]
}

function unique(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`
}
