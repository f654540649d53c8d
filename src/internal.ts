// Internal: plumbing the adapters share with the core. Bundled into each adapter's build; not a
// package entry, and not part of the public API (see the README's "Public API").

export { backoffMs, sleep } from './backoff.js'
export { CoreRequest } from './core-request.js'
export { WebhookError } from './errors.js'
export { attachOn, HandlerRegistry } from './handlers.js'
export { ParsedBody } from './read-body.js'
export { eventTypeName, settledOutcome, telemetryFor } from './telemetry.js'
export { drainUnread, fromWebRequest, handleWebRequest, toWebResponse } from './web.js'
export { within } from './within.js'
