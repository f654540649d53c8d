// The Fastify 5 plugin over real HTTP (Fastify's own request handling on a node:http server):
// the SPEC and bad-input matrices on the current Fastify and on the lowest of the declared range
// (5.0.0), then what a Fastify user expects: the app's own parsers do not interfere, errors go to
// Fastify's logger, handlers get { request, reply }, and a route of your own works behind
// @fastify/formbody.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Writable } from 'node:stream'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import Fastify50 from 'fastify-5.0'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import {
  createFastifyHandler,
  type FastifyContext,
  sendcleanWebhooks,
} from '../adapters/fastify.js'
import { createReceiver, type ReceiverOptions, type WebhookEvent } from '../src/index.js'
import { badInputMatrix } from './support/bad-input-matrix.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './support/fixtures.js'
import { PATH, postSeedJson, specMatrix } from './support/spec-matrix.js'

type Factory = (options: { serverFactory: unknown; logger?: unknown }) => FastifyInstance

/**
 * A Fastify app on a node:http server of our own (Fastify's `serverFactory`), so the matrices can
 * listen on it like any other: requests wait until the app is ready, then go through Fastify's
 * whole request handling.
 */
function fastifyServer(
  setup: (app: FastifyInstance) => void,
  factory: Factory = Fastify as unknown as Factory,
  logger?: unknown,
): Server {
  let ready: PromiseLike<unknown> = Promise.resolve()
  const app = factory({
    logger,
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer((req, res) => {
        ready.then(() => handler(req, res))
      }),
  })
  setup(app)
  ready = app.ready()
  return app.server as Server
}

/** The seed batch, form-encoded and signed for URL_REGISTERED, posted to PATH. */
function postForm(server: Server) {
  const form = formDelivery()
  return request(server).post(PATH).type(FORM).set(SIGNATURE_HEADER, form.signature).send(form.body)
}

// biome-ignore lint/suspicious/noExplicitAny: the matrices pass options for any context
const mount = (factory?: Factory) => (options: ReceiverOptions<any>) =>
  fastifyServer((app) => app.register(sendcleanWebhooks, { ...options, path: PATH }), factory)

describe('Fastify plugin', () => {
  specMatrix(mount())
  badInputMatrix(mount())
})

describe('Fastify 5.0.0 (lowest of ^5)', () => {
  it('is that release', async () => {
    const { createRequire } = await import('node:module')
    expect(createRequire(import.meta.url)('fastify-5.0/package.json').version).toBe('5.0.0')
  })
  specMatrix(mount(Fastify50 as unknown as Factory))
  badInputMatrix(mount(Fastify50 as unknown as Factory))
})

