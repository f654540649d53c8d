import { describe, expect, it } from 'vitest'
import {
  EVENT_NAMES,
  eventIdentity,
  extraField,
  isKnownEvent,
  parseEvent,
  parseFeedbackReport,
} from '../src/index.js'
import { SEED_EVENTS } from './support/fixtures.js'

function parsed(raw: unknown) {
  const event = parseEvent(raw)
  if (event.event === 'invalid') throw new Error(JSON.stringify(event.issues))
  return event
}

describe('parseEvent on the seed payloads', () => {
  it('accepts all seven documented types', () => {
    expect(SEED_EVENTS.map((raw) => parsed(raw).event)).toEqual(SEED_EVENTS.map((e) => e.event))
    expect(new Set(SEED_EVENTS.map((e) => e.event))).toEqual(new Set(EVENT_NAMES))
  })

  it('adds a Date for ts and keeps every field as given', () => {
    const event = parsed(SEED_EVENTS[0])
    if (event.event === 'unknown') throw new Error('expected a known event')
    expect(event.date).toEqual(new Date(1465890656000))
    expect(event).toMatchObject(SEED_EVENTS[0] as object)
  })

  it('keeps bounce codes as given', () => {
    const event = parsed(SEED_EVENTS[1])
    expect(event).toMatchObject({ msg: { bounceCodeTrad: 472, bounceCodeEnh: '4.2.2' } })
  })

  it('splits the spam feedback report into fields', () => {
    const event = parsed(SEED_EVENTS[6])
    if (event.event !== 'spam') throw new Error('expected spam')
    expect(event.msg.feedback).toMatchObject({
      feedbackType: 'abuse',
      userAgent: 'ReturnPathFBL/2.0',
      arrivalDate: 'Tue, 14 June 2016 07:50:56 +0000',
      originalRcptTo: 'b0df23337efdcda913f1e8888014812b@example.com',
      originalMailFrom: 'b-60821810-purchase=example.com@example.org',
      reportedDomain: 'example.org',
      sourceIp: '0.0.0.0',
      abuseType: 'complaint',
    })
    expect(event.msg.feedbackReport).toBe(
      (SEED_EVENTS[6] as unknown as { msg: { feedbackReport: string } }).msg.feedbackReport,
    )
  })

  it('parses the feedback report of each event on first read, once, and shows it in copies', () => {
    const [a, b] = [parsed(SEED_EVENTS[6]), parsed(SEED_EVENTS[6])]
    if (a.event !== 'spam' || b.event !== 'spam') throw new Error('expected spam')
    // Not parsed before it is read: an accessor until then.
    expect(Object.getOwnPropertyDescriptor(a.msg, 'feedback')?.get).toBeTypeOf('function')
    const first = a.msg.feedback
    expect(a.msg.feedback).toBe(first)
    expect(Object.getOwnPropertyDescriptor(a.msg, 'feedback')).toMatchObject({
      value: first,
      enumerable: true,
    })
    // Each event's own report: another event's read neither shares nor reuses it.
    expect(b.msg.feedback).not.toBe(first)
    expect(b.msg.feedback).toEqual(first)
    const report = (b.msg as { feedbackReport: string }).feedbackReport
    const c = parsed({
      ...SEED_EVENTS[6],
      msg: { feedbackReport: report.replace('Feedback-Type: abuse', 'Feedback-Type: fraud') },
    })
    if (c.event !== 'spam') throw new Error('expected spam')
    expect(c.msg.feedback.feedbackType).toBe('fraud')
    expect(a.msg.feedback.feedbackType).toBe('abuse')
    // Enumerable: in spreads and JSON, read or not.
    const fresh = parsed(SEED_EVENTS[6])
    if (fresh.event !== 'spam') throw new Error('expected spam')
    expect({ ...fresh.msg }.feedback).toEqual(first)
    expect(JSON.parse(JSON.stringify(a)).msg.feedback).toEqual(JSON.parse(JSON.stringify(first)))
  })
})

