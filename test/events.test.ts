import { describe, expect, it } from 'vitest'
import {
  EVENT_NAMES,
  eventIdentity,
  isKnownEvent,
  parseEvent,
  parseFeedbackReport,
} from '../src/index.js'
import { SEED_EVENTS } from './support/fixtures.js'

function parsed(raw: unknown) {
  const result = parseEvent(raw)
  if (!result.ok) throw new Error(result.message)
  return result.event
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

  it('keeps extra fields such as a white-label user_id', () => {
    expect(parsed({ ...SEED_EVENTS[2], user_id: 42 })).toMatchObject({ user_id: 42 })
  })

  it('passes an undocumented type through as unknown', () => {
    const result = parseEvent({ event: 'unsubscribe', _id: 'x', whatever: [1] })
    expect(result).toMatchObject({
      ok: true,
      known: false,
      event: {
        event: 'unknown',
        type: 'unsubscribe',
        raw: { event: 'unsubscribe', whatever: [1] },
      },
    })
    if (result.ok) expect(isKnownEvent(result.event)).toBe(false)
  })

  it.each([
    [null, 'is not an object'],
    [[], 'is not an object'],
    [{ _id: 'x' }, 'has no string "event" field'],
    [{ ...SEED_EVENTS[0], ts: 'yesterday' }, '(hard_bounce).ts'],
    [{ ...SEED_EVENTS[5], msg: {} }, '(open).msg.opens'],
  ])('refuses %j', (raw, message) => {
    const result = parseEvent(raw)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.message).toContain(message)
  })
})

describe('eventIdentity', () => {
  it('tells apart events of one message, and clicks by their own time', () => {
    const ids = SEED_EVENTS.map((raw) => eventIdentity(parsed(raw)))
    expect(new Set(ids).size).toBe(ids.length)
    const click = structuredClone(SEED_EVENTS[4]) as unknown as {
      msg: { clicks: Array<{ clickTs: number }> }
    }
    const again = structuredClone(click)
    again.msg.clicks[0]!.clickTs += 1000
    expect(eventIdentity(parsed(click))).not.toBe(eventIdentity(parsed(again)))
    expect(eventIdentity(parsed(click))).toBe(eventIdentity(parsed(structuredClone(click))))
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
