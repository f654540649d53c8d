// npx tsx examples/fastify.ts
import Fastify from 'fastify'
import { sendcleanWebhooks } from 'sendclean-webhooks/fastify'
import { keys, path, port, print, url } from './config.js'

const app = Fastify()

// The plugin owns its route and its body parsing: the app's own parsers do not reach it.
await app.register(sendcleanWebhooks, {
  path,
  keys,
  url,
  on: {
    send: (event) => print(event),
    delivered: (event) => print(event),
    hard_bounce: (event) => print(event),
    soft_bounce: (event) => print(event),
    open: (event) => print(event),
    click: (event) => print(event),
    spam: (event) => print(event),
    unknown: (event) => print(event),
  },
})

await app.listen({ port, host: '::' })
console.error(`fastify: listening on http://localhost:${port}${path}`)
