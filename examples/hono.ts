// npx tsx examples/hono.ts
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createHonoHandler } from 'sendclean-webhooks/hono'
import { keys, path, port, print, url } from './config.js'

const app = new Hono()

// app.all, so that other methods get the receiver's 405 rather than Hono's 404.
app.all(
  path,
  createHonoHandler({ keys, url })
    .on('send', (event) => print(event))
    .on('delivered', (event) => print(event))
    .on(['hard_bounce', 'soft_bounce'], (event) => print(event))
    .on('open', (event) => print(event))
    .on('click', (event) => print(event))
    .on('spam', (event) => print(event))
    .on('unknown', (event) => print(event)),
)

serve({ fetch: app.fetch, port }, () => {
  console.error(`hono: listening on http://localhost:${port}${path}`)
})
