// The Hono apps of the benchmarks, one definition each: bench/http-server.ts serves them over
// HTTP, bench/web-path.ts calls their `fetch` in process with a Web Request.
import { parse as parseQuery } from 'node:querystring'
import { Hono } from 'hono'
import { EVENT_NAMES, HANDSHAKE_BODY, type ReceiverOptions } from 'sendclean-webhooks'
import type { createHonoHandler } from 'sendclean-webhooks/hono'
import { KEY, URL_SIGNED } from './payloads.js'
import { handwrittenVerify } from './peers.js'

export const PATH = '/webhooks/sendclean'

const noop = (_event?: unknown) => {}

/** The package's options in every benchmark server: one handler per event type, doing nothing. */
export const benchOptions = {
  keys: KEY,
  url: URL_SIGNED,
  on: Object.fromEntries(EVENT_NAMES.map((name) => [name, noop])),
} satisfies ReceiverOptions<unknown>

/**
 * One Hono app: `package` (the adapter), `handwritten` (`c.req.text()` + querystring, then
 * the hand-written check: faster than `c.req.parseBody()`), `handwritten-zod` (the same, and
 * the textbook zod union: the package's work), `read` (the body read, nothing parsed: what any
 * receiver pays) or `bare` (200 without reading).
 */
export function honoApp(variant: string, create: typeof createHonoHandler): Hono {
  const app = new Hono()
  if (variant === 'package') app.all(PATH, create(benchOptions))
  else if (variant === 'handwritten' || variant === 'handwritten-zod') {
    const validate = variant === 'handwritten-zod'
    app.post(PATH, async (c) => {
      const fields = parseQuery(await c.req.text()) as Record<string, unknown>
      const signature = c.req.header('x-sendcleantes-signature')
      const ok = handwrittenVerify(fields, signature, validate, noop)
      return c.text(ok ? HANDSHAKE_BODY : 'bad signature', ok ? 200 : 401)
    })
  } else if (variant === 'read') {
    app.post(PATH, async (c) => {
      await c.req.arrayBuffer()
      return c.text(HANDSHAKE_BODY)
    })
  } else if (variant === 'bare') app.post(PATH, (c) => c.text(HANDSHAKE_BODY))
  else throw new Error(`unknown Hono variant ${variant}`)
  return app
}
