// The delivery contract, as a model-based property: whatever the schedule of deliveries,
// retries, concurrent duplicates, handler failures, slow handlers and process deaths, once the
// sender has retried every non-2xx to completion, each distinct authentic event's handler has
// completed exactly once, and no batch was answered 200 before all of its events had.
import fc from 'fast-check'
import { describe, expect, inject, it } from 'vitest'
import {
  createReceiver,
  type IdempotencyStore,
  isKnownEvent,
  memoryStore,
  type Receiver,
  redisStore,
  type WebhookEvent,
} from '../src/index.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'
import { useRedis } from './support/redis-setup.js'

const HANDLER_TIMEOUT_MS = 60
const LEASE_MS = 150
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type Fault = 'ok' | 'fail' | 'slow' | 'crash'

// Events that collide on everything the old identity looked at (_id, type, ts): two message
// ids, two timestamps, a few x_unique_ids, undocumented types without _id/ts, invalid events.
// `user_id` (a white-label extra field) tells the test which event is which.
const seed = (type: string) =>
  structuredClone(SEED_EVENTS.find((e) => e.event === type)) as Record<string, unknown>
const eventShape = fc.oneof(
  fc
    .record({
      type: fc.constantFrom(
        'send',
        'delivered',
        'hard_bounce',
        'soft_bounce',
        'click',
        'open',
        'spam',
      ),
      id: fc.constantFrom('m1', 'm2'),
      ts: fc.constantFrom(1_465_890_656_000, '1465890656000', 1_465_890_657_000),
      unique: fc.constantFrom('', 'a', 'b'),
    })
    .map(({ type, id, ts, unique }) => ({ ...seed(type), _id: id, ts, x_unique_id: unique })),
  fc.constantFrom('greylisted', 'mailbox full').map((reason) => ({ event: 'deferral', reason })),
  fc.constantFrom(null, 7).map((unique) => ({ ...seed('hard_bounce'), x_unique_id: unique })),
)

const scenario = fc.array(eventShape, { minLength: 1, maxLength: 10 }).chain((shapes) => {
  const events = shapes.map((shape, i) => ({ ...shape, user_id: i }))
  return fc.record({
    events: fc.constant(events),
    // Consecutive slices of the events, 1–4 per batch.
    cuts: fc.array(fc.integer({ min: 1, max: 4 }), {
      minLength: events.length,
      maxLength: events.length,
    }),
    // For each event, what its handler does on its 1st, 2nd… invocation (then 'ok').
    faults: fc.array(
      fc.array(fc.constantFrom<Fault>('ok', 'fail', 'slow', 'crash'), { maxLength: 2 }),
      {
        minLength: events.length,
        maxLength: events.length,
      },
    ),
    // Rounds of deliveries sent at once: duplicates in a round are concurrent replays.
    rounds: fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), { maxLength: 4 }),
  })
})

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

function batchesOf(events: object[], cuts: number[]): object[][] {
  const batches: object[][] = []
  for (let i = 0, c = 0; i < events.length; c++) {
    const size = cuts[c] ?? 1
    batches.push(events.slice(i, i + size))
    i += size
  }
  return batches
}

async function check(
  { events, cuts, faults, rounds }: Scenario,
  makeStore: () => IdempotencyStore,
  instances: number,
) {
  const store = makeStore()
  const batches = batchesOf(events, cuts).map((batch) => {
    const { body, signature } = formDelivery(JSON.stringify(batch))
    return { body, signature, ids: batch.map((e) => (e as { user_id: number }).user_id) }
  })
  const completed = new Array<number>(events.length).fill(0)
  const invocations = new Array<number>(events.length).fill(0)
  const violations: string[] = []

  // A "process": a receiver sharing the store. A crash retires it for good.
  let live: Receiver<undefined>[] = []
  const spawn = (): Receiver<undefined> => {
    const self: Receiver<undefined> = createReceiver<undefined>({
      keys: KEY,
      url: URL_REGISTERED,
      handlerTimeoutMs: HANDLER_TIMEOUT_MS,
      idempotency: { store, leaseMs: LEASE_MS },
      onError: () => {},
      on: {
        '*': async (event: WebhookEvent) => {
          const raw = (isKnownEvent(event) ? event : event.raw) as { user_id: number }
          const id = raw.user_id
          const invocation = invocations[id] ?? 0
          invocations[id] = invocation + 1
          const fault = faults[id]?.[invocation] ?? 'ok'
          if (fault === 'fail') throw new Error('injected failure')
          if (fault === 'crash') {
            live = live.filter((r) => r !== self)
            live.push(spawn())
            return new Promise(() => {}) // the process is gone: this never completes
          }
          if (fault === 'slow') await sleep(HANDLER_TIMEOUT_MS * 1.5)
          completed[id] = (completed[id] ?? 0) + 1
        },
      },
    })
    return self
  }
  for (let i = 0; i < instances; i++) live.push(spawn())
  let turn = 0

  const acked = new Set<number>()
  const deliver = async (b: number) => {
    const batch = batches[b] as (typeof batches)[number]
    const receiver = live[turn++ % live.length] as Receiver<undefined>
    const res = await receiver.handle({
      method: 'POST',
      url: URL_REGISTERED,
      headers: new Headers({ 'content-type': FORM, [SIGNATURE_HEADER]: batch.signature }),
      body: batch.body,
      context: undefined,
    })
    if (res.status === 200) {
      acked.add(b)
      for (const id of batch.ids) {
        if ((completed[id] ?? 0) < 1)
          violations.push(`batch ${b} answered 200 before event ${id} completed`)
      }
    } else if (res.status !== 500 && res.status !== 503) {
      violations.push(`batch ${b} answered ${res.status}: ${res.body}`)
    }
  }

  for (const round of rounds) await Promise.all(round.map((n) => deliver(n % batches.length)))
  // The sender retries every batch not yet acknowledged, as SendClean does, until it is.
  for (let attempt = 0; acked.size < batches.length; attempt++) {
    if (attempt > 60) throw new Error(`never acknowledged: ${batches.length - acked.size} batches`)
    for (let b = 0; b < batches.length; b++) if (!acked.has(b)) await deliver(b)
    if (acked.size < batches.length) await sleep(25)
  }
  // Slow handlers may still be finishing: let them, then count.
  await sleep(HANDLER_TIMEOUT_MS * 2)
  expect(violations).toEqual([])
  expect(completed).toEqual(events.map(() => 1))
}

describe('delivery contract (model-based)', () => {
  it('memoryStore, restarts sharing the store: every event completes exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (s) => check(s, () => memoryStore(), 1)),
      { numRuns: 40 },
    )
  }, 120_000)

  const redisUrl = inject('redisUrl')
  describe.skipIf(!redisUrl)('redisStore (real redis-server)', () => {
    const redis = useRedis()

    it('two receivers sharing Redis: every event completes exactly once', async () => {
      let run = 0
      await fc.assert(
        fc.asyncProperty(scenario, (s) =>
          check(s, () => redisStore(redis(), { prefix: `contract:${Date.now()}:${++run}:` }), 2),
        ),
        { numRuns: 25 },
      )
    }, 120_000)
  })
})
