import { z } from 'zod'
import { malformed, WebhookError } from '../errors.js'
import { type FeedbackReport, parseFeedbackReport } from './feedback-report.js'

// Some senders send numbers as numeric strings; accept both, expose a finite number ("1" then
// four hundred zeros is a numeric string whose Number is Infinity). A number is checked in one
// step; only a string takes the longer way (the common case stays cheap).
const numericString = z
  .string()
  .regex(/^\s*-?\d+(?:\.\d+)?\s*$/, 'expected a number or a numeric string')
  .transform(Number)

const numeric = z.union([z.number(), numericString.pipe(z.number())], {
  error: 'expected a finite number, or a numeric string',
})

/** Largest time a Date can hold (ECMA-262 §21.4.1.1), in ms since the epoch. */
const MAX_DATE_MS = 8.64e15

// `ts` becomes `date`: it must be a whole number of ms that a Date can represent, which also
// rules out numeric strings that lose precision in a Number ("9007199254740993").
const WHOLE_MS = 'expected a whole number of milliseconds that a Date can hold'
const wholeMs = z.int(WHOLE_MS).min(0, WHOLE_MS).max(MAX_DATE_MS, WHOLE_MS)
const timestamp = z.union([wholeMs, numericString.pipe(wholeMs)], {
  error: `${WHOLE_MS} (a number or a numeric string)`,
})

const base = {
  _id: z.string(),
  smtp_name: z.string(),
  x_unique_id: z.string(),
  ts: timestamp,
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

/** The known event types, in the order the README lists them. */
export const EVENT_NAMES = Object.keys(eventSchemas) as EventName[]

/** What the receiver adds to every known event. */
interface Added {
  /**
   * `ts` as a Date. The receiver never replaces a field the sender sent: were SendClean to send
   * its own top-level `date` (it does not today), that value would be kept here as sent; use
   * {@link eventDate} where that matters.
   */
  date: Date
}

/**
 * `ts` as a Date, whatever else the event carries.
 *
 * @example
 * receiver.on('open', (event) => console.log(eventDate(event).toISOString()))
 */
export function eventDate(event: { ts: number }): Date {
  return new Date(event.ts)
}

/**
 * The schema's output without the index signature a loose object carries, at every level: a
 * misspelt field (`msg.bounceCode`, `clicks[0].clickURL`) is a compile error. Fields SendClean
 * adds later are still on the object at run time: read them with {@link extraField}.
 */
type Exact<T> = T extends readonly (infer U)[]
  ? Exact<U>[]
  : T extends object
    ? { [K in keyof T as string extends K ? never : K]: Exact<T[K]> }
    : T

type Parsed<N extends EventName> = Exact<z.output<(typeof eventSchemas)[N]>> & Added

/**
 * A field the types do not know (a white-label `user_id`, a field SendClean adds later), read
 * from an event or any part of it, typed as `unknown`. Every field sent is kept on the object.
 *
 * @example
 * receiver.on('send', (event) => {
 *   const userId = extraField(event, 'user_id')
 *   if (typeof userId === 'number') console.log(userId)
 * })
 */
export function extraField(value: object, name: string): unknown {
  return Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined
}

/**
 * An event of type `N` as SendClean sends it (numbers as numbers): what the receiver parses
 * into {@link EventOf}, before it adds `date` (and a spam event's `msg.feedback`).
 */
export type WireEvent<N extends EventName> = Exact<z.output<(typeof eventSchemas)[N]>>

/** A `send` event: SendClean accepted the message for delivery. */
export type SendEvent = Parsed<'send'>
/** A `delivered` event: the recipient's server accepted the message. */
export type DeliveredEvent = Parsed<'delivered'>
/** A `hard_bounce` event: the message was refused for good (see `msg.bounce_description`). */
export type HardBounceEvent = Parsed<'hard_bounce'>
/** A `soft_bounce` event: the message was refused for now (a full mailbox, a server down). */
export type SoftBounceEvent = Parsed<'soft_bounce'>
/** A `click` event: a tracked link was followed (`url`, `location`, `user_agent_parsed`). */
export type ClickEvent = Parsed<'click'>
/** An `open` event: the tracking pixel was loaded (`location`, `user_agent_parsed`). */
export type OpenEvent = Parsed<'open'>
/** A `spam` event: the recipient reported the message (`msg.feedbackReport`, the ARF report). */
export type SpamEvent = Parsed<'spam'> & {
  msg: {
    /**
     * `feedbackReport` split into fields (unless the sender sent its own `msg.feedback`, which
     * is kept as sent; `parseFeedbackReport(event.msg.feedbackReport)` gives it then).
     */
    feedback: FeedbackReport
  }
}

/** One of the seven documented events, discriminated on `event`. */
export type KnownEvent =
  | SendEvent
  | DeliveredEvent
  | HardBounceEvent
  | SoftBounceEvent
  | ClickEvent
  | OpenEvent
  | SpamEvent

/** The event of type `N`. */
export type EventOf<N extends EventName> = Extract<KnownEvent, { event: N }>

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

/** Why an event failed its schema: where (a path into the event) and what was expected. */
export interface EventIssue {
  readonly path: readonly (string | number)[]
  readonly message: string
}

/**
 * An authentic event that does not match its type's schema (or has no `event` field). It does
 * not block its batch: it reaches `invalid` handlers (and `*`), in batch order, and the error
 * hook as `INVALID_EVENT`, with everything needed to handle it by hand later.
 */
export interface InvalidEvent {
  readonly event: 'invalid'
  /** The `event` value as sent, when it is a string. */
  readonly type: string | undefined
  /** The event exactly as sent. */
  readonly raw: unknown
  /** Every way it fails its schema. */
  readonly issues: readonly EventIssue[]
}

/** Anything a batch can contain. Narrow with {@link isKnownEvent} or on `event`. */
export type WebhookEvent = KnownEvent | UnknownEvent | InvalidEvent

/**
 * True for the seven documented event types.
 *
 * @example
 * receiver.on('*', (event) => { if (isKnownEvent(event)) console.log(event.date) })
 */
export function isKnownEvent(event: WebhookEvent): event is KnownEvent {
  return event.event !== 'unknown' && event.event !== 'invalid'
}

function invalid(raw: unknown, type: string | undefined, issues: EventIssue[]): InvalidEvent {
  return { event: 'invalid', type, raw, issues }
}

/**
 * Validate one raw event from a batch. Never throws: a documented type that fails its schema,
 * or a record without an `event` field, comes back as an {@link InvalidEvent}; an undocumented
 * type as an {@link UnknownEvent}.
 *
 * @example
 * const event = parseEvent(JSON.parse(text)[0])
 * if (event.event === 'hard_bounce') console.log(event.msg.bounceDesc)
 */
export function parseEvent(raw: unknown): WebhookEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return invalid(raw, undefined, [{ path: [], message: 'expected an object' }])
  }
  const type = (raw as { event?: unknown }).event
  if (typeof type !== 'string') {
    return invalid(raw, undefined, [{ path: ['event'], message: 'expected a string' }])
  }
  if (!Object.hasOwn(eventSchemas, type)) {
    return { event: 'unknown', type, raw: raw as Record<string, unknown> }
  }
  const result = eventSchemas[type as EventName].safeParse(raw)
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.filter((p): p is string | number => typeof p !== 'symbol'),
      message: issue.message,
    }))
    return invalid(raw, type, issues)
  }
  // zod's output is a copy: the event as sent (`raw`) is left as it was. What the receiver
  // derives never replaces a field the sender sent (read `ts` then; see eventDate()).
  const event = result.data as unknown as KnownEvent
  if (!Object.hasOwn(event, 'date')) event.date = new Date(event.ts)
  if (event.event === 'spam' && !Object.hasOwn(event.msg, 'feedback')) defineFeedback(event.msg)
  return event
}

