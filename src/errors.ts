/**
 * Every error the receiver produces carries a stable `code` (switch on it) and the HTTP
 * `status` it is answered with. Messages never contain key material.
 */
export type WebhookErrorCode =
  | 'NO_KEY'
  | 'MISSING_SIGNATURE'
  | 'SIGNATURE_MISMATCH'
  | 'URL_MISMATCH'
  | 'BODY_CONSUMED'
  | 'MALFORMED_PAYLOAD'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'METHOD_NOT_ALLOWED'
  | 'HANDLER_FAILED'
  | 'HANDLER_TIMEOUT'
  | 'EVENT_IN_FLIGHT'
  | 'INVALID_EVENT'
  | 'BODY_TIMEOUT'
  | 'STORE_FAILED'
  | 'CLAIM_LOST'
  | 'QUEUE_FAILED'
  | 'INTERNAL_ERROR'
  | 'RESPONSE_SENT'
  | 'CONFIGURATION'

const STATUS: Record<WebhookErrorCode, number> = {
  NO_KEY: 500,
  MISSING_SIGNATURE: 401,
  SIGNATURE_MISMATCH: 401,
  URL_MISMATCH: 401,
  BODY_CONSUMED: 500,
  MALFORMED_PAYLOAD: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  HANDLER_FAILED: 500,
  HANDLER_TIMEOUT: 503,
  EVENT_IN_FLIGHT: 503,
  // Reported, not answered: the batch goes on (in `strict` mode the batch is refused with 400).
  INVALID_EVENT: 400,
  BODY_TIMEOUT: 408,
  STORE_FAILED: 503,
  // Reported as soon as a renewal finds it; the batch is then answered 503.
  CLAIM_LOST: 503,
  QUEUE_FAILED: 503,
  INTERNAL_ERROR: 500,
  // Reported, not answered: a handler had already written the response itself.
  RESPONSE_SENT: 500,
  // Thrown by the factories, never answered.
  CONFIGURATION: 500,
}

const PREFIX = 'sendclean-webhooks: '

/** What an error may carry besides its code and message. */
export interface WebhookErrorDetails {
  cause?: unknown
  /** Signature errors: the URL used to compute the expected signature. */
  signedUrl?: string
  /**
   * Handler errors: the event whose handler failed or was running (a `WebhookEvent`);
   * `INVALID_EVENT`: the `InvalidEvent`, with its raw content and issues.
   */
  event?: unknown
  /** The event's position in its batch (0-based). */
  index?: number
}

/**
 * The one error type of the receiver: a stable `code` to switch on, the HTTP `status` it is
 * answered with, and what the code concerns (`signedUrl`, `event` and `index`, `cause`).
 * Messages never contain key material; `publicMessage` (what the HTTP answer says) never
 * names a URL either.
 *
 * @example
 * onError(error) {
 *   if (error.code === 'URL_MISMATCH') console.warn(error.message)
 *   if (error.code === 'INVALID_EVENT') archive(error.event)
 * }
 */
export class WebhookError extends Error {
  override name = 'WebhookError'
  readonly code: WebhookErrorCode
  readonly status: number
  /** What the HTTP answer says: the message, less what an unauthenticated client must not learn. */
  readonly publicMessage: string
  readonly signedUrl: string | undefined
  readonly event: unknown
  readonly index: number | undefined

