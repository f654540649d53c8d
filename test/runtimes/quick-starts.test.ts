// The Bun, Deno and Cloudflare Workers quick starts of docs/runtimes.md, exactly as written, on those
// runtimes: each is extracted into a scratch app that depends on this package (a symlink to the
// built tree, as an install would resolve it), started, and sent a signed batch of all seven
// event types with SENDCLEAN_WEBHOOK_KEY holding two keys, as during a rotation.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readmeBlocks } from '../../scripts/readme-blocks.mjs'
import { bundleForWorkerd, startWorkerd } from '../../scripts/workerd.js'
import { HANDSHAKE_BODY } from '../../src/index.js'
import { postSeedBatch } from '../support/fixtures.js'
import { serveProcess } from '../support/serve-process.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const app = `${root}test/.runtimes-quick-starts/`
const bin = (path: string) => `${root}runtimes/node_modules/${path}`
const PATH = '/webhooks/sendclean'
const KEYS = 'old-key,new-key'
const blocks = readmeBlocks(readFileSync(`${root}docs/runtimes.md`, 'utf8'))

/** The README block under `heading`, written into the scratch app as `<name>.ts`. */
function quickStart(heading: string, name: string): string {
  const block = blocks.find((b) => b.heading === heading)
  if (!block) throw new Error(`no quick start under "${heading}"`)
  writeFileSync(`${app}${name}.ts`, block.code)
  return `${app}${name}.ts`
}

beforeAll(() => {
  rmSync(app, { recursive: true, force: true })
  mkdirSync(`${app}node_modules`, { recursive: true })
  writeFileSync(
    `${app}package.json`,
    '{ "type": "module", "dependencies": { "sendclean-webhooks": "*" } }',
  )
  symlinkSync(root, `${app}node_modules/sendclean-webhooks`)
})
afterAll(() => rmSync(app, { recursive: true, force: true }))

async function expectSeedBatchHandled(base: string, output: () => string, printed: string) {
  expect(await (await fetch(base + PATH)).text()).toBe(HANDSHAKE_BODY)
  const res = await postSeedBatch(base + PATH, 'new-key')
  expect(res.status, await res.clone().text()).toBe(200)
  expect(await res.text()).toBe(HANDSHAKE_BODY)
  for (let i = 0; i < 50 && !output().includes(printed); i++) {
    await new Promise((r) => setTimeout(r, 50))
  }
  expect(output()).toContain(printed)
}

describe('README quick starts on their runtimes', () => {
  // The command for each runtime, and what the quick start's handler prints for the batch.
  const started: Array<[string, (file: string) => string[], string]> = [
    ['Bun', (file) => [bin('@oven/bun-linux-x64/bin/bun'), file], 'click http://example.com/'],
    [
      'Deno',
      (file) => [
        bin('@deno/linux-x64-glibc/deno'),
        'run',
        '--allow-net',
        '--allow-env',
        '--allow-read',
        file,
      ],
      'hard_bounce ',
    ],
  ]
  for (const [heading, command, printed] of started) {
    it(heading, async () => {
      const server = await serveProcess(command(quickStart(heading, heading.toLowerCase())), {
        cwd: app,
        env: { SENDCLEAN_WEBHOOK_KEY: KEYS, NO_COLOR: '1' },
      })
      try {
        await expectSeedBatchHandled(server.base, server.output, printed)
      } finally {
        await server.stop()
      }
    }, 60_000)
  }

  it('Cloudflare Workers (workerd, bundled as wrangler would, key as a secret binding)', async () => {
    const logged: string[] = []
    const script = await bundleForWorkerd(quickStart('Cloudflare Workers', 'worker'), app)
    const mf = await startWorkerd(script, {
      bindings: { SENDCLEAN_WEBHOOK_KEY: KEYS },
      handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
        for (const stream of [stdout, stderr]) stream.on('data', (d) => logged.push(String(d)))
      },
    })
    try {
      const base = (await mf.ready).origin
      await expectSeedBatchHandled(base, () => logged.join(''), 'spam ')
    } finally {
      await mf.dispose()
    }
  }, 60_000)
})
