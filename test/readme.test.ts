// The README's quick starts, exactly as written: each is extracted, started with tsx (package
// imports resolve to this source tree), and sent a signed batch of all seven event types, with
// SENDCLEAN_WEBHOOK_KEY holding two keys as during a rotation.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { readmeBlocks } from '../scripts/readme-blocks.mjs'
import { HANDSHAKE_BODY } from '../src/index.js'
import { postSeedBatch } from './support/fixtures.js'
import { serveProcess } from './support/serve-process.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = fileURLToPath(new URL('./.readme/', import.meta.url))
const PATH = '/webhooks/sendclean'
const blocks = readmeBlocks(readFileSync(new URL('../README.md', import.meta.url), 'utf8'))
const quickStart = (heading: string) => {
  const block = blocks.find((b) => b.heading.startsWith(heading))
  if (!block) throw new Error(`no quick start under "${heading}"`)
  return block.code
}

mkdirSync(dir, { recursive: true })
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function start(name: string, code: string) {
  const file = `${dir}${name}.ts`
  writeFileSync(file, code)
  return serveProcess([process.execPath, '--import', 'tsx', file], {
    cwd: root,
    env: { SENDCLEAN_WEBHOOK_KEY: 'old-key,new-key' },
  })
}

describe.each([
  ['express', 'Express', 'click http://example.com/'],
  ['koa', 'Koa', ''],
  ['fastify', 'Fastify', '"msg":"bounced"'],
  ['hono', 'Hono', 'open '],
  ['node', 'node:http', 'delivered '],
])('README quick start: %s', (name, heading, printed) => {
  it('starts as written, answers the handshake and a signed batch of all seven types', async () => {
    const server = await start(name, quickStart(heading))
    try {
      const get = await fetch(server.base + PATH)
      expect(await get.text()).toBe(HANDSHAKE_BODY)
      const res = await postSeedBatch(server.base + PATH, 'new-key')
      expect(res.status, await res.clone().text()).toBe(200)
      expect(await res.text()).toBe(HANDSHAKE_BODY)
      if (printed) {
        for (let i = 0; i < 50 && !server.output().includes(printed); i++) {
          await new Promise((r) => setTimeout(r, 50))
        }
        expect(server.output()).toContain(printed)
      }
    } finally {
      await server.stop()
    }
  }, 60_000)
})
