import { createServer } from 'node:http'
// Express 4.17.0 (the lowest of the declared peer range), installed under an alias.
import express4 from 'express4'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { createExpressMiddleware } from '../adapters/express.js'
import { FORM, formDelivery, KEY, SIGNATURE_HEADER, URL_REGISTERED } from './support/fixtures.js'
import { PATH, specMatrix } from './support/spec-matrix.js'

describe('Express 4.17.0 (the lowest of the declared range)', () => {
  specMatrix((options) => {
    const app = express4()
    app.use(PATH, createExpressMiddleware(options) as never)
    return createServer(app)
  })

  it('verifies after express.urlencoded()', async () => {
    let count = 0
    const app = express4()
    app.use(express4.urlencoded({ extended: false, limit: '5mb' }))
    app.use(
      PATH,
      createExpressMiddleware({
        keys: KEY,
        url: URL_REGISTERED,
        on: { '*': () => void count++ },
      }) as never,
    )
    const { body, signature } = formDelivery()
    const res = await request(createServer(app))
      .post(PATH)
      .type(FORM)
      .set(SIGNATURE_HEADER, signature)
      .send(body)
    expect(res.status).toBe(200)
    expect(count).toBe(7)
  })
})
