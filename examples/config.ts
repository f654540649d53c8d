// Settings shared by the examples, from the environment.
import type { WebhookEvent } from 'sendclean-webhooks'

export const port = Number(process.env.PORT ?? 3000)

/**
 * As set: the receiver splits a comma-separated value, so a rotation can list the old and the
 * new key. Empty until the webhook exists.
 */
export const keys = process.env.SENDCLEAN_WEBHOOK_KEY ?? ''

/** The URL registered with SendClean; unset, the URL each request arrived at is used. */
export const url = process.env.SENDCLEAN_WEBHOOK_URL || undefined

export const path = '/webhooks/sendclean'

/** One JSON line per handled event, on stdout. */
export function print(event: WebhookEvent): void {
  process.stdout.write(`${JSON.stringify({ handled: event.event, event })}\n`)
}
