import type { Attempt, Delivery, EmulatorEvent } from './bus.js'

type Paint = (code: number, text: string) => string
const plain: Paint = (_code, text) => text
const ansi: Paint = (code, text) => `\u001b[${code}m${text}\u001b[0m`
const DIM = 2
const RED = 31
const GREEN = 32
const YELLOW = 33
const CYAN = 36

/** `click×2 send` for a batch's types, in first-seen order. */
export function summarizeTypes(types: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1)
  return [...counts].map(([type, n]) => (n > 1 ? `${type}×${n}` : type)).join(' ')
}

/**
 * A receiver's answer on one line, whole: its reason usually ends with the fix, so it is never
 * cut here (the emulator keeps at most `ANSWER_LIMIT` characters of it).
 */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

function attemptLine(paint: Paint, delivery: Delivery, attempt: Attempt): string {
  const good = attempt.status !== null && attempt.status >= 200 && attempt.status < 300
  const outcome = attempt.status === null ? (attempt.error ?? 'no answer') : String(attempt.status)
  const colour = good ? GREEN : delivery.state === 'failed' ? RED : YELLOW
  let line = `${paint(CYAN, 'deliver  ')} ${delivery.id} webhook ${delivery.webhookId} ${summarizeTypes(delivery.types)} (${delivery.types.length}) attempt ${attempt.n}/${delivery.maxAttempts} → ${paint(colour, outcome)} ${attempt.ms} ms`
  if (!good && attempt.answer) line += ` ${paint(DIM, JSON.stringify(oneLine(attempt.answer)))}`
  if (!good && delivery.state === 'pending') line += paint(DIM, ' (will retry)')
  if (delivery.state === 'failed') line += ` ${paint(RED, 'gave up')}`
  return line
}

/**
 * The live log's line for an event, or `undefined` for events it does not print (a pending
 * delivery is printed with its first attempt; the webhook list changes are the API lines).
 */
export function formatEvent(event: EmulatorEvent, colour: boolean): string | undefined {
  const paint = colour ? ansi : plain
  const time = (iso: string) => paint(DIM, iso.slice(11, 23))
  switch (event.type) {
    case 'api':
      return `${time(event.time)} ${paint(CYAN, 'api      ')} ${event.method} → ${paint(event.ok ? GREEN : RED, event.ok ? 'success' : 'error')} ${event.message} ${event.ms} ms`
    case 'handshake':
      return `${time(event.time)} ${paint(CYAN, 'handshake')} ${event.url} → ${paint(event.ok ? GREEN : RED, event.ok ? 'ok' : 'refused')} (${event.detail}) ${event.ms} ms`
    case 'attempt':
      return `${time(event.attempt.time)} ${attemptLine(paint, event.delivery, event.attempt)}`
    default:
      return undefined
  }
}

/** Whether to colour output written to `stream`: a TTY, unless NO_COLOR is set. */
export function wantsColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>) {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return stream.isTTY === true
}