describe('parseEvent leniency and strictness', () => {
  it('accepts numbers sent as numeric strings', () => {
    const raw = structuredClone(SEED_EVENTS[4]) as unknown as {
      ts: unknown
      msg: { clicks: Array<{ clickTs: unknown }> }
    }
    raw.ts = '1465988183000'
    raw.msg.clicks[0]!.clickTs = '1465988314000'
    const event = parsed(raw)
    expect(event).toMatchObject({
      ts: 1465988183000,
      msg: { clicks: [{ clickTs: 1465988314000 }] },
    })
  })

  it('keeps extra fields such as a white-label user_id, reachable with extraField', () => {
    const event = parsed({ ...SEED_EVENTS[2], user_id: 42 })
    expect(event).toMatchObject({ user_id: 42 })
    expect(extraField(event, 'user_id')).toBe(42)
    expect(extraField(event, 'toString')).toBeUndefined()
  })

  it('passes an undocumented type through as unknown', () => {
    const event = parseEvent({ event: 'unsubscribe', _id: 'x', whatever: [1] })
    expect(event).toMatchObject({
      event: 'unknown',
      type: 'unsubscribe',
      raw: { event: 'unsubscribe', whatever: [1] },
    })
    expect(isKnownEvent(event)).toBe(false)
  })

  const seed = (i: number) => structuredClone(SEED_EVENTS[i]) as Record<string, unknown>
  it.each([
    ['not an object', null, undefined, ''],
    ['an array', [], undefined, ''],
    ['no event field', { _id: 'x' }, undefined, 'event'],
    ['a ts that is not a number', { ...seed(0), ts: 'yesterday' }, 'hard_bounce', 'ts'],
    ['a ts of 1e21', { ...seed(0), ts: 1e21 }, 'hard_bounce', 'ts'],
    ['a ts of 1 and 400 zeros', { ...seed(0), ts: `1${'0'.repeat(400)}` }, 'hard_bounce', 'ts'],
    ['a ts past safe integers', { ...seed(0), ts: '9007199254740993' }, 'hard_bounce', 'ts'],
    ['a fractional ts', { ...seed(0), ts: 1.5 }, 'hard_bounce', 'ts'],
    ['a negative ts', { ...seed(0), ts: -1 }, 'hard_bounce', 'ts'],
    ['x_unique_id null', { ...seed(0), x_unique_id: null }, 'hard_bounce', 'x_unique_id'],
    [
      'an empty bounceCodeTrad',
      { ...seed(0), msg: { ...(seed(0).msg as object), bounceCodeTrad: '' } },
      'hard_bounce',
      'msg.bounceCodeTrad',
    ],
    ['no msg', { ...seed(2), msg: undefined }, 'send', 'msg'],
    ['opens missing', { ...seed(5), msg: {} }, 'open', 'msg.opens'],
  ])('makes an invalid event of %s', (_what, raw, type, path) => {
    const event = parseEvent(raw)
    if (event.event !== 'invalid') throw new Error(`expected invalid, got ${event.event}`)
    expect(event.type).toBe(type)
    expect(event.raw).toBe(raw)
    expect(event.issues.length).toBeGreaterThan(0)
    expect(event.issues[0]?.path.join('.')).toBe(path)
    expect(isKnownEvent(event)).toBe(false)
  })

  it('gives every valid event a valid date', () => {
    const event = parsed({ ...seed(0), ts: 8.64e15 })
    if (!isKnownEvent(event)) throw new Error('expected a known event')
    expect(Number.isNaN(event.date.getTime())).toBe(false)
  })
})