describe('Fastify plugin, as a Fastify app uses it', () => {
  it("the app's JSON and form parsers do not reach the plugin's route; they still work elsewhere", async () => {
    const handled: string[] = []
    const server = fastifyServer((app) => {
      app.register(formbody)
      app.post('/elsewhere', async (req) => req.body)
      app.register(sendcleanWebhooks, {
        path: PATH,
        keys: KEY,
        url: URL_REGISTERED,
        on: { '*': (event: WebhookEvent) => void handled.push(event.event) },
      })
    })
    const res = await postForm(server)
    expect(res.status).toBe(200)
    expect(handled).toEqual(SEED_EVENTS.map((e) => (e as { event: string }).event))
    const res2 = await postSeedJson(request(server))
    expect(res2.status).toBe(200)
    // The app's own routes keep their parsers.
    expect((await request(server).post('/elsewhere').type(FORM).send('a=1')).body).toEqual({
      a: '1',
    })
    expect(
      (
        await request(server)
          .post('/elsewhere')
          .send({ b: 2 })
          .set('content-type', 'application/json')
      ).body,
    ).toEqual({ b: 2 })
  })

  it('handlers get { request, reply }; a receiver built once serves the plugin under a prefix', async () => {
    const seen: string[] = []
    const receiver = createReceiver<FastifyContext>({ keys: KEY, url: URL_REGISTERED }).on(
      'click',
      (event, { request, reply }) => {
        expect(reply.sent).toBe(false)
        seen.push(`${event.event} ${request.method} ${request.url}`)
      },
    )
    const server = fastifyServer((app) =>
      app.register(sendcleanWebhooks, { receiver, path: '/sendclean', prefix: '/webhooks' }),
    )
    const res = await postForm(server)
    expect(res.status).toBe(200)
    expect(seen).toEqual([`click POST ${PATH}`])
  })

  it("without an onError, 5xx errors and URL mismatches go to Fastify's logger (request.log), never a key", async () => {
    const lines: Array<Record<string, unknown>> = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()))
        done()
      },
    })
    const server = fastifyServer(
      (app) =>
        app.register(sendcleanWebhooks, {
          path: PATH,
          keys: KEY,
          url: URL_REGISTERED,
          on: {
            send: () => {
              throw new Error('the database is down')
            },
          },
        }),
      undefined,
      { level: 'info', stream },
    )
    const res = await postForm(server)
    expect(res.status).toBe(500)
    const error = lines.find((line) => line.code === 'HANDLER_FAILED')
    expect(error).toMatchObject({ level: 50, err: { message: 'the database is down' } })
    expect(typeof error?.reqId).toBe('string') // request.log: tied to the request
    expect(JSON.stringify(lines)).not.toContain(KEY)
  })

  it('a handler that sends the reply itself is reported as RESPONSE_SENT, and the server lives', async () => {
    const codes: string[] = []
    const server = fastifyServer((app) =>
      app.register(sendcleanWebhooks, {
        path: PATH,
        keys: KEY,
        url: URL_REGISTERED,
        onError: (error) => void codes.push(error.code),
        on: { send: (_event, { reply }) => void reply.code(204).send() },
      }),
    )
    const res = await postForm(server)
    expect(res.status).toBe(204)
    expect(codes).toEqual(['RESPONSE_SENT'])
    expect((await request(server).get(PATH)).status).toBe(200)
  })

  it('a route of your own behind @fastify/formbody verifies from the decoded fields', async () => {
    const handled: string[] = []
    const handler = createFastifyHandler({ keys: KEY, url: URL_REGISTERED }).on(
      '*',
      (event, { request }) => void handled.push(`${event.event} ${request.method}`),
    )
    const server = fastifyServer((app) => {
      app.register(formbody)
      app.post(PATH, handler)
    })
    const res = await postForm(server)
    expect(res.status).toBe(200)
    expect(handled).toEqual(SEED_EVENTS.map((e) => `${(e as { event: string }).event} POST`))
    // A JSON body Fastify parsed without a raw copy is refused with what to change, not 200.
    const refused = await postSeedJson(request(server))
    expect(refused.status).toBe(500)
    expect(refused.text).toContain('register the sendcleanWebhooks plugin')
  })

  it("takes Fastify's own register options (prefix, logLevel) beside the receiver's", async () => {
    const seen: string[] = []
    const server = fastifyServer((app) =>
      app.register(sendcleanWebhooks, {
        keys: KEY,
        url: URL_REGISTERED,
        path: '/sendclean',
        prefix: '/webhooks',
        logLevel: 'warn',
        on: { click: (event) => void seen.push(event.event) },
      }),
    )
    expect((await postForm(server)).status).toBe(200)
    expect(seen).toEqual(['click'])
  })

  it('refuses a misspelt option, and a receiver given with options, at registration', async () => {
    const misspelt = Fastify()
    misspelt.register(sendcleanWebhooks, { keys: KEY, path: PATH, maxBodySize: 10 } as never)
    await expect(misspelt.ready()).rejects.toThrow(
      'unknown option "maxBodySize" (did you mean "maxBodyBytes"?)',
    )
    const both = Fastify()
    const receiver = createReceiver<FastifyContext>({ keys: KEY })
    both.register(sendcleanWebhooks, { receiver, path: PATH, keys: KEY } as never)
    await expect(both.ready()).rejects.toThrow(
      "pass either `receiver` or the receiver's options, not both (here also `keys`)",
    )
  })

  it('refuses a missing path at registration', async () => {
    const app = Fastify()
    app.register(sendcleanWebhooks, { keys: KEY } as never)
    await expect(app.ready()).rejects.toThrow('`path` must be the path registered with SendClean')
  })
})
