// The delivery contract, as a model-based property: whatever the schedule of deliveries,
// retries, concurrent duplicates, handler failures, slow handlers, handlers that outlive their
// lease while alive, and process deaths, once the sender has retried every non-2xx to
// completion, each distinct authentic event's handlers have each completed exactly once per
// webhook, and no batch was answered 200 before all of its events had.
//
// Two webhooks (two URLs, two keys, as when SendClean sends an event to two registered
// webhooks) share one store. Every event has two handlers (its type's, then `*`), each with a
// fault schedule of its own. Some events come in twins that differ only in a field the receiver
// derives or used to drop (`date`, `msg.feedback`, `meta.feedback`), in an own `__proto__` key,
// or in an integer above 2^53: both twins must run.
import fc from 'fast-check'
import { describe, expect, inject, it } from 'vitest'
import {
  createReceiver,
  EVENT_NAMES,
  extraField,
  type IdempotencyStore,
  isKnownEvent,
  memoryStore,
  postgresStore,
  type Receiver,
  redisStore,
  type WebhookEvent,
} from '../src/index.js'
import {
  FORM,
  formDelivery,
  KEY,
  mortal,
  SEED_EVENTS,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'
import { usePostgres } from './support/postgres-setup.js'
import { useRedis } from './support/redis-setup.js'

const HANDLER_TIMEOUT_MS = 60
const LEASE_MS = 150
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const WEBHOOKS = [
  { url: URL_REGISTERED, key: KEY },
  { url: 'https://other.example.com/hooks/sendclean?app=2', key: 'second-webhook-key-7Qp' },
] as const

/** What a handler does on one invocation: `outlive` runs past the lease, in a live process. */
type Fault = 'ok' | 'fail' | 'slow' | 'outlive' | 'crash'
const FAULT_MS: Partial<Record<Fault, number>> = {
  slow: HANDLER_TIMEOUT_MS * 1.5,
  outlive: LEASE_MS * 2.5,
}

const seed = (type: string) =>
  structuredClone(SEED_EVENTS.find((e) => e.event === type)) as Record<string, unknown>

// Events that collide on everything the old identity looked at (_id, type, ts): two message
// ids, two timestamps, a few x_unique_ids, undocumented types without _id/ts, invalid events.
// `user_id` (a white-label extra field) tells the test which group an event belongs to.
const eventShape = fc.oneof(
  fc
    .record({
      type: fc.constantFrom(...EVENT_NAMES),
      id: fc.constantFrom('m1', 'm2'),
      ts: fc.constantFrom(1_465_890_656_000, '1465890656000', 1_465_890_657_000),
      unique: fc.constantFrom('', 'a', 'b'),
    })
    .map(({ type, id, ts, unique }) => ({ ...seed(type), _id: id, ts, x_unique_id: unique })),
  fc.constantFrom('greylisted', 'mailbox full').map((reason) => ({ event: 'deferral', reason })),
  fc.constantFrom(null, 7).map((unique) => ({ ...seed('hard_bounce'), x_unique_id: unique })),
)

// How the twins of a group differ. Big integers and `__proto__` are written into the JSON text
// directly (a JavaScript value cannot hold them): the placeholder string is replaced.
type Shadow = 'none' | 'date' | 'msg.feedback' | 'meta.feedback' | 'big' | 'proto'
const SHADOWS: Shadow[] = ['none', 'date', 'msg.feedback', 'meta.feedback', 'big', 'proto']
const BIG = ['9007199254740992', '9007199254740993']

function twin(base: Record<string, unknown>, shadow: Shadow, v: number): Record<string, unknown> {
  const event = structuredClone(base)
  if (shadow === 'date') event.date = `sender-date-${v}`
  if (shadow === 'meta.feedback') event.meta = { feedback: `meta-${v}` }
  if (shadow === 'msg.feedback') {
    if (typeof event.msg !== 'object' || event.msg === null) event.msg = {}
    ;(event.msg as Record<string, unknown>).feedback = `sender-feedback-${v}`
  }
  if (shadow === 'big') event.big = `@@big-${v}@@`
  if (shadow === 'proto') event.proto = `@@proto-${v}@@`
  return event
}

function toText(events: object[]): string {
  return JSON.stringify(events)
    .replace(/"@@big-(\d)@@"/g, (_, v) => BIG[Number(v)] as string)
    .replace(/"proto":"@@proto-(\d)@@"/g, (_, v) => `"__proto__":{"v":${v}}`)
}

const scenario = fc
  .array(
    fc.record({
      shape: eventShape,
      shadow: fc.constantFrom(...SHADOWS),
      twins: fc.constantFrom(1, 2),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .chain((groups) => {
    const events: Array<Record<string, unknown>> = []
    const sizes: number[] = []
    groups.forEach(({ shape, shadow, twins }, group) => {
      const count = shadow === 'none' ? 1 : twins
      sizes.push(count)
      for (let v = 0; v < count; v++) events.push(twin({ ...shape, user_id: group }, shadow, v))
    })
    const schedule = fc.array(
      fc.array(fc.constantFrom<Fault>('ok', 'fail', 'slow', 'outlive', 'crash'), {
        maxLength: 2,
      }),
      { minLength: groups.length, maxLength: groups.length },
    )
    return fc.record({
      events: fc.constant(events),
      sizes: fc.constant(sizes),
      // Consecutive slices of the events, 1–4 per batch.
      cuts: fc.array(fc.integer({ min: 1, max: 4 }), {
        minLength: events.length,
        maxLength: events.length,
      }),
      // Per group and handler (type's, then `*`): what its 1st, 2nd… invocation does.
      faults: fc.tuple(schedule, schedule),
      // Rounds of deliveries sent at once (batch, webhook): duplicates in a round are
      // concurrent replays.
      rounds: fc.array(fc.array(fc.tuple(fc.nat(), fc.nat(1)), { minLength: 1, maxLength: 3 }), {
        maxLength: 4,
      }),
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

const groupOf = (event: WebhookEvent): number =>
  (isKnownEvent(event)
    ? extraField(event, 'user_id')
    : (event.raw as { user_id: number }).user_id) as number

async function check(
  { events, sizes, cuts, faults, rounds }: Scenario,
  makeStore: () => IdempotencyStore,
) {
  const store = makeStore()
  const groups = sizes.length
  const batches = batchesOf(events, cuts).map((batch) => ({
    text: toText(batch),
    groups: batch.map((e) => (e as { user_id: number }).user_id),
  }))
  // [webhook][handler][group]: completions; [handler][group]: invocations over both webhooks.
  const completed = WEBHOOKS.map(() => [0, 1].map(() => new Array<number>(groups).fill(0)))
  const invocations = [0, 1].map(() => new Array<number>(groups).fill(0))
  const running = WEBHOOKS.map(() => [0, 1].map(() => new Array<number>(groups).fill(0)))
  const violations: string[] = []

  // Every delivery is taken by a process of its own (a receiver of its webhook, with the store
  // as that process sees it), so duplicates race across processes. A crash kills the process:
  // its store calls (renewals included) stop and its handlers finish nothing. (A process that
  // dies after a handler's side effect and before its record runs that handler again; the
  // README's contract table says so, and one process per delivery keeps this model exact.)
  const spawn = (w: number): Receiver<undefined> => {
    const proc = mortal(store)
    const webhook = WEBHOOKS[w] as (typeof WEBHOOKS)[number]
    const handler =
      (h: number) =>
      async (event: WebhookEvent): Promise<void> => {
        const g = groupOf(event)
        const n = invocations[h]?.[g] ?? 0
        ;(invocations[h] as number[])[g] = n + 1
        const fault = faults[h]?.[g]?.[n] ?? 'ok'
        if (fault === 'fail') throw new Error('injected failure')
        if (fault === 'crash') {
          proc.kill()
          return new Promise(() => {}) // the process is gone: this never completes
        }
        const now = running[w]?.[h] as number[]
        now[g] = (now[g] ?? 0) + 1
        if ((now[g] ?? 0) > (sizes[g] ?? 1)) {
          violations.push(`webhook ${w} handler ${h} group ${g} ran ${now[g]} times at once`)
        }
        if (FAULT_MS[fault]) await sleep(FAULT_MS[fault] as number)
        now[g] = (now[g] ?? 1) - 1
        const done = completed[w]?.[h] as number[]
        done[g] = (done[g] ?? 0) + 1
      }
    return createReceiver<undefined>({
      keys: webhook.key,
      url: webhook.url,
      handlerTimeoutMs: HANDLER_TIMEOUT_MS,
      idempotency: { store: proc.store, leaseMs: LEASE_MS },
      onError: () => {},
    })
      .on(EVENT_NAMES, handler(0))
      .on('unknown', handler(0))
      .on('invalid', handler(0))
      .on('*', handler(1))
  }

  const acked = WEBHOOKS.map(() => new Set<number>())
  const deliver = async (b: number, w: number) => {
    const batch = batches[b] as (typeof batches)[number]
    const webhook = WEBHOOKS[w] as (typeof WEBHOOKS)[number]
    const receiver = spawn(w)
    const { body, signature } = formDelivery(batch.text, webhook)
    const res = await receiver.handle({
      method: 'POST',
      url: webhook.url,
      headers: new Headers({ 'content-type': FORM, [SIGNATURE_HEADER]: signature }),
      body,
      context: undefined,
    })
    if (res.status === 200) {
      acked[w]?.add(b)
      for (const g of batch.groups) {
        for (const h of [0, 1]) {
          if ((completed[w]?.[h]?.[g] ?? 0) < 1) {
            violations.push(`webhook ${w} batch ${b} answered 200 before group ${g} completed`)
          }
        }
      }
    } else if (res.status !== 500 && res.status !== 503) {
      violations.push(`webhook ${w} batch ${b} answered ${res.status}: ${res.body}`)
    }
  }

  for (const round of rounds) {
    await Promise.all(round.map(([n, w]) => deliver(n % batches.length, w)))
  }
  // The sender retries every batch not yet acknowledged, as SendClean does, until it is.
  const pending = () => acked.reduce((sum, set) => sum + batches.length - set.size, 0)
  for (let attempt = 0; pending() > 0; attempt++) {
    if (attempt > 80) throw new Error(`never acknowledged: ${pending()} batches`)
    for (let w = 0; w < WEBHOOKS.length; w++) {
      for (let b = 0; b < batches.length; b++) if (!acked[w]?.has(b)) await deliver(b, w)
    }
    if (pending() > 0) await sleep(25)
  }
  // Slow handlers may still be finishing: let them, then count.
  await sleep(LEASE_MS * 3)
  expect(violations).toEqual([])
  expect(completed).toEqual(WEBHOOKS.map(() => [sizes, sizes]))
}

describe('delivery contract (model-based)', () => {
  it('memoryStore shared by every process, two webhooks: each handler completes each event exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (s) => check(s, () => memoryStore())),
      { numRuns: 30 },
    )
  }, 240_000)

  const redisUrl = inject('redisUrl')
  describe.skipIf(!redisUrl)('redisStore (real redis-server)', () => {
    const redis = useRedis()

    it('processes sharing Redis, two webhooks: each handler completes each event exactly once', async () => {
      let run = 0
      await fc.assert(
        fc.asyncProperty(scenario, (s) =>
          check(s, () => redisStore(redis(), { prefix: `contract:${Date.now()}:${++run}:` })),
        ),
        { numRuns: 20 },
      )
    }, 240_000)
  })

  const postgresUrl = inject('postgresUrl')
  describe.skipIf(!postgresUrl)('postgresStore (real PostgreSQL server)', () => {
    const pg = usePostgres()

    it('processes sharing one table, two webhooks: each handler completes each event exactly once', async () => {
      await fc.assert(
        fc.asyncProperty(scenario, (s) =>
          check(s, () => postgresStore(pg.pool(), { table: pg.table(), createTable: true })),
        ),
        { numRuns: 20 },
      )
    }, 240_000)
  })
})
