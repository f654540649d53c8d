import { ALLOWED_METHODS, HANDSHAKE_BODY } from './constants.js'
import type { WebhookError } from './errors.js'
import type { WebhookResponse } from './types.js'

const TEXT = 'text/plain; charset=utf-8'
const encoder = new TextEncoder()
const HANDSHAKE_LENGTH = String(encoder.encode(HANDSHAKE_BODY).length)

/** The answer to a handshake: GET, HEAD (headers only), or a POST with no events. */
export function handshake(head = false): WebhookResponse {
  return {
    status: 200,
    headers: { 'content-type': TEXT, 'content-length': HANDSHAKE_LENGTH },
    body: head ? '' : HANDSHAKE_BODY,
  }
}

/** The answer to a batch that was fully handled: the same text SendClean requires ("always"). */
export const accepted = (): WebhookResponse => handshake()

/** The error's status and its public message (no key material, no URL, no stack). */
export function errorResponse(error: WebhookError): WebhookResponse {
  const body = error.publicMessage
  const headers: Record<string, string> = {
    'content-type': TEXT,
    'content-length': String(encoder.encode(body).length),
  }
  if (error.status === 405) headers.allow = ALLOWED_METHODS
  return { status: error.status, headers, body }
}
