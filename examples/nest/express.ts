// npx tsx examples/nest/express.ts: NestJS on its Express platform.
import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import { createExpressMiddleware } from 'sendclean-webhooks/express'
import { keys, path, port, print, url } from '../config.js'
import { AppModule } from './app.module.js'

// rawBody: true makes Nest keep req.rawBody beside its parsed body, so the receiver verifies the
// exact bytes whichever runs first: the middleware below, or Nest's JSON and form parsers.
const app = await NestFactory.create<NestExpressApplication>(AppModule, {
  rawBody: true,
  logger: ['error', 'warn'],
})
app.use(
  path,
  createExpressMiddleware({ keys, url }).on('*', (event) => print(event)),
)
await app.listen(port)
console.error(`nest (express): listening on http://localhost:${port}${path}`)
