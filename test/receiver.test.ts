import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createReceiver,
  HANDSHAKE_BODY,
  memoryStore,
  type ReceiverOptions,
  verifyWebhook,
  type WebhookError,
  type WebhookEvent,
  type WebhookRequest,
} from '../src/index.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SEED_EVENTS_TEXT,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'

function post(
  body: string,
  headers: Record<string, string>,
  url = URL_REGISTERED,
): WebhookRequest<string> {
  return { method: 'POST', url, headers: new Headers(headers), body, context: 'ctx' }
}

function signed(options: Parameters<typeof formDelivery>[1] = {}, events = SEED_EVENTS_TEXT) {
  const { body, signature } = formDelivery(events, options)
  return post(body, { 'content-type': FORM, [SIGNATURE_HEADER]: signature })
}

const base: ReceiverOptions<string> = { keys: KEY, url: URL_REGISTERED, onError: () => {} }

describe('configuration fails loudly at construction', () => {
  it.each<[string, unknown, RegExp]>([
    ['no options', undefined, /options are required/],
    ['no keys', { url: URL_REGISTERED }, /`keys` is required/],
    ['keys of the wrong type', { keys: 42 }, /`keys` must be/],
    ['a relative url', { keys: KEY, url: '/webhooks' }, /`url` must be the absolute/],
    ['a bad header name', { keys: KEY, signatureHeader: 'x sig' }, /`signatureHeader`/],
    ['a zero limit', { keys: KEY, maxBodyBytes: 0 }, /`maxBodyBytes`/],
    ['a fractional maxEvents', { keys: KEY, maxEvents: 1.5 }, /`maxEvents`/],
    [
      'a misspelt event type',
      { keys: KEY, on: { bounce: () => {} } },
      /unknown event type "bounce"/,
    ],
    ['a handler that is not a function', { keys: KEY, on: { send: 'x' } }, /not a function/],
  ])('%s', (_name, options, message) => {
    expect(() => createReceiver(options as ReceiverOptions)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    )
    expect(() => createReceiver(options as ReceiverOptions)).toThrow(message)
  })

  it('on() refuses an unknown type and an empty list', () => {
    const receiver = createReceiver({ keys: KEY })
    expect(() => receiver.on('clik' as 'click', () => {})).toThrow(
      /unknown event type "clik" \(did you mean "click"\?\); expected one of send, /,
    )
    expect(() => receiver.on([], () => {})).toThrow(/non-empty/)
  })

  // A misspelt option would otherwise keep its default without a word: a `maxBodySize` leaves
  // the 1 MiB limit, a `path` on the Express middleware answers every path of the app.
  it.each<[string, Record<string, unknown>, string]>([
    [
      'a misspelt limit',
      { maxBodySize: 10 },
      'unknown option "maxBodySize" (did you mean "maxBodyBytes"?)',
    ],
    ['another case', { Strict: true }, 'unknown option "Strict" (did you mean "strict"?)'],
    [
      'a unit left out',
      { handlerTimeout: 5 },
      'unknown option "handlerTimeout" (did you mean "handlerTimeoutMs"?)',
    ],
    [
      'another library’s name',
      { secret: 'x' },
      'unknown option "secret" (SendClean calls it the webhook key: `keys`)',
    ],
    [
      'a path',
      { path: '/hook' },
      'unknown option "path": mount the receiver on its path with your router',
    ],
    ['a name close to none', { colour: 'red' }, 'unknown option "colour"'],
    [
      'inside idempotency',
      { idempotency: { store: memoryStore(), ttl: 5 } },
      'unknown option "idempotency.ttl" (did you mean "ttlMs"?)',
    ],
    [
      'inside queue',
      { queue: { sink: { enqueue: async () => {} }, timeout: 5 } },
      'unknown option "queue.timeout" (did you mean "timeoutMs"?)',
    ],
    [
      'inside openTelemetry',
      { openTelemetry: { tracer: {} } },
      'unknown option "openTelemetry.tracer" (did you mean "tracerProvider"?)',
    ],
  ])('refuses an unknown option: %s', (_name, extra, message) => {
    const build = () => createReceiver({ keys: KEY, ...extra } as ReceiverOptions)
    expect(build).toThrow(expect.objectContaining({ code: 'CONFIGURATION' }))
    expect(build).toThrow(`sendclean-webhooks: ${message}`)
    if (!message.includes('did you mean')) expect(build).not.toThrow(/did you mean/)
  })

  // Read as a flag or a name, these took effect silently: `strict: 'true'` from an environment
  // variable was not strict, and `namespace: ''` put every webhook sharing a store in one.
  it.each([
    [{ strict: 'true' }, '`strict` must be true or false'],
    [{ strict: 1 }, '`strict` must be true or false'],
    [{ namespace: '' }, '`namespace` must be a non-empty string'],
    [{ namespace: 5 }, '`namespace` must be a non-empty string'],
  ])('refuses %j', async (extra, message) => {
    const build = () => createReceiver({ keys: KEY, ...extra } as ReceiverOptions)
    expect(build).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION', message: `sendclean-webhooks: ${message}` }),
    )
    if ('strict' in extra) {
      await expect(
        verifyWebhook({
          body: '',
          headers: {},
          url: 'https://example.com/hook',
          keys: KEY,
          ...extra,
        } as never),
      ).rejects.toThrow(`sendclean-webhooks: ${message}`)
    }
  })

  it('takes every option it documents, at every level', () => {
    const options: Required<ReceiverOptions> = {
      keys: [KEY],
      url: URL_REGISTERED,
      trustProxy: 1,
      signatureHeader: SIGNATURE_HEADER,
      eventsField: 'SendCleantes_events',
      maxBodyBytes: 1024,
      maxFields: 4,
      maxEvents: 10,
      bodyTimeoutMs: 1000,
      handlerTimeoutMs: 1000,
      idempotency: {
        store: memoryStore(),
        ttlMs: 60_000,
        leaseMs: 10_000,
        renewEveryMs: 2_000,
        storeTimeoutMs: 1_000,
      },
      namespace: 'ns',
      identity: (event) => event.event,
      strict: true,
      queue: { sink: { enqueue: async () => {} }, timeoutMs: 1000 },
      on: { send: () => {} },
      onError: () => {},
      hookTimeoutMs: 1000,
      openTelemetry: { tracerProvider: undefined, meterProvider: undefined, api: undefined },
    }
    const { queue, ...inProcess } = options
    expect(createReceiver(inProcess)).toBeDefined()
    const { on: _on, idempotency: _idempotency, ...queued } = options
    expect(createReceiver(queued)).toBeDefined()
    expect(queue).toBeDefined()
  })
})

