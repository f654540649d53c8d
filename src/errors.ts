import { describeInvalid, type InvalidEvent } from './events.js'

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
  | 'QUEUE_FAILED'
  | 'INTERNAL_ERROR'

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
  QUEUE_FAILED: 503,
  INTERNAL_ERROR: 500,
}

const PREFIX = 'sendclean-webhooks: '

/**
 * Base class of the receiver's errors.
 *
 * @example
 * onError(error) {
 *   if (error.code === 'URL_MISMATCH') console.warn(error.message)
 * }
 */
export class WebhookError extends Error {
  override name = 'WebhookError'
  readonly code: WebhookErrorCode
  readonly status: number
  /**
   * What the HTTP answer says. Usually the message; shorter when the message holds what an
   * unauthenticated client must not learn (the signed URL, for a signature mismatch).
   */
  readonly publicMessage: string

  constructor(
    code: WebhookErrorCode,
    message: string,
    options?: { cause?: unknown; publicMessage?: string },
  ) {
    super(PREFIX + message, options)
    this.code = code
    this.status = STATUS[code]
    this.publicMessage =
      options?.publicMessage === undefined ? this.message : PREFIX + options.publicMessage
  }
}

/** The request could not be authenticated: no key, no signature, or no key matches. */
export class SignatureError extends WebhookError {
  override name = 'SignatureError'
  /** The URL that was used to compute the expected signature. */
  readonly signedUrl: string | undefined

  constructor(
    code: 'NO_KEY' | 'MISSING_SIGNATURE' | 'SIGNATURE_MISMATCH' | 'URL_MISMATCH',
    message: string,
    signedUrl?: string,
  ) {
    // The answer to an unauthenticated request names no URL: it may hold a secret path or token.
    const publicMessage =
      code === 'SIGNATURE_MISMATCH' || code === 'URL_MISMATCH'
        ? 'the signature does not match any key configured for this webhook'
        : undefined
    super(code, message, { publicMessage })
    this.signedUrl = signedUrl
  }
}

/** The request itself is unusable: wrong method, media type, size, or payload. */
export class RequestError extends WebhookError {
  override name = 'RequestError'
}

/**
 * A handler threw (`HANDLER_FAILED`, 500), the batch's handlers outlived `handlerTimeoutMs`
 * (`HANDLER_TIMEOUT`, 503), or a duplicate of an event was still running elsewhere when that
 * time ran out (`EVENT_IN_FLIGHT`, 503). Either way the batch is not acknowledged, so SendClean
 * retries it.
 */
export class HandlerError extends WebhookError {
  override name = 'HandlerError'
  /** The event whose handler failed or was running. */
  readonly event: unknown
  /** The event's position in its batch (0-based). */
  readonly index: number

  constructor(
    event: unknown,
    index: number,
    cause: unknown,
    code: 'HANDLER_FAILED' | 'HANDLER_TIMEOUT' | 'EVENT_IN_FLIGHT' = 'HANDLER_FAILED',
  ) {
    const type = (event as { event?: unknown })?.event
    const what =
      code === 'HANDLER_TIMEOUT'
        ? 'timed out'
        : code === 'EVENT_IN_FLIGHT'
          ? 'was still running for a duplicate delivery'
          : 'failed'
    super(
      code,
      `the handler for event ${index} (${typeof type === 'string' ? type : 'unknown'}) ${what}; the batch was not acknowledged, so SendClean will retry it`,
      { cause },
    )
    this.event = event
    this.index = index
  }
}

/**
 * An authentic event failed its schema (`INVALID_EVENT`). Reported to the error hook; the rest
 * of the batch goes on and the event reaches `invalid` handlers, unless `strict` is set.
 */
export class InvalidEventError extends WebhookError {
  override name = 'InvalidEventError'
  /** The event as sent, with its issues. */
  readonly event: InvalidEvent
  /** The event's position in its batch (0-based). */
  readonly index: number

  constructor(event: InvalidEvent, index: number) {
    super(
      'INVALID_EVENT',
      `${describeInvalid(event, index)}; the event was not handled by its type's handlers`,
    )
    this.event = event
    this.index = index
  }
}

/**
 * Something outside the request failed: a key or URL resolver threw (`INTERNAL_ERROR`, 500), the
 * idempotency store did (`STORE_FAILED`, 503), or the queue did not take the batch in time
 * (`QUEUE_FAILED`, 503).
 */
export class InternalError extends WebhookError {
  override name = 'InternalError'
  constructor(
    message: string,
    cause: unknown,
    code: 'INTERNAL_ERROR' | 'STORE_FAILED' | 'QUEUE_FAILED' = 'INTERNAL_ERROR',
  ) {
    super(code, message, { cause })
  }
}

/** Thrown when the factory is called with unusable options. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError'
  constructor(message: string) {
    super(PREFIX + message)
  }
}
