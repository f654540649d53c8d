export {
  DEFAULT_EVENTS_FIELD,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_FIELDS,
  DEFAULT_SIGNATURE_HEADER,
  HANDSHAKE_BODY,
} from './constants.js'
export { WebhookError, type WebhookErrorCode, type WebhookErrorDetails } from './errors.js'
export { eventIdentity } from './event-identity.js'
export {
  type ClickEvent,
  type DeliveredEvent,
  EVENT_NAMES,
  type EventIssue,
  type EventName,
  type EventOf,
  extraField,
  type HardBounceEvent,
  type InvalidEvent,
  isKnownEvent,
  type KnownEvent,
  type OpenEvent,
  parseEvent,
  type SendEvent,
  type SoftBounceEvent,
  type SpamEvent,
  type UnknownEvent,
  type WebhookEvent,
} from './events.js'
export { type FeedbackReport, parseFeedbackReport } from './feedback-report.js'
export type { Handler, HandlerMap, On } from './handlers.js'
export {
  type ClaimResult,
  type EventOutcome,
  type IdempotencyStore,
  memoryStore,
  type RedisLike,
  redisStore,
} from './idempotency.js'
export { type NodeReadable, ParsedBody, type RequestBody } from './read-body.js'
export { createReceiver, Receiver } from './receiver.js'
export { type SignedDelivery, signDelivery, signForm, signJson } from './signature.js'
export { type StoreCheck, storeConformance } from './store-conformance.js'
export type {
  OpenTelemetryApi,
  OtelMeterProvider,
  OtelSpanContext,
  OtelTracerProvider,
  TelemetryOptions,
} from './telemetry.js'
export type {
  EventSink,
  HeaderReader,
  KeySource,
  QueuedEvent,
  ReceiverHealth,
  ReceiverOptions,
  RequestInfo,
  WebhookRequest,
  WebhookResponse,
} from './types.js'
export { type VerifyWebhookOptions, verifyWebhook } from './verify-webhook.js'