describe('keys and URL resolvers', () => {
  it('resolves keys per request, with the request info', async () => {
    const keys = vi.fn(async ({ context }: { context: string }) => (context === 'ctx' ? [KEY] : []))
    const receiver = createReceiver<string>({ ...base, keys })
    expect((await receiver.handle(signed())).status).toBe(200)
    expect(keys).toHaveBeenCalledWith(
      expect.objectContaining({ url: URL_REGISTERED, context: 'ctx' }),
    )
  })

  it('answers 500 INTERNAL_ERROR when a resolver throws, without leaking its message', async () => {
    const errors: WebhookError[] = []
    const receiver = createReceiver<string>({
      ...base,
      keys: () => {
        throw new Error('db password=hunter2')
      },
      onError: (e) => void errors.push(e),
    })
    const res = await receiver.handle(signed())
    expect(res.status).toBe(500)
    expect(res.body).not.toContain('hunter2')
    expect(errors[0]?.code).toBe('INTERNAL_ERROR')
  })

  it('takes the registered URL from a function', async () => {
    const other = 'https://tenant-7.example.com/hook?x=1'
    const receiver = createReceiver<string>({ ...base, url: () => other })
    expect((await receiver.handle(signed({ url: other }))).status).toBe(200)
    expect((await receiver.handle(signed())).status).toBe(401)
  })

  it('reports a trailing-slash difference as a URL mismatch', async () => {
    const errors: WebhookError[] = []
    const receiver = createReceiver<string>({ ...base, onError: (e) => void errors.push(e) })
    const res = await receiver.handle(signed({ url: `${URL_REGISTERED}/` }))
    expect(res.status).toBe(401)
    expect(errors[0]).toMatchObject({ code: 'URL_MISMATCH', signedUrl: URL_REGISTERED })
  })
})

