// npx tsx examples/koa.ts
import Koa from 'koa'
import { createKoaMiddleware } from 'sendclean-webhooks/koa'
import { keys, path, port, print, url } from './config.js'

const app = new Koa()

app.use(
  createKoaMiddleware({ path, keys, url })
    .on('send', (event) => print(event))
    .on('delivered', (event) => print(event))
    .on(['hard_bounce', 'soft_bounce'], (event) => print(event))
    .on('open', (event) => print(event))
    .on('click', (event) => print(event))
    .on('spam', (event) => print(event))
    .on('unknown', (event) => print(event)),
)

app.listen(port, () => {
  console.error(`koa: listening on http://localhost:${port}${path}`)
})
