// BullMQ, the optional peer dependency queue mode runs on, loaded when queue mode is first used,
// so that an app without it gets a `WebhookError` that says what to install instead of a
// module-resolution error when it imports `sendclean-webhooks/queue`.
import { createRequire } from 'node:module'
import type * as BullMQ from 'bullmq'
import { WebhookError } from '../src/index.js'

const require = createRequire(import.meta.url)
let loaded: typeof BullMQ | undefined

/** The `bullmq` module; throws a `CONFIGURATION` WebhookError when it is not installed. */
export function bullmq(): typeof BullMQ {
  if (loaded) return loaded
  try {
    loaded = require('bullmq') as typeof BullMQ
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw cause
    throw new WebhookError(
      'CONFIGURATION',
      'queue mode needs BullMQ, an optional peer dependency of this package: npm install bullmq',
      { cause },
    )
  }
  return loaded
}
