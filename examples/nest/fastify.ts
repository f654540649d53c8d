// npx tsx examples/nest/fastify.ts: NestJS on its Fastify platform.
import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify'
import { sendcleanWebhooks } from 'sendclean-webhooks/fastify'
import { keys, path, port, print, url } from '../config.js'
import { AppModule } from './app.module.js'

const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
  logger: ['error', 'warn'],
})
// The plugin owns its route and, in its own encapsulation context, its body parsing: Nest's
// JSON and form parsers keep serving the app's other routes.
await app.register(sendcleanWebhooks, {
  path,
  keys,
  url,
  on: { '*': (event) => print(event) },
})
await app.listen(port, '::')
console.error(`nest (fastify): listening on http://localhost:${port}${path}`)