describe('events field and body forms', () => {
  it('finds a white-label *_events field', async () => {
    const seen: string[] = []
    const receiver = createReceiver<string>({
      ...base,
      on: { '*': (e) => void seen.push(e.event) },
    })
    expect((await receiver.handle(signed({ field: 'sarvtes_events' }))).status).toBe(200)
    expect(seen).toHaveLength(7)
  })

  it('with eventsField, only that field counts', async () => {
    const receiver = createReceiver<string>({ ...base, eventsField: 'custom' })
    const res = await receiver.handle(signed({ field: 'custom' }))
    expect(res.status).toBe(200)
    const other = await receiver.handle(signed({ field: 'sarvtes_events' }))
    expect(other).toMatchObject({ status: 200, body: HANDSHAKE_BODY })
  })

  it('refuses two *_events fields as ambiguous', async () => {
    const receiver = createReceiver<string>(base)
    const res = await receiver.handle(post('a_events=[1]&b_events=[2]', { 'content-type': FORM }))
    expect(res.status).toBe(400)
    expect(res.body).toContain('eventsField')
  })

  it('accepts bytes and streams as bodies', async () => {
    const receiver = createReceiver<string>(base)
    const { body, signature } = formDelivery()
    const headers = { 'content-type': FORM, [SIGNATURE_HEADER]: signature }
    const bytes = new TextEncoder().encode(body)
    expect((await receiver.handle({ ...post('', headers), body: bytes })).status).toBe(200)
    expect(
      (await receiver.handle({ ...post('', headers), body: bytes.buffer as ArrayBuffer })).status,
    ).toBe(200)
    const stream = new Blob([bytes.subarray(0, 100), bytes.subarray(100)]).stream()
    expect((await receiver.handle({ ...post('', headers), body: stream })).status).toBe(200)
  })

  it.each([
    ['a charset that is not UTF-8', { 'content-type': `${FORM}; charset=iso-8859-1` }, 415],
    ['a UTF-8 charset', { 'content-type': `${FORM}; charset=UTF-8` }, 200],
    ['gzip', { 'content-type': FORM, 'content-encoding': 'gzip' }, 415],
    [
      'a Content-Length over the limit',
      { 'content-type': FORM, 'content-length': '99999999999' },
      413,
    ],
  ])('%s', async (_name, headers, status) => {
    const { body, signature } = formDelivery()
    const receiver = createReceiver<string>(base)
    const res = await receiver.handle(post(body, { ...headers, [SIGNATURE_HEADER]: signature }))
    expect(res.status).toBe(status)
  })
})

