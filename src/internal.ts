// Internal: plumbing the adapters share with the core. Bundled into each adapter's build; not a
// package entry, and not part of the public API (see the README's "Public API").

export { attachOn, HandlerRegistry } from './delivery/handlers.js'
export {
  didYouMean,
  positiveInteger,
  refuseUnknownOptions,
  requireMethods,
  unknownName,
  unknownOption,
  WebhookError,
} from './errors.js'
export { logByDefault, receiverFrom, receiverWithPath, reportTo } from './receiver.js'
export { ParsedBody } from './request/request.js'
export { eventTypeName, settledOutcome, telemetryFor } from './telemetry/telemetry.js'
export { backoffMs, sleep, within } from './time.js'
export {
  type SignedDelivery,
  signDelivery,
  signForm,
  signJson,
  timingSafeEqualString,
} from './verify/signature.js'
