// npx tsx examples/express.ts
import express from 'express'
import { createExpressMiddleware } from 'sendclean-webhooks/express'
import { keys, path, port, print, url } from './config.js'

const app = express()

const webhooks = createExpressMiddleware({ keys, url })
  .on('send', (event) => print(event))
  .on('delivered', (event) => print(event))
  .on(['hard_bounce', 'soft_bounce'], (event) => {
    // event.msg.bounceCodeEnh is typed: "5.2.2" means the mailbox is full or gone.
    print(event)
  })
  .on('open', (event) => print(event))
  .on('click', (event) => print(event))
  .on('spam', (event) => print(event))
  .on('unknown', (event) => print(event))

// Mount before any body parser (express.urlencoded() in front of it also works).
app.use(path, webhooks)

app.listen(port, () => {
  console.error(`express: listening on http://localhost:${port}${path}`)
})