describe('dispatch', () => {
  it('runs own handlers, then unknown, then *, in batch order', async () => {
    const calls: string[] = []
    const events = JSON.stringify([
      JSON.parse(SEED_EVENTS_TEXT)[2],
      { event: 'unsubscribe', _id: 'u' },
    ])
    const receiver = createReceiver<string>({
      ...base,
      on: {
        send: () => void calls.push('send'),
        unknown: (e) => void calls.push(`unknown:${e.type}`),
      },
    }).on('*', (e: WebhookEvent, ctx) => void calls.push(`*:${e.event}:${ctx}`))
    const res = await receiver.handle(signed({}, events))
    expect(res.status).toBe(200)
    expect(calls).toEqual(['send', '*:send:ctx', 'unknown:unsubscribe', '*:unknown:ctx'])
  })

  it('waits for async handlers before answering', async () => {
    let done = 0
    const receiver = createReceiver<string>({
      ...base,
      on: { '*': () => new Promise<void>((resolve) => setTimeout(() => resolve(void done++), 5)) },
    })
    await receiver.handle(signed())
    expect(done).toBe(7)
  })

  it('runs synchronous and asynchronous handlers in batch order, each event once', async () => {
    const calls: string[] = []
    const slow = (index: number) =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          calls.push(`${index} done`)
          resolve()
        }, 5),
      )
    let index = 0
    const receiver = createReceiver<string>({
      ...base,
      // The third event waits; the others are synchronous, before and after it.
      on: {
        '*': () => {
          const at = index++
          calls.push(`${at}`)
          return at === 2 ? slow(at) : undefined
        },
      },
    })
    expect((await receiver.handle(signed())).status).toBe(200)
    expect(calls).toEqual(['0', '1', '2', '2 done', '3', '4', '5', '6'])
  })

  it('a synchronous handler failing after an asynchronous one fails the batch', async () => {
    const errors: WebhookError[] = []
    const receiver = createReceiver<string>({
      ...base,
      on: {
        send: () => new Promise<void>((resolve) => setTimeout(resolve, 5)),
        click: () => {
          throw new Error('boom')
        },
      },
      onError: (e) => void errors.push(e),
    })
    expect((await receiver.handle(signed())).status).toBe(500)
    expect(errors.map((e) => [e.code, e.index])).toEqual([['HANDLER_FAILED', 4]])
  })

  it('reports a handler failure with the event and its cause', async () => {
    const errors: WebhookError[] = []
    const cause = new Error('boom')
    const receiver = createReceiver<string>({
      ...base,
      on: {
        click: () => {
          throw cause
        },
      },
      onError: (e) => void errors.push(e),
    })
    expect((await receiver.handle(signed())).status).toBe(500)
    expect(errors[0]).toMatchObject({
      code: 'HANDLER_FAILED',
      index: 4,
      cause,
      event: { event: 'click' },
    })
  })
})

describe('logging', () => {
  afterEach(() => vi.restoreAllMocks())

  it('without onError, logs 5xx and URL mismatches, never a key; 401s stay quiet', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    const receiver = createReceiver<string>({ keys: KEY, url: URL_REGISTERED })
    await receiver.handle(signed({ key: 'wrong' }))
    expect(log).not.toHaveBeenCalled()
    await receiver.handle(signed({ url: `${URL_REGISTERED}/` }))
    receiver.on('send', () => {
      throw new Error('x')
    })
    await receiver.handle(signed())
    expect(log).toHaveBeenCalledTimes(2)
    // A handler failure is logged with its cause, so it can be debugged without onError.
    expect(log.mock.calls[1]?.[1]).toBeInstanceOf(Error)
    expect(JSON.stringify(log.mock.calls.map((call) => String(call)))).not.toContain(KEY)
  })

  it('an onError that throws does not change the answer', async () => {
    const receiver = createReceiver<string>({
      ...base,
      onError: () => {
        throw new Error('hook broke')
      },
    })
    expect((await receiver.handle(signed({ key: 'wrong' }))).status).toBe(401)
  })
})

describe('on the Web platform file (Workers, browsers)', () => {
  beforeEach(() => {
    vi.resetModules()
    vi.doMock('#platform', () => import('../src/platform/web.js'))
  })
  afterEach(() => {
    vi.doUnmock('#platform')
    vi.resetModules()
  })

  it('verifies with Web Crypto', async () => {
    const sign = vi.spyOn(globalThis.crypto.subtle, 'sign')
    const core = await import('../src/index.js')
    const receiver = core.createReceiver<string>(base)
    expect((await receiver.handle(signed())).status).toBe(200)
    expect((await receiver.handle(signed({ key: 'wrong' }))).status).toBe(401)
    expect(sign).toHaveBeenCalled()
  })

  it('checks every key, and tells a URL mismatch, with Web Crypto too', async () => {
    const core = await import('../src/index.js')
    const errors: string[] = []
    const receiver = core.createReceiver<string>({
      ...base,
      keys: ['old-key', KEY],
      onError: (e) => void errors.push(e.code),
    })
    const statuses = []
    for (const options of [
      {},
      { key: 'old-key' },
      { key: 'wrong' },
      { url: `${URL_REGISTERED}/` },
    ]) {
      statuses.push((await receiver.handle(signed(options))).status)
    }
    expect(statuses).toEqual([200, 200, 401, 401])
    expect(errors).toEqual(['SIGNATURE_MISMATCH', 'URL_MISMATCH'])
  })
})