  constructor(code: WebhookErrorCode, message: string, details: WebhookErrorDetails = {}) {
    super(PREFIX + message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.status = STATUS[code]
    // The answer to an unauthenticated request names no URL: it may hold a secret path or token.
    this.publicMessage =
      code === 'SIGNATURE_MISMATCH' || code === 'URL_MISMATCH'
        ? `${PREFIX}the signature does not match any key configured for this webhook`
        : this.message
    this.signedUrl = details.signedUrl
    this.event = details.event
    this.index = details.index
  }
}

/**
 * A handler threw (`HANDLER_FAILED`, 500), the batch's handlers outlived `handlerTimeoutMs`
 * (`HANDLER_TIMEOUT`, 503), or a duplicate was still running elsewhere when that time ran out
 * (`EVENT_IN_FLIGHT`, 503). Either way the batch is not acknowledged, so SendClean retries it.
 */
export function handlerError(
  event: unknown,
  index: number,
  cause: unknown,
  code: 'HANDLER_FAILED' | 'HANDLER_TIMEOUT' | 'EVENT_IN_FLIGHT' = 'HANDLER_FAILED',
): WebhookError {
  const type = (event as { event?: unknown })?.event
  const what =
    code === 'HANDLER_TIMEOUT'
      ? 'timed out'
      : code === 'EVENT_IN_FLIGHT'
        ? 'was still running for a duplicate delivery'
        : 'failed'
  return new WebhookError(
    code,
    `the handler for event ${index} (${typeof type === 'string' ? type : 'unknown'}) ${what}; the batch was not acknowledged, so SendClean will retry it`,
    { cause, event, index },
  )
}

/** At most `max` characters of `text`, then `…` when it was longer. */
export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/**
 * A client's text as it may appear in an error: at most `max` characters of it (then `…`),
 * quoted and escaped, so a refusal never echoes a request at full size nor lets it write
 * control characters into a log.
 */
export function excerpt(text: string, max = 64): string {
  return JSON.stringify(shorten(text, max))
}

/** The request's body or events are not what SendClean sends (400). */
export function malformed(message: string): WebhookError {
  return new WebhookError('MALFORMED_PAYLOAD', message)
}

/** A batch of more events than `maxEvents` allows (413). */
export function tooManyEvents(count: number, max: number): WebhookError {
  return new WebhookError(
    'PAYLOAD_TOO_LARGE',
    `the batch has ${count} events, more than the limit of ${max} (maxEvents)`,
  )
}

/** Unusable options, thrown when the factory runs (never at a request). */
export function configurationError(message: string): WebhookError {
  return new WebhookError('CONFIGURATION', message)
}

/**
 * The known name a misspelt one most likely meant: the same name in another case, one a letter
 * or so away (more for a longer name), or else the only one that starts as it does (their first
 * five letters, or the whole of the shorter: `ttl` and `ttlMs`, `maxBodySize` and
 * `maxBodyBytes`). `undefined` when none is that close.
 */
function closestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(name.length / 4)) + 1
  const sharingStart: string[] = []
  for (const candidate of known) {
    const other = candidate.toLowerCase()
    if (other === lower) return candidate
    const distance = editDistance(lower, other)
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance]
    let common = 0
    while (common < lower.length && lower[common] === other[common]) common++
    if (common >= 3 && common >= Math.min(5, lower.length, other.length)) {
      sharingStart.push(candidate)
    }
  }
  return best ?? (sharingStart.length === 1 ? sharingStart[0] : undefined)
}

/**
 * Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two neighbours (the
 * optimal string alignment distance), one row at a time.
 */
function editDistance(a: string, b: string): number {
  let before: number[] = []
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      const same = a[i - 1] === b[j - 1]
      let edits = Math.min(
        (row[j - 1] as number) + (same ? 0 : 1),
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        edits = Math.min(edits, (before[j - 2] as number) + 1)
      }
      next[j] = edits
    }
    before = row
    row = next
  }
  return row[b.length] as number
}

/** ` (did you mean "x"?)` for a misspelt name, or nothing. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const closest = closestName(name, known)
  return closest === undefined ? '' : ` (did you mean "${closest}"?)`
}

/** `unknown event type "clik" (did you mean "click"?); expected one of send, …` */
export function unknownName(kind: string, name: unknown, known: readonly string[]): string {
  const given = String(name)
  return `unknown ${kind} "${given}"${didYouMean(given, known)}; expected one of ${known.join(', ')}`
}

/** How to read a set of options: what they sit in (`idempotency.`), and names that belong elsewhere. */
interface OptionsPlace {
  prefix?: string
  hints?: Readonly<Record<string, string>>
}

/**
 * What is wrong with the first option name that is not in `names`, saying which one was most
 * likely meant (or `hints[name]`, for a name that belongs elsewhere); `undefined` when every
 * name is known. A misspelt option would otherwise keep its default without a word.
 */
export function unknownOption(
  options: object,
  names: object,
  { prefix = '', hints = {} }: OptionsPlace = {},
): string | undefined {
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(names, name)) continue
    const hint = (Object.hasOwn(hints, name) && hints[name]) || didYouMean(name, Object.keys(names))
    return `unknown option ${excerpt(prefix + name)}${hint}`
  }
  return undefined
}

/** {@link unknownOption} as a `CONFIGURATION` error. */
export function refuseUnknownOptions(options: object, names: object, place?: OptionsPlace): void {
  const problem = unknownOption(options, names, place)
  if (problem !== undefined) throw configurationError(problem)
}

/** A positive integer option, or its default; anything else is a configuration error. */
export function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw configurationError(`\`${name}\` must be a positive integer`)
  }
  return value
}

/**
 * Refuses, when a factory runs, a client that lacks a method the package will call on it: a
 * missing or wrong client would otherwise fail only at the first request, as a 503.
 */
export function requireMethods(value: unknown, methods: readonly string[], message: string): void {
  const usable =
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    methods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  if (!usable) throw configurationError(message)
}
