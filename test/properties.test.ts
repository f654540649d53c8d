import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createReceiver, type WebhookRequest } from '../src/index.js'
import { signForm } from '../testing/index.js'

const URL_ = 'https://example.com/webhooks/sendclean'
const KEY = 'property-key'
// No 5xx: with a key configured and a handler that cannot fail, a 500 or 503 can only be a
// crash inside the receiver, which the test must catch.
const SPEC_STATUSES = new Set([200, 400, 401, 405, 408, 413, 415])
const codes: string[] = []
const EVENTS = '[{"event":"x_custom","_id":"m"}]'

const receiver = createReceiver<undefined>({
  keys: KEY,
  url: URL_,
  maxBodyBytes: 64 * 1024,
  bodyTimeoutMs: 1000,
  handlerTimeoutMs: 1000,
  onError: (error) => void codes.push(error.code),
  on: { '*': () => {} },
})

/** Resolve within `ms` or fail: "never hangs". */
async function answer(request: WebhookRequest<undefined>, ms = 2000) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the receiver hung')), ms)
  })
  try {
    return await Promise.race([receiver.handle(request), hang])
  } finally {
    clearTimeout(timer)
  }
}

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'SendCleantes_events',
    'a_events',
    '%',
    '+',
    '&',
    '=',
  ),
)
const contentType = fc.oneof(
  fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/json',
    'application/vnd.api+json',
    'text/plain',
    'multipart/form-data; boundary=x',
    '',
  ),
  fc.string(),
)
const jsonish = fc.oneof(
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify([v])),
  fc.integer({ min: 1, max: 3000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
  fc.constant('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}'),
  fc.constant('[{"__proto__":{"event":"send"},"event":"spam"}]'),
)
const body = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ maxLength: 2048 }),
  jsonish,
  fc.tuple(nasty, jsonish).map(([name, value]) => new URLSearchParams([[name, value]]).toString()),
  fc
    .array(fc.tuple(nasty, nasty), { maxLength: 5 })
    .map((pairs) => new URLSearchParams(pairs).toString()),
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => {
    const chunks = [bytes.subarray(0, bytes.length / 2), bytes.subarray(bytes.length / 2)]
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift()
        if (next) controller.enqueue(next)
        else controller.close()
      },
    })
  }),
  fc.constant(new Uint8Array(70 * 1024)),
)

describe('the core under arbitrary requests', () => {
  it('answers a SPEC §5 status and never throws, rejects or hangs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'post'),
          fc.string(),
        ),
        contentType,
        fc.dictionary(
          fc.constantFrom(
            'content-encoding',
            'content-length',
            'x-sendcleantes-signature',
            'x-forwarded-host',
          ),
          fc.string(),
        ),
        body,
        async (method, type, extra, payload) => {
          codes.length = 0
          const headers = new Headers()
          for (const [name, value] of Object.entries({ ...extra, 'content-type': type })) {
            try {
              headers.set(name, value)
            } catch {
              // Not a valid header value: an HTTP server would not deliver it either.
            }
          }
          const res = await answer({
            method,
            url: URL_,
            headers,
            body: payload,
            context: undefined,
          })
          expect(SPEC_STATUSES.has(res.status), `${res.status} ${res.body}`).toBe(true)
          expect(res.body).not.toContain(KEY)
          expect(codes.filter((c) => c === 'INTERNAL_ERROR')).toEqual([])
        },
      ),
      { numRuns: 400 },
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('answers signed batches of arbitrary JSON with 200, 400 or 413 only', async () => {
    await fc.assert(
      fc.asyncProperty(jsonish, async (events) => {
        codes.length = 0
        const signature = await signForm({
          key: KEY,
          url: URL_,
          fields: { SendCleantes_events: events },
        })
        const res = await answer({
          method: 'POST',
          url: URL_,
          headers: new Headers({
            'content-type': 'application/x-www-form-urlencoded',
            'x-sendcleantes-signature': signature,
          }),
          body: new URLSearchParams({ SendCleantes_events: events }).toString(),
          context: undefined,
        })
        expect([200, 400, 413], res.body).toContain(res.status)
        expect(codes.filter((c) => c === 'INTERNAL_ERROR')).toEqual([])
      }),
      { numRuns: 300 },
    )
  })
})

// Hostile shapes before authentication: many fields (with or without '=', empty segments), a
// duplicate anywhere, large arrays of empty values, deep nesting; as forms and as JSON. The
// answer must come within a bound proportional to the body's size (generous: these machines
// are shared), which a quadratic step blows through at a few tens of thousands of fields.
const segment = fc.constantFrom('', 'x', 'x=', 'a=1', '=', 'b=%20', 'SendCleantes_events=[]')
const hostileForm = fc
  .tuple(
    fc.integer({ min: 1, max: 60_000 }),
    fc.array(segment, { minLength: 1, maxLength: 4 }),
    fc.option(fc.nat(), { nil: undefined }),
  )
  .map(([count, pattern, duplicateAt]) => {
    const parts = Array.from({ length: count }, (_, i) => {
      const p = pattern[i % pattern.length] as string
      return p === 'x' || p === 'x=' ? `${p.replace('x', `x${i}`)}` : p
    })
    if (duplicateAt !== undefined) parts.splice(duplicateAt % parts.length, 0, 'dup=1', 'dup=2')
    return { type: 'application/x-www-form-urlencoded', body: parts.join('&') }
  })