describe('before the signature is checked', () => {
  it('an unsigned JSON body is refused without being parsed', async () => {
    const body = `[${'{"event":"send"},'.repeat(5000)}{}]`
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const res = await createReceiver(base).handle(
        post(body, { 'content-type': 'application/json', [SIGNATURE_HEADER]: 'bogus' }),
      )
      expect(res.status).toBe(401)
      expect(parse.mock.calls.filter(([text]) => String(text).length >= body.length)).toEqual([])
    } finally {
      parse.mockRestore()
    }
  })

  it('an unsigned form value is not copied into a string or parsed', async () => {
    const { body } = formDelivery(SEED_EVENTS_TEXT)
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const res = await createReceiver(base).handle(
        post(body, { 'content-type': FORM, [SIGNATURE_HEADER]: 'bogus' }),
      )
      expect(res.status).toBe(401)
      expect(parse).not.toHaveBeenCalled()
    } finally {
      parse.mockRestore()
    }
  })

  it('the URL diagnosis runs only for small bodies; the answer never names a URL', async () => {
    const errors: WebhookError[] = []
    const receiver = createReceiver({
      ...base,
      url: `${URL_REGISTERED}/`,
      onError: (e) => void errors.push(e),
    })
    const small = await receiver.handle(signed())
    const large = await receiver.handle(
      signed(
        {},
        JSON.stringify(Array.from({ length: 200 }, () => JSON.parse(SEED_EVENTS_TEXT)[4])),
      ),
    )
    expect([small.status, large.status]).toEqual([401, 401])
    expect(errors.map((e) => e.code)).toEqual(['URL_MISMATCH', 'SIGNATURE_MISMATCH'])
    expect(errors[1]?.message).toContain('not tried, the body is over 64 KiB')
    for (const res of [small, large]) expect(res.body).not.toContain('example.com')
  })

  it('maxFields refuses a form with more fields, 413, at the first field past it', async () => {
    const errors: WebhookError[] = []
    const receiver = createReceiver({ ...base, maxFields: 2, onError: (e) => void errors.push(e) })
    const res = await receiver.handle(post('a=1&b=2&c=3', { 'content-type': FORM }))
    expect(res.status).toBe(413)
    expect(res.body).toContain('maxFields')
    expect((await receiver.handle(post('a=1&&b=2&', { 'content-type': FORM }))).status).toBe(200)
    expect(() => createReceiver({ ...base, maxFields: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    )
  })
})

describe('keys from the environment', () => {
  it('a comma-separated string is several keys (a rotation in one variable)', async () => {
    const receiver = createReceiver({ ...base, keys: ` other-key , ${KEY}` })
    expect((await receiver.handle(signed())).status).toBe(200)
  })

  it('an array of keys stays yours: a key added to it later is used (a string is split once)', async () => {
    const keys = ['other-key']
    const receiver = createReceiver({ ...base, keys })
    expect((await receiver.handle(signed())).status).toBe(401)
    keys.push(KEY)
    expect((await receiver.handle(signed())).status).toBe(200)
  })

  it('a resolver that returns nothing is named in the 500', async () => {
    const res = await createReceiver({ ...base, keys: () => undefined }).handle(signed())
    expect(res.status).toBe(500)
    expect(res.body).toContain('the `keys` resolver returned no key')
  })
})

