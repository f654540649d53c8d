import { describe, expect, it } from 'vitest'
import {
  deliverer,
  type IncomingBatch,
  type QueuedEvent,
  resolveDeliveryOptions,
} from '../src/delivery/dispatch.js'
import { HandlerRegistry } from '../src/delivery/handlers.js'
import { memoryStore } from '../src/delivery/idempotency.js'
import { eventIdentity } from '../src/events/identity.js'
import { elementTexts } from '../src/request/event-texts.js'
import { SEED_EVENTS_TEXT } from './support/fixtures.js'

const report = async () => undefined

describe('a batch in hand holds one copy of its events', () => {
  it('in process, the parsed originals are let go before any handler runs', async () => {
    const raw = JSON.parse(SEED_EVENTS_TEXT) as unknown[]
    const count = raw.length
    expect(count).toBeGreaterThan(1)
    const handlers = new HandlerRegistry<undefined>()
    const seen: Array<{ type: string; rawLength: number }> = []
    handlers.add('*', (event: { event: string }) => {
      seen.push({ type: event.event, rawLength: raw.length })
    })
    const deliver = deliverer(resolveDeliveryOptions({}, eventIdentity), handlers, report)
    await deliver({ events: raw }, undefined, undefined)
    // Every event still reached its handler, validated, while the array of originals was empty.
    expect(seen).toHaveLength(count)
    expect(seen.every((s) => s.rawLength === 0)).toBe(true)
    expect(seen.map((s) => s.type)).toEqual(
      (JSON.parse(SEED_EVENTS_TEXT) as Array<{ event: string }>).map((e) => e.event),
    )
  })

  it('the events text is let go before any handler runs, with or without a store', async () => {
    for (const options of [{}, { idempotency: { store: memoryStore() } }]) {
      const handlers = new HandlerRegistry<undefined>()
      const batch: IncomingBatch = {
        events: JSON.parse(SEED_EVENTS_TEXT) as unknown[],
        texts: () => elementTexts(SEED_EVENTS_TEXT),
      }
      const held: boolean[] = []
      handlers.add('*', () => void held.push(batch.texts !== undefined))
      await deliverer(resolveDeliveryOptions(options, eventIdentity), handlers, report)(
        batch,
        undefined,
        undefined,
      )
      expect(held).toHaveLength(JSON.parse(SEED_EVENTS_TEXT).length)
      expect(held.every((h) => !h)).toBe(true)
    }
  })

  it('queue mode keeps every original for the job', async () => {
    const raw = JSON.parse(SEED_EVENTS_TEXT) as unknown[]
    const jobs: QueuedEvent[][] = []
    const config = resolveDeliveryOptions(
      {
        queue: { sink: { enqueue: async (batch) => void jobs.push([...batch]) } },
      },
      eventIdentity,
    )
    await deliverer(config, new HandlerRegistry<undefined>(), report)(
      { events: raw },
      undefined,
      undefined,
    )
    expect(raw).toEqual(JSON.parse(SEED_EVENTS_TEXT))
    expect(jobs[0]?.map((job) => job.raw)).toEqual(JSON.parse(SEED_EVENTS_TEXT))
  })
})
