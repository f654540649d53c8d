/** The body SendClean requires from a webhook URL, for the handshake and for every accepted batch. */
export const HANDSHAKE_BODY = 'God bless you, SendClean'

/** The header that carries the base64 HMAC-SHA1 signature of a delivery. */
export const DEFAULT_SIGNATURE_HEADER = 'X-SendCleanTES-Signature'

/** The form field that carries the JSON array of events (white-label brands use another prefix). */
export const DEFAULT_EVENTS_FIELD = 'SendCleantes_events'

/**
 * 10 MiB. A 1000-event batch of the seed's events is about 0.5 MB form-encoded, and
 * click/open events with long user agents stay far below this, so the default leaves
 * ample room while still bounding memory per request.
 */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

/** SendClean batches up to 1000 events; ten times that leaves room without being unbounded. */
export const DEFAULT_MAX_EVENTS = 10_000

export const ALLOWED_METHODS = 'GET, HEAD, POST'
