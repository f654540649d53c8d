/** The body SendClean requires from a webhook URL, for the handshake and for every accepted batch. */
export const HANDSHAKE_BODY = 'God bless you, SendClean'

/** The header that carries the base64 HMAC-SHA1 signature of a delivery. */
export const DEFAULT_SIGNATURE_HEADER = 'X-SendCleanTES-Signature'

/** The form field that carries the JSON array of events (white-label brands use another prefix). */
export const DEFAULT_EVENTS_FIELD = 'SendCleantes_events'

/**
 * 4 MiB. A 1000-event batch of realistic events is about 0.5 MB form-encoded (SendClean batches
 * up to 1000), so this leaves eight times that, while an anonymous request can make the
 * receiver hold no more than this until its signature is checked.
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

/** SendClean posts one field; a few more leave room for proxies and white-label senders. */
export const DEFAULT_MAX_FIELDS = 32

/** SendClean batches up to 1000 events; ten times that leaves room without being unbounded. */
export const DEFAULT_MAX_EVENTS = 10_000

/** Default of `bodyTimeoutMs` and `handlerTimeoutMs`. */
export const DEFAULT_TIMEOUT_MS = 30_000

export const ALLOWED_METHODS = 'GET, HEAD, POST'