describe("the platform's form loop", () => {
  afterEach(() => {
    vi.doUnmock('#platform')
    vi.resetModules()
  })

  it('each receiver makes its own, and decodes large form bodies with it', async () => {
    vi.resetModules()
    const made: Array<{ runs: number }> = []
    vi.doMock('#platform', async () => {
      const node = await vi.importActual<typeof import('../src/platform/node.js')>('#platform')
      return {
        ...node,
        createFormLoop: () => {
          const loop = node.createFormLoop()
          if (!loop) throw new Error('no WebAssembly loop on Node')
          const counted = { runs: 0 }
          made.push(counted)
          const run = loop.run.bind(loop)
          loop.run = (...args: Parameters<typeof run>) => {
            counted.runs++
            run(...args)
          }
          return loop
        },
      }
    })
    const fresh = await import('../src/index.js')
    const handled: string[] = []
    const one = fresh.createReceiver({ ...base, on: { '*': (e) => void handled.push(e.event) } })
    fresh.createReceiver(base)
    expect((await one.handle(signed())).status).toBe(200)
    expect(handled).toHaveLength(SEED_EVENTS.length)
    expect(made).toHaveLength(2)
    expect(made[0]?.runs).toBeGreaterThan(0)
    expect(made[1]?.runs).toBe(0)
  })
})

describe('handle() without a context', () => {
  it('answers and runs handlers; the context they get is undefined', async () => {
    const contexts: unknown[] = []
    const receiver = createReceiver({
      ...base,
      on: { '*': (_e, context) => void contexts.push(context) },
    })
    const { context: _dropped, ...request } = signed()
    expect((await receiver.handle(request)).status).toBe(200)
    expect(contexts).toEqual(SEED_EVENTS.map(() => undefined))
  })
})

describe('receive(): handlers without HTTP', () => {
  const byType = (type: string) =>
    SEED_EVENTS.find((e) => e.event === type) as (typeof SEED_EVENTS)[number]
  const HARD_BOUNCE = byType('hard_bounce')
  const SEND = byType('send')

  it('validates and runs every event in order, with the context given, and checks no signature', async () => {
    const seen: Array<[string, unknown]> = []
    const receiver = createReceiver<string>({ keys: [], onError: () => {} }).on(
      '*',
      (event, context) => {
        seen.push([event.event, context])
      },
    )
    await receiver.receive(SEED_EVENTS, 'job-42')
    expect(seen).toEqual(SEED_EVENTS.map((e) => [e.event, 'job-42']))
  })

  it('gives typed events (date added, numeric strings made numbers) and keeps its input as it was', async () => {
    const dates: number[] = []
    // One event with a numeric string, one exactly as SendClean sends it: neither is changed.
    const input = [{ ...HARD_BOUNCE, ts: String(HARD_BOUNCE.ts) }, { ...HARD_BOUNCE }]
    const copy = structuredClone(input)
    await createReceiver({ keys: [] })
      .on('hard_bounce', (event) => void dates.push(event.date.getTime()))
      .receive(input)
    expect(dates).toEqual([HARD_BOUNCE.ts, HARD_BOUNCE.ts])
    expect(input).toEqual(copy)
  })

  it('sends an event that fails its schema to `invalid`, and runs the rest', async () => {
    const got: string[] = []
    const receiver = createReceiver({ keys: [], onError: () => {} })
      .on('invalid', (event) => void got.push(`invalid:${event.type}`))
      .on('send', () => void got.push('send'))
    await receiver.receive([{ ...HARD_BOUNCE, msg: {} }, SEND])
    expect(got).toEqual(['invalid:hard_bounce', 'send'])
  })

  it('runs an event once across calls with an idempotency store', async () => {
    let runs = 0
    const receiver = createReceiver({ keys: [], idempotency: { store: memoryStore() } }).on(
      'send',
      () => void runs++,
    )
    await receiver.receive([SEND])
    await receiver.receive([SEND])
    expect(runs).toBe(1)
  })

  it('rejects with the WebhookError a request would have been answered with', async () => {
    const receiver = createReceiver({ keys: [], onError: () => {}, maxEvents: 2 }).on(
      'send',
      () => {
        throw new Error('boom')
      },
    )
    await expect(receiver.receive([SEND])).rejects.toMatchObject({
      code: 'HANDLER_FAILED',
      status: 500,
    })
    await expect(receiver.receive(SEED_EVENTS)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    await expect(receiver.receive({} as unknown as unknown[])).rejects.toMatchObject({
      code: 'MALFORMED_PAYLOAD',
    })
  })
})
