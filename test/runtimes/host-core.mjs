// The runtime side of the matrix bridge (test/runtimes/bridge.ts is the other side). Plain
// JavaScript, so that Bun, Deno, workerd and every Node run it as it is. A test registers a
// receiver with its options; functions in the options (handlers, onError, store methods) stay
// in the test process and are called back over HTTP, so the matrices' own closures judge what
// ran. Everything else (verification, parsing, the answers) happens here, on this runtime.

const PATH = '/webhooks/sendclean'

/** What crosses back to the test: events and errors as data; contexts (framework objects) as null. */
function encode(value) {
  if (value instanceof Error) {
    return {
      $error: {
        name: value.name,
        message: value.message,
        code: value.code,
        status: value.status,
        index: value.index,
        signedUrl: value.signedUrl,
        event: value.event === undefined ? undefined : encode(value.event),
      },
    }
  }
  // Events are plain objects; a framework context is not (and Hono's `c.event` getter throws).
  const plain =
    value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype
  if (plain && typeof value.event === 'string') {
    // An event: the raw form for unknown and invalid ones, else the parsed one (re-parsed there).
    const raw = value.event === 'unknown' || value.event === 'invalid' ? value.raw : value
    return { $event: JSON.parse(JSON.stringify(raw, (k, v) => (k === 'date' ? undefined : v))) }
  }
  if (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value)) {
    return value
  }
  return null
}

/** Options as sent by the test, with each `{ $fn }` turned into a call back to it. */
function revive(value, call) {
  if (Array.isArray(value)) return value.map((v) => revive(v, call))
  if (value && typeof value === 'object') {
    if (typeof value.$fn === 'string') {
      const id = value.$fn
      return async (...args) => {
        const answer = await call({ id, args: args.map(encode) })
        if (answer.error !== undefined) throw new Error(answer.error)
        return answer.value
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v, call)]))
  }
  return value
}

/**
 * @param {object} host
 * @param {Function} host.createFetchHandler sendclean-webhooks/fetch
 * @param {Function} host.createHonoHandler sendclean-webhooks/hono
 * @param {Function} host.Hono hono's Hono
 * @param {(body: object) => Promise<object>} host.call posts to the test's bridge
 * @param {(adapter: string, id: string, options: object) => Promise<boolean>} [host.mountNode] Node-style
 *   adapters (Express, Koa, node), served by the host's node:http server
 * @param {string} host.platform which platform file `#platform` resolved to
 * @param {boolean} host.formLoop whether that file made a WebAssembly form loop here
 */
export function createHost({
  createFetchHandler,
  createHonoHandler,
  Hono,
  call,
  mountNode,
  platform,
  formLoop,
}) {
  const apps = new Map()
  // The receiver's own log lines go to the test too, before the answer they belong to.
  const error = console.error.bind(console)
  const logging = new Set()
  console.error = (...args) => {
    error(...args)
    const sent = call({ console: args.map((a) => (a instanceof Error ? a.stack : String(a))) })
      .catch(() => {})
      .finally(() => logging.delete(sent))
    logging.add(sent)
  }
  const flushLog = () => Promise.all([...logging])

  async function build(adapter, id, options) {
    if (adapter === 'fetch') {
      const handler = createFetchHandler(options)
      return (request, ...rest) => handler(request, ...rest)
    }
    if (adapter === 'hono') {
      const app = new Hono()
      app.all(`/m/${id}${PATH}`, createHonoHandler(options))
      return (request, env, ctx) => app.fetch(request, env, ctx)
    }
    // The body read before the receiver: by the app (fetch), or by a Hono middleware via c.req.
    if (adapter === 'fetch-read-first') {
      const handler = createFetchHandler(options)
      return async (request, ...rest) => {
        await request.text()
        return handler(request, ...rest)
      }
    }
    if (adapter === 'hono-read-first') {
      const app = new Hono()
      app.use(async (c, next) => {
        await c.req.text()
        await next()
      })
      app.all(`/m/${id}${PATH}`, createHonoHandler(options))
      return (request, env, ctx) => app.fetch(request, env, ctx)
    }
    if (await mountNode?.(adapter, id, options)) return undefined
    throw new Error(`this runtime has no ${adapter} adapter`)
  }

  async function fetch(request, env, ctx) {
    const url = new URL(request.url)
    if (url.pathname === '/__register') {
      const { id, adapter, options } = await request.json()
      try {
        apps.set(id, await build(adapter, id, revive(options, call)))
        return new Response('registered')
      } catch (e) {
        return new Response(String(e?.message ?? e), { status: 501 })
      }
    }
    if (url.pathname === '/__unregister') {
      apps.delete(url.searchParams.get('id'))
      return new Response('unregistered')
    }
    if (url.pathname === '/__runtime') {
      return Response.json({
        runtime: globalThis.Bun
          ? `bun ${globalThis.Bun.version}`
          : globalThis.Deno
            ? `deno ${globalThis.Deno.version.deno}`
            : globalThis.navigator?.userAgent === 'Cloudflare-Workers'
              ? 'workerd'
              : `node ${globalThis.process?.version}`,
        // Which platform file the package's `#platform` import resolved to (`node` or `web`).
        platform,
        formLoop,
      })
    }
    const match = /^\/m\/([^/]+)(\/.*)$/.exec(url.pathname)
    const app = match ? apps.get(match[1]) : undefined
    if (!app) return new Response('no such receiver', { status: 404 })
    const response = await app(request, env, ctx)
    await flushLog()
    return response
  }
  fetch.flushLog = flushLog
  return fetch
}