/**
 * Every event of a verified batch, validated; in strict mode, an invalid event anywhere refuses
 * the batch (400) before anything runs.
 */
export function parseBatch(raw: readonly unknown[], strict: boolean): WebhookEvent[] {
  const events: WebhookEvent[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const event = parseEvent(raw[i])
    if (strict && event.event === 'invalid') throw malformed(describeInvalid(event, i))
    events[i] = event
  }
  return events
}

/** `event N (type).path: message` for the first issue: what a log line or a 400 says. */
export function describeInvalid(event: InvalidEvent, index: number): string {
  const issue = event.issues[0]
  const where = issue && issue.path.length > 0 ? `.${issue.path.join('.')}` : ''
  const type = event.type === undefined ? '' : ` (${event.type})`
  return `event ${index}${type}${where}: ${issue?.message ?? 'invalid'}`
}

/** An authentic event failed its schema: reported, and the rest of the batch goes on. */
export function invalidEventError(event: InvalidEvent, index: number): WebhookError {
  return new WebhookError(
    'INVALID_EVENT',
    `${describeInvalid(event, index)}; the event was not handled by its type's handlers`,
    { event, index },
  )
}

/**
 * `msg.feedback`, parsed from `feedbackReport` on first read and kept (most handlers never read
 * it). Enumerable, so it is in JSON.stringify's output and in spreads. One shared getter, not a
 * closure per event; the first read replaces it with the parsed value.
 */
const FEEDBACK: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: { feedbackReport: string }): FeedbackReport {
    const value = parseFeedbackReport(this.feedbackReport)
    derivedReports.add(value)
    Object.defineProperty(this, 'feedback', { value, enumerable: true, configurable: true })
    return value
  },
}

/**
 * The reports the getter parsed, told apart from a `msg.feedback` the sender sent. Marked when
 * read (rare), not when defined: a batch's spam events cost one property each.
 */
const derivedReports = new WeakSet<object>()

function defineFeedback(msg: { feedbackReport: string; feedback?: FeedbackReport }): void {
  Object.defineProperty(msg, 'feedback', FEEDBACK)
}

/** Whether `msg.feedback` is the receiver's parse of `feedbackReport` (for identities). */
export function hasDerivedFeedback(msg: object): boolean {
  const own = Object.getOwnPropertyDescriptor(msg, 'feedback')
  if (own === undefined) return false
  return own.get === FEEDBACK.get || derivedReports.has(own.value)
}
