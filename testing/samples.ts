import { EVENT_NAMES, type EventName, WebhookError, type WireEvent } from '../src/index.js'
import { unknownName } from '../src/internal.js'

/** The event types the emulator can trigger: all seven documented ones. */
export const SAMPLE_TYPES: readonly EventName[] = EVENT_NAMES

const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'

function hex(bytes: number): string {
  const out = new Uint8Array(bytes)
  crypto.getRandomValues(out)
  return Array.from(out, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** A message id shaped like the seed's (`14304056-C18956K3-….129.1`). */
export function messageId(): string {
  const h = hex(16).toUpperCase()
  return `${h.slice(0, 8)}-${h.slice(8, 16)}-${h.slice(16, 20)}-${h.slice(20, 24)}-${h.slice(24)}.129.1`
}

/**
 * A realistic event of `type` as SendClean sends it, shaped like the seed's examples: a fresh
 * message id, `ts` now, and a random `x_unique_id`, unless `overrides` sets them. `overrides`
 * replaces top-level fields (`msg` whole).
 *
 * @example
 * const click = sampleEvent('click', { _id: 'msg-1', ts: Date.parse('2026-01-01') })
 * click.msg.clicks[0]?.clickUrl // typed: the click event's wire shape
 */
export function sampleEvent<N extends EventName>(
  type: N,
  overrides: Partial<WireEvent<N>> = {},
): WireEvent<N> {
  if (!SAMPLE_TYPES.includes(type)) {
    throw new WebhookError(
      'CONFIGURATION',
      `sampleEvent: ${unknownName('event type', type, SAMPLE_TYPES)}`,
    )
  }
  const ts = overrides.ts ?? Date.now()
  const made = build(type, {
    _id: messageId(),
    smtp_name: 'smtp87654321',
    x_unique_id: hex(32),
    ts,
  })
  return { ...made, ...overrides } as WireEvent<N>
}

interface Base {
  _id: string
  smtp_name: string
  x_unique_id: string
  ts: number
}

function build(type: EventName, base: Base): Record<string, unknown> {
  const { ts } = base
  switch (type) {
    case 'send':
    case 'delivered':
      return { ...base, msg: {}, event: type }
    case 'hard_bounce':
      return {
        ...base,
        msg: {
          bounceDesc: 'Requested action not taken: mailbox unavailable',
          bounceCodeTrad: 550,
          bounceCodeEnh: '5.1.1',
        },
        event: type,
      }
    case 'soft_bounce':
      return {
        ...base,
        msg: {
          bounceDesc: 'smtp; 452 4.2.2 Over quota',
          bounceCodeTrad: 452,
          bounceCodeEnh: '4.2.2',
        },
        event: type,
      }
    case 'click':
      return {
        ...base,
        msg: {
          clicks: [
            {
              clickTs: ts,
              clickUrl: 'https://example.com/offer',
              clickIp: '192.0.2.10',
              clickUa: UA,
            },
          ],
        },
        event: type,
      }
    case 'open':
      return {
        ...base,
        msg: { opens: [{ openTs: ts, openIp: '192.0.2.11', openUa: UA }] },
        event: type,
      }
    case 'spam':
      return {
        ...base,
        msg: {
          feedbackReport: [
            `Arrival-Date: ${new Date(ts).toUTCString()}`,
            `Original-Rcpt-To: ${hex(16)}@example.com`,
            'Original-Mail-From: bounces@example.org',
            'Reported-Domain: example.org',
            'Source-Ip: 192.0.2.12',
            'Feedback-Type: abuse',
            'Abuse-Type: complaint',
            'User-Agent: ReturnPathFBL/2.0',
            '',
          ].join('\r\n'),
        },
        event: type,
      }
  }
}
