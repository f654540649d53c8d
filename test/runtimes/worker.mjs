// The matrix host for Cloudflare workerd (bundled by runtimes.test.ts, run by miniflare). No
// nodejs_compat: the `workerd` export condition picks the Web platform file (Web Crypto).
// Calls to the test's bridge leave through miniflare's outbound service.

import { Hono } from 'hono'
import { createFormLoop, PLATFORM } from '#platform'
import { createFetchHandler } from '../../dist/fetch.js'
import { createHonoHandler } from '../../dist/hono.js'
import { createHost } from './host-core.mjs'

const call = (body) =>
  fetch('http://bridge.test/call', { method: 'POST', body: JSON.stringify(body) }).then((r) =>
    r.json(),
  )

let host
export default {
  fetch(request, env, ctx) {
    host ??= createHost({
      createFetchHandler,
      createHonoHandler,
      Hono,
      call,
      platform: PLATFORM,
      formLoop: createFormLoop() !== undefined,
    })
    return host(request, env, ctx)
  },
}
