export {
  DEFAULT_EVENTS_FIELD,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_FIELDS,
  DEFAULT_SIGNATURE_HEADER,
  HANDSHAKE_BODY,
} from './constants.js'
export type { EventSink, QueuedEvent } from './delivery/dispatch.js'
export type { Handler, HandlerMap, On } from './delivery/handlers.js'
export {
  type ClaimResult,
  type EventOutcome,
  type IdempotencyStore,
  memoryStore,
  type RedisLike,
  redisStore,
} from './delivery/idempotency.js'
export {
  type PgLike,
  type PostgresStoreOptions,
  postgresStore,
  postgresStoreMigration,
} from './delivery/postgres-store.js'
export { WebhookError, type WebhookErrorCode, type WebhookErrorDetails } from './errors.js'
export { type FeedbackReport, parseFeedbackReport } from './events/feedback-report.js'
export { eventIdentity } from './events/identity.js'
export {
  type ClickEvent,
  type DeliveredEvent,
  EVENT_NAMES,
  type EventIssue,
  type EventName,
  type EventOf,
  eventDate,
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
  type WireEvent,
} from './events/schemas.js'
export {
  createReceiver,
  Receiver,
  type ReceiverHealth,
  type ReceiverOptions,
  type ReceiverSource,
} from './receiver.js'
export {
  type HeaderReader,
  type NodeReadable,
  ParsedBody,
  type RequestBody,
  type WebhookRequest,
  type WebhookResponse,
} from './request/request.js'
export type {
  OpenTelemetryApi,
  OtelMeterProvider,
  OtelSpanContext,
  OtelTracerProvider,
  TelemetryOptions,
} from './telemetry/telemetry.js'
export type { KeySource, RequestInfo } from './verify/verify-request.js'
export {
  type VerifySignatureOptions,
  type VerifyWebhookOptions,
  verifySignature,
  verifyWebhook,
} from './verify/verify-webhook.js'
