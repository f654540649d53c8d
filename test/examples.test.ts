import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort, type RunningExample, startExample } from '../scripts/run-example.js'
import { HANDSHAKE_BODY } from '../src/index.js'
import {
  FORM,
  formDelivery,
  postSeedBatch,
  SEED_EVENTS,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
} from './support/fixtures.js'

const PATH = '/webhooks/sendclean'

describe.each(['express', 'koa', 'fastify', 'hono', 'nest/express', 'nest/fastify'])(
  'examples/%s.ts',
  (name) => {
    let example: RunningExample
    beforeAll(async () => {
      example = await startExample(name, { SENDCLEAN_WEBHOOK_KEY: 'old-key, new-key' })
    }, 30_000)
    afterAll(() => example?.stop())

    it('answers the handshake', async () => {
      const res = await fetch(example.base + PATH)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(HANDSHAKE_BODY)
    })

    it('accepts a batch signed with either key for its own URL and prints each event', async () => {
      const before = example.lines.length
      const res = await postSeedBatch(example.base + PATH, 'new-key')
      expect(res.status).toBe(200)
      const lines = await example.waitForLines(before + SEED_EVENTS.length)
      const printed = lines.slice(before).map((line) => JSON.parse(line))
      expect(printed.map((line) => line.handled)).toEqual(SEED_EVENTS.map((e) => e.event))
      expect(printed[0].event).toMatchObject({
        _id: SEED_EVENTS[0]?._id,
        date: '2016-06-14T07:50:56.000Z',
      })
    })

    it('rejects a wrong signature and a bad body', async () => {
      const { body } = formDelivery(SEED_EVENTS_TEXT, { key: 'stolen', url: example.base + PATH })
      const bad = await fetch(example.base + PATH, {
        method: 'POST',
        headers: { 'content-type': FORM, [SIGNATURE_HEADER]: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
        body,
      })
      expect(bad.status).toBe(401)
      const text = await fetch(example.base + PATH, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      })
      expect(text.status).toBe(415)
      const put = await fetch(example.base + PATH, { method: 'PUT' })
      expect(put.status).toBe(405)
    })
  },
)

describe.skipIf(!inject('redisUrl'))('examples/queue.ts', () => {
  it('two receivers and two workers on one Redis handle every event of both batches', async () => {
    const [a, b] = [await freePort(), await freePort()]
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'examples/queue.ts'],
          {
            cwd: fileURLToPath(new URL('..', import.meta.url)),
            env: {
              ...process.env,
              REDIS_URL: inject('redisUrl'),
              PORT_A: String(a),
              PORT_B: String(b),
            },
            timeout: 60_000,
          },
          (error, out) => resolve({ code: error ? (error.code as number) : 0, stdout: out }),
        )
      },
    )
    expect(stdout).toContain('14 of 14 events handled')
    expect(stdout).toMatch(/worker [ab] handled/)
    expect(code).toBe(0)
  }, 90_000)
})

describe.each(['nest/express', 'nest/fastify'])(
  'examples/%s.ts: the app keeps its own parsing',
  (name) => {
    let example: RunningExample
    beforeAll(async () => {
      example = await startExample(name, { SENDCLEAN_WEBHOOK_KEY: 'k' })
    }, 30_000)
    afterAll(() => example?.stop())

    it("Nest's JSON body parsing still serves the app's own route", async () => {
      const res = await fetch(`${example.base}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'hello' }),
      })
      expect(await res.json()).toEqual({ received: { note: 'hello' } })
    })
  },
)
