// The README's Bun, Deno and Cloudflare Workers quick starts, exactly as written, on those
// runtimes: each is extracted into a scratch app that depends on this package (a symlink to the
// built tree, as an install would resolve it), started, and sent a signed batch of all seven
// event types with SENDCLEAN_WEBHOOK_KEY holding two keys, as during a rotation.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readmeBlocks } from '../../scripts/readme-blocks.mjs'
import { freePort } from '../../scripts/run-example.js'
import { bundleForWorkerd, startWorkerd } from '../../scripts/workerd.js'
import { HANDSHAKE_BODY } from '../../src/index.js'
import { postSeedBatch } from '../support/fixtures.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const app = `${root}test/.runtimes-quick-starts/`
const bin = (path: string) => `${root}runtimes/node_modules/${path}`
const PATH = '/webhooks/sendclean'
const KEYS = 'old-key,new-key'
const blocks = readmeBlocks(readFileSync(`${root}README.md`, 'utf8'))

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

/** Start `command` in the scratch app; resolves once it answers the handshake. */
async function serve(command: string[]) {
  const port = await freePort()
  const [file, ...args] = command as [string, ...string[]]
  const child: ChildProcess = spawn(file, args, {
    cwd: app,
    env: { ...process.env, PORT: String(port), SENDCLEAN_WEBHOOK_KEY: KEYS, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const up = await fetch(base + PATH).then(
      (res) => res.ok,
      () => false,
    )
    if (up) break
    if (i > 200 || child.exitCode !== null) {
      child.kill('SIGKILL')
      throw new Error(`${command.join(' ')} did not start: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { base, output: () => output, stop: () => void child.kill('SIGKILL') }
}

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
  it('Bun', async () => {
    const server = await serve([bin('@oven/bun-linux-x64/bin/bun'), quickStart('Bun', 'bun')])
    try {
      await expectSeedBatchHandled(server.base, server.output, 'click http://example.com/')
    } finally {
      server.stop()
    }
  }, 60_000)

  it('Deno', async () => {
    const deno = bin('@deno/linux-x64-glibc/deno')
    const server = await serve([
      deno,
      'run',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      quickStart('Deno', 'deno'),
    ])
    try {
      await expectSeedBatchHandled(server.base, server.output, 'hard_bounce ')
    } finally {
      server.stop()
    }
  }, 60_000)

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
