import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import {
  HANDSHAKE_BODY,
  type InvalidEvent,
  memoryStore,
  type ReceiverOptions,
  type WebhookError,
  type WebhookEvent,
} from '../../src/index.js'
import {
  FIELD,
  FORM,
  formDelivery,
  KEY,
  referenceSignature,
  SEED_EVENTS,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './fixtures.js'

export const PATH = '/webhooks/sendclean'

/** POST the seed events as a JSON body (this package's extension), signed for URL_REGISTERED. */
export function postSeedJson(agent: ReturnType<typeof request>) {
  return agent
    .post(PATH)
    .set('content-type', 'application/json')
    .set(SIGNATURE_HEADER, referenceSignature(KEY, URL_REGISTERED + SEED_EVENTS_TEXT, {}))
    .send(SEED_EVENTS_TEXT)
}

/**
 * A receiver served elsewhere (another runtime, test/runtimes/bridge.ts): requests go to
 * `base` + PATH once `ready` resolves.
 */
export interface Remote {
  base: string
  ready: Promise<void>
  close(): void
}

// biome-ignore lint/suspicious/noExplicitAny: each adapter has its own context type
export type Mount = (options: ReceiverOptions<any>) => Server | Remote

const isRemote = (target: Server | Remote): target is Remote => 'base' in target

/** A supertest agent for the target; for a remote one, each request waits for it to be ready. */
function agentFor(target: Server | Remote) {
  if (!isRemote(target)) return request(target)
  const agent = request(target.base)
  return new Proxy(agent, {
    get(object, property) {
      const value = Reflect.get(object, property)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const test = value.apply(object, args)
        const end = test.end.bind(test)
        test.end = (callback: (error: unknown, res?: unknown) => void) => {
          target.ready.then(
            () => end(callback),
            (error) => callback(error),
          )
          return test
        }
        return test
      }
    },
  })
}

/** Listen (a local server) or wait for registration (a remote one): the base URL, and how to close. */
export async function serve(target: Server | Remote): Promise<{ base: string; close(): void }> {
  if (isRemote(target)) {
    await target.ready
    return target
  }
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  return {
    base: `http://127.0.0.1:${(target.address() as AddressInfo).port}`,
    close() {
      target.closeAllConnections()
      target.close()
    },
  }
}

function setup(mount: Mount, options: Partial<ReceiverOptions<unknown>> = {}) {
  const handled: WebhookEvent[] = []
  const server = mount({
    keys: KEY,
    url: URL_REGISTERED,
    on: { '*': (event: WebhookEvent) => void handled.push(event) },
    onError: () => {},
    ...options,
  })
  return { agent: agentFor(server), handled }
}

function expectShortReason(text: string) {
  expect(text).toMatch(/^sendclean-webhooks: /)
  expect(text).not.toContain(KEY)
  expect(text).not.toMatch(/\n\s+at /)
}