// The worst case for a per-field search: tens of thousands of '='-less fields, a duplicate
// somewhere, the only '=' at the very end.
const fieldBomb = fc
  .tuple(fc.integer({ min: 20_000, max: 80_000 }), fc.nat())
  .map(([count, at]) => {
    const parts = Array.from({ length: count }, (_, i) => `x${i}`)
    parts.splice(at % count, 0, 'dup', 'dup')
    return { type: 'application/x-www-form-urlencoded', body: `${parts.join('&')}&a=1` }
  })
const hostileJson = fc
  .tuple(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('{}', '[]', '0', '""'), fc.boolean())
  .map(([count, item, wrapped]) => {
    const array = `[${Array.from({ length: count }, () => item).join(',')}]`
    return {
      type: 'application/json',
      body: wrapped ? `{"SendCleantes_events":${array}}` : array,
    }
  })
const hostileNested = fc.integer({ min: 1, max: 200_000 }).map((depth) => ({
  type: 'application/json',
  body: `${'['.repeat(depth)}${']'.repeat(depth)}`,
}))

describe('hostile bodies before the signature is checked', () => {
  const hostile = createReceiver<undefined>({
    keys: KEY,
    url: URL_,
    maxFields: 1_000_000,
    onError: () => {},
    on: { '*': () => {} },
  })

  it('are answered in time linear in their size, with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostileForm, fieldBomb, hostileJson, hostileNested),
        async ({ type, body }) => {
          const started = performance.now()
          const res = await hostile.handle({
            method: 'POST',
            url: URL_,
            headers: new Headers({ 'content-type': type, 'x-sendcleantes-signature': 'bogus' }),
            body,
            context: undefined,
          })
          const ms = performance.now() - started
          expect([200, 400, 401, 413], res.body).toContain(res.status)
          // 250 ms, plus 5 µs a byte: far above linear work, far below a quadratic step.
          expect(ms, `${body.length} bytes took ${ms.toFixed(0)} ms`).toBeLessThan(
            250 + body.length * 0.005,
          )
        },
      ),
      { numRuns: 60, endOnFailure: true },
    )
  }, 120_000)
})

// Field names that are not events fields, unique, and any text at all as values.
const name = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((n) => !n.toLowerCase().endsWith('_events'))
const fields = fc.uniqueArray(fc.tuple(name, fc.string({ maxLength: 40 })), {
  selector: ([n]) => n,
  maxLength: 4,
})
const special = fc.constantFrom(
  '',
  '+',
  '&',
  '=',
  '%',
  '%2B',
  'a b',
  'ü',
  '日本',
  '😀',
  '\u0000',
  '\r\n',
)
const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  special,
  fc.string({ unit: 'grapheme', maxLength: 20 }),
)

function request(form: Array<[string, string]>, signature: string): WebhookRequest<undefined> {
  return {
    method: 'POST',
    url: URL_,
    headers: new Headers({
      'content-type': 'application/x-www-form-urlencoded',
      'x-sendcleantes-signature': signature,
    }),
    body: new URLSearchParams(form).toString(),
    context: undefined,
  }
}

describe('signatures', () => {
  it('sign then verify round-trips for arbitrary field names and values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 4 }),
        async (extra) => {
          const form: Array<[string, string]> = [...extra, ['SendCleantes_events', EVENTS]]
          const signature = await signForm({ key: KEY, url: URL_, fields: form })
          const res = await answer(request(form, signature))
          expect(res.status, res.body).toBe(200)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('verifies only when key, URL and every field are exactly those signed', async () => {
    const change = fc.oneof(
      fc.record({ what: fc.constant('key' as const), to: fc.string({ minLength: 1 }) }),
      fc.record({ what: fc.constant('url' as const), to: fc.string({ minLength: 1 }) }),
      fc.record({ what: fc.constant('name' as const), to: name }),
      fc.record({ what: fc.constant('value' as const), to: fc.string() }),
    )
    await fc.assert(
      fc.asyncProperty(fields, change, fc.nat(), async (extra, { what, to }, pick) => {
        const form: Array<[string, string]> = [...extra, ['SendCleantes_events', EVENTS]]
        let key = KEY
        let url = URL_
        const signedForm = form.map(([n, v]) => [n, v] as [string, string])
        const i = pick % signedForm.length
        const target = signedForm[i] as [string, string]
        if (what === 'key') key = KEY + to
        if (what === 'url') url = URL_ + to
        if (what === 'name' && target[0] !== 'SendCleantes_events') {
          if (form.some(([n]) => n === to)) return
          target[0] = to
        }
        if (what === 'value') {
          if (target[1] === to) return
          target[1] = to
        }
        if (what === 'name' && target[0] === 'SendCleantes_events') return
        const signature = await signForm({ key, url, fields: signedForm })
        // What arrives is the original form; the signature was made over something else.
        const res = await answer(request(form, signature))
        expect(res.status, `${what} changed: ${res.body}`).toBe(401)
      }),
      { numRuns: 400 },
    )
  })
})
