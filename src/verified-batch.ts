import { decodeBatch, malformed } from './decode-batch.js'
import { WebhookError } from './errors.js'
import type { Config } from './options.js'
import { readBody, tooLarge } from './read-body.js'
import { type Observation, step } from './telemetry.js'
import type { WebhookRequest } from './types.js'
import { verifyRequest } from './verify-request.js'

/**
 * A POST's events, read within the limits, verified, and parsed as a JSON array; `undefined`
 * for a handshake (no events). The one path from a request to its events: the receiver and
 * {@link verifyWebhook} both take it. Throws a `WebhookError` for anything else.
 */
export async function verifiedBatch<C>(
  config: Config<C>,
  request: WebhookRequest<C>,
  observation?: Observation,
): Promise<unknown[] | undefined> {
  const { headers } = request
  const encoding = headers.get('content-encoding')?.trim().toLowerCase()
  if (encoding && encoding !== 'identity') {
    throw new WebhookError(
      'UNSUPPORTED_MEDIA_TYPE',
      `content-encoding "${encoding}" is not supported`,
    )
  }
  const length = headers.get('content-length')
  const expected = length ? Number(length) : undefined
  if (expected !== undefined && expected > config.maxBodyBytes) throw tooLarge(config.maxBodyBytes)

  const read = () =>
    readBody(
      request.body,
      config.maxBodyBytes,
      config.bodyTimeoutMs,
      Number.isSafeInteger(expected) ? expected : undefined,
    )
  const body = await step(observation, 'sendclean.body.read', read)
  if (observation && body instanceof Uint8Array) observation.bytes = body.length
  const batch = decodeBatch(body, headers.get('content-type'), config.field, config.maxFields)
  if (!batch) return undefined

  // Verify before parsing the events.
  await step(
    observation,
    'sendclean.verify',
    () => verifyRequest(config, request, batch),
    'verifyDuration',
  )
  const raw = batch.events()
  if (!Array.isArray(raw)) throw malformed('the events field is not a JSON array')
  if (raw.length === 0) return undefined
  if (raw.length > config.maxEvents) {
    throw new WebhookError(
      'PAYLOAD_TOO_LARGE',
      `the batch has ${raw.length} events, more than the limit of ${config.maxEvents} (maxEvents)`,
    )
  }
  return raw
}