/** Every row of SPEC §5, through a real HTTP server built by `mount`. */
export function specMatrix(mount: Mount) {
  describe('SPEC §5 over HTTP', () => {
    it('GET answers the handshake', async () => {
      const res = await setup(mount).agent.get(PATH)
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(res.text).toBe(HANDSHAKE_BODY)
    })

    it('HEAD answers headers only', async () => {
      const res = await setup(mount).agent.head(PATH)
      expect(res.status).toBe(200)
      expect(res.headers['content-length']).toBe('24')
      expect(res.text ?? '').toBe('')
    })

    it('an empty POST is a handshake, whatever its signature', async () => {
      const res = await setup(mount).agent.post(PATH).set(SIGNATURE_HEADER, 'placeholder')
      expect(res.status).toBe(200)
      expect(res.text).toBe(HANDSHAKE_BODY)
    })

    it('a POST with no events field is a handshake', async () => {
      const res = await setup(mount).agent.post(PATH).type(FORM).send('description=test')
      expect(res.status).toBe(200)
      expect(res.text).toBe(HANDSHAKE_BODY)
    })

    it('a POST of an empty batch signed with a placeholder key is a handshake', async () => {
      const { body, signature } = formDelivery('[]', { key: 'placeholder' })
      const { agent, handled } = setup(mount)
      const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
      expect(res.status).toBe(200)
      expect(res.text).toBe(HANDSHAKE_BODY)
      expect(handled).toHaveLength(0)
    })

    it('a POST whose events field is blank is a handshake, whatever its signature', async () => {
      const { agent, handled } = setup(mount)
      for (const blank of ['', ' \n\t ']) {
        const { body } = formDelivery(blank, { key: 'placeholder' })
        const res = await agent
          .post(PATH)
          .type(FORM)
          .set(SIGNATURE_HEADER, 'placeholder')
          .send(body)
        expect(res.status).toBe(200)
        expect(res.text).toBe(HANDSHAKE_BODY)
      }
      expect(handled).toHaveLength(0)
    })

    it('a verified seed batch reaches the handlers in order and is acknowledged', async () => {
      const { body, signature } = formDelivery()
      const { agent, handled } = setup(mount)
      const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
      expect(res.status).toBe(200)
      expect(res.text).toBe(HANDSHAKE_BODY)
      expect(handled.map((e) => e.event)).toEqual(SEED_EVENTS.map((e) => e.event))
      expect(handled[4]).toMatchObject({ msg: { clicks: [{ clickUrl: 'http://example.com/' }] } })
    })

    it('a JSON body (extension) is verified over the raw text', async () => {
      const { agent, handled } = setup(mount)
      const res = await postSeedJson(agent)
      expect(res.status).toBe(200)
      expect(handled).toHaveLength(7)
    })

    it('a missing signature is 401', async () => {
      const { body } = formDelivery()
      const { agent, handled } = setup(mount)
      const res = await agent.post(PATH).type(FORM).send(body)
      expect(res.status).toBe(401)
      expectShortReason(res.text)
      expect(res.text).toContain(SIGNATURE_HEADER)
      expect(handled).toHaveLength(0)
    })

    it('a wrong signature is 401; the signed URL goes to onError, never into the answer', async () => {
      const { body, signature } = formDelivery(SEED_EVENTS_TEXT, { key: 'another-key' })
      const reported: WebhookError[] = []
      const secretUrl = `${URL_REGISTERED}?token=s3cr3t`
      const { agent, handled } = setup(mount, {
        url: secretUrl,
        onError: (e: WebhookError) => void reported.push(e),
      })
      const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
      expect(res.status).toBe(401)
      expectShortReason(res.text)
      expect(res.text).not.toContain('example.com')
      expect(res.text).not.toContain('s3cr3t')
      expect(res.text).not.toContain(signature)
      expect(reported[0]?.code).toBe('SIGNATURE_MISMATCH')
      expect(reported[0]?.message).toContain(secretUrl)
      expect(handled).toHaveLength(0)
    })

    it('an unsupported content type is 415', async () => {
      const res = await setup(mount).agent.post(PATH).type('text/plain').send('hello')
      expect(res.status).toBe(415)
      expectShortReason(res.text)
    })

    it('malformed JSON in the events field is 400', async () => {
      const { body, signature } = formDelivery('[{"event":')
      const res = await setup(mount)
        .agent.post(PATH)
        .type(FORM)
        .set(SIGNATURE_HEADER, signature)
        .send(body)
      expect(res.status).toBe(400)
      expectShortReason(res.text)
    })

    it('an events field that is not an array is 400', async () => {
      const { body, signature } = formDelivery('{"event":"send"}')
      const res = await setup(mount)
        .agent.post(PATH)
        .type(FORM)
        .set(SIGNATURE_HEADER, signature)
        .send(body)
      expect(res.status).toBe(400)
      expect(res.text).toContain('not a JSON array')
    })

    it('an event that fails its schema does not block its batch: it goes to invalid', async () => {
      const bad = { ...SEED_EVENTS[0], x_unique_id: null }
      const noType = { _id: 'm', ts: 1 }
      const events = [SEED_EVENTS[0], bad, SEED_EVENTS[2], noType, SEED_EVENTS[3]]
      const { body, signature } = formDelivery(JSON.stringify(events))
      const order: string[] = []
      const reported: WebhookError[] = []
      const { agent } = setup(mount, {
        on: {
          '*': (event: WebhookEvent) => void order.push(`* ${event.event}`),
          invalid: (event: InvalidEvent) => void order.push(`invalid ${event.type}`),
        },
        onError: (error: WebhookError) => void reported.push(error),
      })
      const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
      expect(res.status).toBe(200)
      expect(order).toEqual([
        '* hard_bounce',
        'invalid hard_bounce',
        '* invalid',
        '* send',
        'invalid undefined',
        '* invalid',
        '* delivered',
      ])
      expect(reported.map((e) => [e.code, e.index])).toEqual([
        ['INVALID_EVENT', 1],
        ['INVALID_EVENT', 3],
      ])
      expect((reported[0]?.event as InvalidEvent | undefined)?.raw).toEqual(bad)
      expect(reported[0]?.message).toContain('event 1 (hard_bounce).x_unique_id')
    })

    it('strict: true refuses a batch with an invalid event, 400, nothing handled', async () => {
      const events = [...SEED_EVENTS, { ...SEED_EVENTS[4], msg: { clicks: 'none' } }]
      const { body, signature } = formDelivery(JSON.stringify(events))
      const { agent, handled } = setup(mount, { strict: true })
      const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
      expect(res.status).toBe(400)
      expect(res.text).toContain('event 7 (click).msg.clicks')
      expect(handled).toHaveLength(0)
    })

    it('three identical deliveries at once run each event once; every 200 follows the work', async () => {
      const { body, signature } = formDelivery()
      let running = 0
      let finishedAt = 0
      const runs = new Map<string, number>()
      const { agent } = setup(mount, {
        idempotency: { store: memoryStore() },
        on: {
          '*': async (event: WebhookEvent) => {
            running++
            await new Promise((r) => setTimeout(r, 50))
            const id = `${event.event}:${(event as { x_unique_id?: string }).x_unique_id}`
            runs.set(id, (runs.get(id) ?? 0) + 1)
            running--
            finishedAt = Date.now()
          },
        },
      })
      const send = () =>
        agent
          .post(PATH)
          .type(FORM)
          .set(SIGNATURE_HEADER, signature)
          .send(body)
          .then((res) => ({ status: res.status, at: Date.now() }))
      const answers = await Promise.all([send(), send(), send()])
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
      expect([...runs.values()]).toEqual([1, 1, 1, 1, 1, 1, 1])
      expect(running).toBe(0)
      for (const answer of answers) expect(answer.at).toBeGreaterThanOrEqual(finishedAt)
    })

    it('an error hook that never settles cannot hold an answer', async () => {
      const { body } = formDelivery()
      const error = vi.spyOn(console, 'error').mockImplementation(() => {})
      try {
        const { agent } = setup(mount, { hookTimeoutMs: 50, onError: () => new Promise(() => {}) })
        const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, 'bogus').send(body)
        expect(res.status).toBe(401)
        expect(error.mock.calls.join(' ')).toContain('hookTimeoutMs')
      } finally {
        error.mockRestore()
      }
    })

    it('a duplicated form field is 400', async () => {
      const { body, signature } = formDelivery()
      const res = await setup(mount)
        .agent.post(PATH)
        .type(FORM)
        .set(SIGNATURE_HEADER, signature)
        .send(`${body}&${FIELD}=%5B%5D`)
      expect(res.status).toBe(400)
      expect(res.text).toContain('more than once')
    })

    it('a body over the limit is 413', async () => {
      const { body, signature } = formDelivery()
      const res = await setup(mount, { maxBodyBytes: 1000 })
        .agent.post(PATH)
        .type(FORM)
        .set(SIGNATURE_HEADER, signature)
        .send(body)
      expect(res.status).toBe(413)
      expectShortReason(res.text)
    })

    it('more events than maxEvents is 413', async () => {
      const { body, signature } = formDelivery()
      const res = await setup(mount, { maxEvents: 3 })
        .agent.post(PATH)
        .type(FORM)
        .set(SIGNATURE_HEADER, signature)
        .send(body)
      expect(res.status).toBe(413)
      expect(res.text).toContain('maxEvents')
    })

    it('other methods are 405 with Allow', async () => {
      const res = await setup(mount).agent.put(PATH).send('x')
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('GET, HEAD, POST')
    })

    it('a handler that throws is 500 and stops the batch', async () => {
      const { body, signature } = formDelivery()
      const seen: string[] = []
      const { agent } = setup(mount, {
        on: {
          '*': (event: WebhookEvent) => {
            seen.push(event.event)
            if (event.event === 'send') throw new Error('database down')
          },
        },
      })
      const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
      expect(res.status).toBe(500)
      expectShortReason(res.text)
      expect(res.text).not.toContain('database down')
      expect(seen).toEqual(['hard_bounce', 'soft_bounce', 'send'])
    })

    it('with no key configured, the handshake works and events are refused', async () => {
      const { agent, handled } = setup(mount, { keys: [] })
      expect((await agent.get(PATH)).status).toBe(200)
      const { body, signature } = formDelivery()
      const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
      expect(res.status).toBe(500)
      expect(res.text).toContain('no webhook key is configured')
      expect(handled).toHaveLength(0)
    })

    it('accepts either key during a rotation', async () => {
      const { agent, handled } = setup(mount, { keys: ['old-key', KEY] })
      for (const key of ['old-key', KEY]) {
        const { body, signature } = formDelivery(SEED_EVENTS_TEXT, { key })
        const res = await agent.post(PATH).type(FORM).set(SIGNATURE_HEADER, signature).send(body)
        expect(res.status).toBe(200)
      }
      expect(handled).toHaveLength(14)
    })
  })
}
