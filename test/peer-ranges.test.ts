// The lowest releases of the declared peer ranges, installed under aliases, through the same
// SPEC and bad-input matrices as the current ones: Express 4.17.0 (express4.test.ts has more),
// Koa 2.0.0 and Hono 4.0.0. BullMQ's lowest (5.2.0) runs the queue suite in
// queue-bullmq5.test.ts; the highest of every range is the project's own dev dependency.

import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import express4 from 'express4'
import { Hono } from 'hono-4.0'
import Koa from 'koa2'
import { describe, expect, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { createHonoHandler } from '../adapters/hono.js'
import { createKoaMiddleware } from '../adapters/koa.js'
import type { ReceiverOptions } from '../src/index.js'
import { badInputMatrix } from './support/bad-input-matrix.js'
import { PATH, specMatrix } from './support/spec-matrix.js'

// Read from the file: not every package exports its package.json.
const version = (name: string) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8'))
    .version

// biome-ignore lint/suspicious/noExplicitAny: the matrices pass options for any context
type Options = ReceiverOptions<any>

describe('Express 4.17.0 (lowest of ^4.17 || ^5)', () => {
  it('is that release', () => expect(version('express4')).toBe('4.17.0'))
  const mount = (options: Options) => {
    const app = express4()
    app.use(PATH, createExpressMiddleware(options) as never)
    return createServer(app)
  }
  badInputMatrix(mount)
})

describe('Koa 2.0.0 (lowest of ^2 || ^3)', () => {
  it('is that release', () => expect(version('koa2')).toBe('2.0.0'))
  const mount = (options: Options) => {
    const app = new Koa()
    app.use(createKoaMiddleware({ ...options, path: PATH }) as never)
    return createServer(app.callback())
  }
  specMatrix(mount)
  badInputMatrix(mount)
})

describe('Hono 4.0.0 (lowest of ^4)', () => {
  it('is that release', () => expect(version('hono-4.0')).toBe('4.0.0'))
  for (const [path, fetchOf] of [
    ['@hono/node-server', (app: Hono) => app.fetch],
    ['Web path', (app: Hono) => (request: Request) => app.fetch(request)],
  ] as const) {
    describe(path, () => {
      const mount = (options: Options) => {
        const app = new Hono()
        app.all(PATH, createHonoHandler(options) as never)
        return createAdaptorServer({ fetch: fetchOf(app) as never }) as never
      }
      specMatrix(mount)
      badInputMatrix(mount)
    })
  }
})
