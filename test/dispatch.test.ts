import { describe, expect, it } from 'vitest'
import { deliverer } from '../src/dispatch.js'
import { HandlerRegistry } from '../src/handlers.js'
import { resolveOptions } from '../src/options.js'
import type { QueuedEvent } from '../src/types.js'
import { KEY, SEED_EVENTS_TEXT } from './support/fixtures.js'

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
    const deliver = deliverer(resolveOptions<undefined>({ keys: KEY }), handlers, report)
    await deliver(raw, undefined, undefined)
    // Every event still reached its handler, validated, while the array of originals was empty.
    expect(seen).toHaveLength(count)
    expect(seen.every((s) => s.rawLength === 0)).toBe(true)
    expect(seen.map((s) => s.type)).toEqual(
      (JSON.parse(SEED_EVENTS_TEXT) as Array<{ event: string }>).map((e) => e.event),
    )
  })

  it('queue mode keeps every original for the job', async () => {
    const raw = JSON.parse(SEED_EVENTS_TEXT) as unknown[]
    const jobs: QueuedEvent[][] = []
    const config = resolveOptions<undefined>({
      keys: KEY,
      queue: { sink: { enqueue: async (batch) => void jobs.push([...batch]) } },
    })
    await deliverer(config, new HandlerRegistry<undefined>(), report)(raw, undefined, undefined)
    expect(raw).toEqual(JSON.parse(SEED_EVENTS_TEXT))
    expect(jobs[0]?.map((job) => job.raw)).toEqual(JSON.parse(SEED_EVENTS_TEXT))
  })
})