describe('eventIdentity', () => {
  const identity = (raw: unknown) => eventIdentity(parseEvent(raw))

  it('differs for every seed event, though they share one _id and ts', async () => {
    const ids = await Promise.all(SEED_EVENTS.map(identity))
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('tells apart events that share _id, type and ts but not x_unique_id', async () => {
    const a = SEED_EVENTS[0] as Record<string, unknown>
    const b = { ...a, x_unique_id: 'another' }
    expect(await identity(a)).not.toBe(await identity(b))
  })

  it('tells apart clicks by any field, and is stable for a copy', async () => {
    const click = structuredClone(SEED_EVENTS[4]) as unknown as {
      msg: { clicks: Array<{ clickTs: number; clickUrl: string }> }
    }
    const later = structuredClone(click)
    later.msg.clicks[0]!.clickTs += 1000
    const elsewhere = structuredClone(click)
    elsewhere.msg.clicks[0]!.clickUrl += '?b'
    expect(await identity(click)).not.toBe(await identity(later))
    expect(await identity(click)).not.toBe(await identity(elsewhere))
    expect(await identity(click)).toBe(await identity(structuredClone(click)))
  })

  it('does not depend on key order, at any depth', async () => {
    const a = SEED_EVENTS[0] as Record<string, unknown>
    const reversed = Object.fromEntries(
      Object.entries(a)
        .reverse()
        .map(([k, v]) => [
          k,
          v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse()) : v,
        ]),
    )
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(a))
    expect(await identity(reversed)).toBe(await identity(a))
  })

  it('tells apart unknown-type events that have no _id or ts', async () => {
    const a = { event: 'deferral', reason: 'greylisted' }
    const b = { event: 'deferral', reason: 'mailbox full' }
    expect(await identity(a)).not.toBe(await identity(b))
    expect(await identity(a)).toBe(await identity({ reason: 'greylisted', event: 'deferral' }))
  })

  it('does not merge numeric-string timestamps that collide as Numbers', async () => {
    const a = { ...(SEED_EVENTS[2] as object), ts: '9007199254740993' }
    const b = { ...(SEED_EVENTS[2] as object), ts: '9007199254740992' }
    expect(await identity(a)).not.toBe(await identity(b))
  })

  it('ignores what the receiver derives (date, the parsed spam report)', async () => {
    const spam = parseEvent(SEED_EVENTS[6])
    const before = await eventIdentity(spam)
    if (spam.event === 'spam') void spam.msg.feedback.feedbackType
    expect(await eventIdentity(spam)).toBe(before)
    expect(before.startsWith('spam:')).toBe(true)
    // A `msg.feedback` the sender sent is part of the event, read or not.
    const seed = SEED_EVENTS[6] as unknown as { msg: object }
    const sent = parseEvent({ ...seed, msg: { ...seed.msg, feedback: { by: 'sender' } } })
    expect(await eventIdentity(sent)).not.toBe(before)
  })

  it('is the same on the Web platform file (Web Crypto) as with node:crypto', async () => {
    const { vi } = await import('vitest')
    const node = await identity(SEED_EVENTS[0])
    vi.resetModules()
    vi.doMock('#platform', () => import('../src/platform/web.js'))
    const digest = vi.spyOn(globalThis.crypto.subtle, 'digest')
    try {
      const web = await import('../src/events/identity.js')
      const events = await import('../src/events/schemas.js')
      expect(await web.eventIdentity(events.parseEvent(SEED_EVENTS[0]))).toBe(node)
      expect(digest).toHaveBeenCalled()
    } finally {
      digest.mockRestore()
      vi.doUnmock('#platform')
      vi.resetModules()
    }
  })
})

describe('parseFeedbackReport', () => {
  it('unfolds continuation lines and keeps repeats in headers', () => {
    const report = parseFeedbackReport(
      'Feedback-Type: abuse\nReported-Uri: http://a\nReported-Uri: http://b\nUser-Agent: Some\n  Agent/1.0\n',
    )
    expect(report.userAgent).toBe('Some Agent/1.0')
    expect(report.reportedUri).toBe('http://a')
    expect(report.headers.filter(([name]) => name === 'Reported-Uri')).toHaveLength(2)
  })
})
