import { z } from 'zod'
import { type FeedbackReport, parseFeedbackReport } from './feedback-report.js'

// Some senders send numbers as numeric strings; accept both, expose a number.
const numeric = z.union([
  z.number(),
  z
    .string()
    .regex(/^\s*-?\d+(?:\.\d+)?\s*$/, 'expected a number or a numeric string')
    .transform(Number),
])

const base = {
  _id: z.string(),
  smtp_name: z.string(),
  x_unique_id: z.string(),
  ts: numeric,
}

const bounceMsg = z.looseObject({
  bounceDesc: z.string(),
  bounceCodeTrad: numeric,
  // RFC 3463 enhanced code ("5.2.2"): kept as given, it is not a number.
  bounceCodeEnh: z.string(),
})

const click = z.looseObject({
  clickTs: numeric,
  clickUrl: z.string(),
  clickIp: z.string(),
  clickUa: z.string(),
})

const open = z.looseObject({
  openTs: numeric,
  openIp: z.string(),
  openUa: z.string(),
})

const emptyMsg = z.looseObject({})

/** The zod schema of each known event type, keyed by its `event` value. */
export const eventSchemas = {
  send: z.looseObject({ ...base, event: z.literal('send'), msg: emptyMsg }),
  delivered: z.looseObject({ ...base, event: z.literal('delivered'), msg: emptyMsg }),
  hard_bounce: z.looseObject({ ...base, event: z.literal('hard_bounce'), msg: bounceMsg }),
  soft_bounce: z.looseObject({ ...base, event: z.literal('soft_bounce'), msg: bounceMsg }),
  click: z.looseObject({
    ...base,
    event: z.literal('click'),
    msg: z.looseObject({ clicks: z.array(click) }),
  }),
  open: z.looseObject({
    ...base,
    event: z.literal('open'),
    msg: z.looseObject({ opens: z.array(open) }),
  }),
  spam: z.looseObject({
    ...base,
    event: z.literal('spam'),
    msg: z.looseObject({ feedbackReport: z.string() }),
  }),
} as const

/** The event types SendClean documents. */
export type EventName = keyof typeof eventSchemas

/** The known event types, in SPEC order. */
export const EVENT_NAMES = Object.keys(eventSchemas) as EventName[]

/** What the receiver adds to every known event. */
interface Added {
  /** `ts` as a Date. */
  date: Date
}

type Parsed<N extends EventName> = z.output<(typeof eventSchemas)[N]> & Added

export type SendEvent = Parsed<'send'>
export type DeliveredEvent = Parsed<'delivered'>
export type HardBounceEvent = Parsed<'hard_bounce'>
export type SoftBounceEvent = Parsed<'soft_bounce'>
export type ClickEvent = Parsed<'click'>
export type OpenEvent = Parsed<'open'>
export type SpamEvent = Parsed<'spam'> & {
  msg: {
    /** `feedbackReport` split into fields. */
    feedback: FeedbackReport
  }
}

/** One of the seven documented events, discriminated on `event`. */
export type SendCleanEvent =
  | SendEvent
  | DeliveredEvent
  | HardBounceEvent
  | SoftBounceEvent
  | ClickEvent
  | OpenEvent
  | SpamEvent

/** The event of type `N`. */
export type EventOf<N extends EventName> = Extract<SendCleanEvent, { event: N }>

/**
 * An event whose type SendClean does not document (yet). It is wrapped, not validated, so a
 * new event type never breaks a batch, and `event: 'unknown'` keeps the union discriminated.
 */
export interface UnknownEvent {
  readonly event: 'unknown'
  /** The `event` value as sent. */
  readonly type: string
  /** The event exactly as sent. */
  readonly raw: Readonly<Record<string, unknown>>
}

/** Anything a batch can contain. Narrow with {@link isKnownEvent}. */
export type WebhookEvent = SendCleanEvent | UnknownEvent

/**
 * True for the seven documented event types.
 *
 * @example
 * receiver.on('*', (event) => { if (isKnownEvent(event)) console.log(event.date) })
 */
export function isKnownEvent(event: WebhookEvent): event is SendCleanEvent {
  return event.event !== 'unknown'
}

export type ParseResult =
  | { ok: true; event: SendCleanEvent; known: true }
  | { ok: true; event: UnknownEvent; known: false }
  | { ok: false; message: string }

/** Validate one raw event from a batch. Never throws. */
export function parseEvent(raw: unknown): ParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, message: 'is not an object' }
  }
  const type = (raw as { event?: unknown }).event
  if (typeof type !== 'string') return { ok: false, message: 'has no string "event" field' }
  if (!Object.hasOwn(eventSchemas, type)) {
    const event: UnknownEvent = { event: 'unknown', type, raw: raw as Record<string, unknown> }
    return { ok: true, event, known: false }
  }

  const result = eventSchemas[type as EventName].safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue && issue.path.length > 0 ? `.${issue.path.join('.')}` : ''
    return { ok: false, message: `(${type})${where}: ${issue?.message ?? 'invalid'}` }
  }
  const event = result.data as SendCleanEvent
  event.date = new Date(event.ts)
  if (event.event === 'spam') defineFeedback(event.msg)
  return { ok: true, event, known: true }
}

/**
 * `msg.feedback`, parsed from `feedbackReport` on first read and kept: most handlers never read
 * it, and parsing every report of a batch up front was a tenth of the receiver's time.
 * Enumerable, so it is in JSON.stringify's output and in spreads.
 */
function defineFeedback(msg: { feedbackReport: string; feedback?: FeedbackReport }): void {
  let parsed: FeedbackReport | undefined
  Object.defineProperty(msg, 'feedback', {
    enumerable: true,
    configurable: true,
    get: () => {
      parsed ??= parseFeedbackReport(msg.feedbackReport)
      return parsed
    },
  })
}

/**
 * A stable identity for de-duplication: `_id` is shared by all events of one message, so
 * the type and timestamp (and, for clicks and opens, their own timestamps) are added.
 *
 * @example
 * if (await seen.has(eventIdentity(event))) return
 */
export function eventIdentity(event: WebhookEvent): string {
  const e = (event.event === 'unknown' ? event.raw : event) as {
    _id?: unknown
    event?: unknown
    ts?: unknown
    msg?: { clicks?: unknown; opens?: unknown }
  }
  let id = `${String(e._id)}:${String(e.event)}:${String(e.ts)}`
  const msg = e.msg
  if (e.event === 'click' && Array.isArray(msg?.clicks)) {
    id += `:${msg.clicks.map((c: { clickTs?: unknown }) => String(c?.clickTs)).join(',')}`
  } else if (e.event === 'open' && Array.isArray(msg?.opens)) {
    id += `:${msg.opens.map((o: { openTs?: unknown }) => String(o?.openTs)).join(',')}`
  }
  return id
}
