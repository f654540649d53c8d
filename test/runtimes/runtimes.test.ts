// The runtime matrix (npm run test:runtimes): the SPEC and bad-input matrices, unchanged, against
// the fetch and Hono handlers served by Node 20.0, 22 and 24, Bun, Deno and Cloudflare workerd, and
// against the Express, Koa and node adapters where the runtime runs Node-style servers. The
// runtimes come from runtimes/package.json (npm ci --prefix runtimes). A runtime that is missing
// or does not start fails its tests with the reason; nothing is skipped.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForWorkerd, startWorkerd } from '../../scripts/workerd.js'
import type { EventName, WebhookEvent } from '../../src/index.js'
import { SAMPLE_TYPES, sampleEvent } from '../../testing/index.js'
import { badInputMatrix } from '../support/bad-input-matrix.js'
import {
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from '../support/fixtures.js'
import { PATH, type Remote, specMatrix } from '../support/spec-matrix.js'
import { type Adapter, Bridge, type Host, remoteMount } from './bridge.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = (path: string) => `${root}runtimes/node_modules/${path}`

interface Runtime {
  name: string
  /** What the host reports as its runtime (checked, so a wrong binary cannot pass). */
  reports: RegExp
  adapters: Adapter[]
  /** The command for a host process, or undefined for workerd (miniflare, in process). */
  command?: string[]
  /**
   * Also run the SPEC matrix on the Web platform file (Web Crypto), chosen by starting the host
   * with the `browser` export condition: these flags do it.
   */
  webConditions?: string[]
  /** Bad-input cases that do not hold here for reasons outside the package (README, "Runtimes"). */
  knownFailures?: Record<string, string>
  /** Bad-input rows where the runtime's own HTTP server may reset the connection first. */
  resetAllowed?: Record<string, string>
}

const RUNTIMES: Runtime[] = [
  {
    // The lowest version package.json's `engines` claims.
    name: 'Node 20.0',
    reports: /^node v20\.0\.0$/,
    adapters: ['fetch', 'hono', 'express', 'koa', 'node'],
    command: [bin('node20/bin/node'), 'test/runtimes/host.mjs'],
    webConditions: ['--conditions=browser'],
  },
  {
    name: 'Node 22',
    reports: /^node v22\./,
    adapters: ['fetch', 'hono', 'express', 'koa', 'fastify', 'node'],
    command: [bin('node22/bin/node'), 'test/runtimes/host.mjs'],
  },
  {
    name: 'Node 24',
    reports: /^node v24\./,
    adapters: ['fetch', 'hono', 'express', 'koa', 'fastify', 'node'],
    command: [bin('node24/bin/node'), 'test/runtimes/host.mjs'],
  },
  {
    name: 'Bun',
    reports: /^bun 1\.4\.4$/,
    adapters: ['fetch', 'hono', 'express', 'koa', 'fastify'],
    // No Web variant: Bun 1.4.4's --conditions does not reach package.json `imports`, so the
    // Web platform file cannot be chosen there (it is run on Node 20.0, Deno and workerd).
    command: [bin('@oven/bun-linux-x64/bin/bun'), 'test/runtimes/host.mjs'],
  },
  {
    name: 'Deno',
    reports: /^deno 2\./,
    adapters: ['fetch', 'hono'],
    command: [bin('@deno/linux-x64-glibc/deno'), 'run', '-A', 'test/runtimes/host.mjs'],
    webConditions: ['--conditions=browser'],
  },
  {
    name: 'workerd',
    reports: /^workerd$/,
    adapters: ['fetch', 'hono'],
    knownFailures: {
      'a body refused before it was read still gets its 413, under load, by clients that write before they read':
        "workerd's own HTTP server resets a connection whose request body the worker answered unread, even when the worker drains it under ctx.waitUntil; on Cloudflare the edge, not workerd, holds the client's connection",
    },
    resetAllowed: {
      'an oversized chunked body, 16 KiB every 5 ms, to a client that reads while it writes: 413':
        'the same reset, for a client still sending: on a busy machine it can arrive before the client reads the 413',
    },
  },
]

/** Start a host process; resolves with its ports once it prints them. */
function startProcess(command: string[], env: Record<string, string>) {
  const [file, ...args] = command as [string, ...string[]]
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run npm ci --prefix runtimes (npm run test:runtimes does)`)
  }
  const child: ChildProcess = spawn(file, args, {
    cwd: root,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const ports = new Promise<{ web: number; node?: number }>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0] as string))
    })
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}`)))
  })
  return {
    async host(): Promise<Host> {
      const { web, node } = await ports
      return {
        web: `http://127.0.0.1:${web}`,
        node: node === undefined ? undefined : `http://127.0.0.1:${node}`,
      }
    },
    stop: async () => void child.kill('SIGKILL'),
  }
}

/** workerd through miniflare, running the bundled worker host. */
async function startWorker(bridge: Bridge) {
  const mf = await startWorkerd(await bundleForWorkerd(`${root}test/runtimes/worker.mjs`), {
    outboundService: (request: Request) => bridge.handle(request),
  })
  const url = (await mf.ready).origin
  return { host: async (): Promise<Host> => ({ web: url }), stop: () => mf.dispose() }
}

for (const runtime of RUNTIMES) {
  describe(runtime.name, () => {
    const bridge = new Bridge()
    const hosts: Record<'node' | 'web', Host | undefined> = { node: undefined, web: undefined }
    const stops: Array<() => Promise<void>> = []
    beforeAll(async () => {
      await bridge.start()
      const { command, webConditions } = runtime
      const variants = webConditions ? (['node', 'web'] as const) : (['node'] as const)
      for (const crypto of variants) {
        // The host script comes last: the flags go before it.
        const flags = crypto === 'web' ? (webConditions ?? []) : []
        const started = command
          ? startProcess([...command.slice(0, -1), ...flags, ...command.slice(-1)], {
              HOST_CALLBACK: bridge.url,
            })
          : await startWorker(bridge)
        stops.push(started.stop)
        hosts[crypto] = await started.host()
      }
    }, 60_000)
    afterAll(async () => {
      await Promise.all(stops.map((stop) => stop()))
      bridge.close()
    })
    const host = (crypto: 'node' | 'web') => () => {
      const found = hosts[crypto]
      if (!found) throw new Error(`${runtime.name} did not start`)
      return found
    }

    it('is the runtime it claims, on the platform file its export conditions choose', async () => {
      const info = await (await fetch(`${host('node')().web}/__runtime`)).json()
      expect(info.runtime).toMatch(runtime.reports)
      // node:crypto, a require for optional peers and the WebAssembly form loop everywhere but
      // on Workers.
      const node = runtime.name !== 'workerd'
      expect(info.platform).toBe(node ? 'node' : 'web')
      expect(info.formLoop).toBe(node)
      if (runtime.webConditions) {
        const web = await (await fetch(`${host('web')().web}/__runtime`)).json()
        expect(web.platform).toBe('web')
        expect(web.formLoop).toBe(false)
      }
    })

    describe('a body read before the receiver', () => {
      const post = async (adapter: Adapter) => {
        const handled: string[] = []
        const mount = remoteMount(bridge, host('node'), adapter)
        const target = mount({
          keys: KEY,
          url: URL_REGISTERED,
          on: { '*': (event: WebhookEvent) => void handled.push(event.event) },
          onError: () => {},
        }) as Remote
        await target.ready
        const { body, signature } = formDelivery()
        const res = await fetch(`${target.base}${PATH}`, {
          method: 'POST',
          headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
          body,
        })
        return { status: res.status, text: await res.text(), handled }
      }
      it('by the app, before the fetch handler: 500, named as consumed, nothing handled', async () => {
        const { status, text, handled } = await post('fetch-read-first')
        expect(status).toBe(500)
        expect(text).toContain('consumed')
        expect(handled).toEqual([])
      })
      it("by a Hono middleware through c.req: verified from Hono's copy, all seven handled", async () => {
        const { status, handled } = await post('hono-read-first')
        expect(status).toBe(200)
        expect(handled).toEqual(SEED_EVENTS.map((e) => e.event))
      })
    })

    it('handles a 1000-event batch, every event once and in order', async () => {
      const sent = Array.from({ length: 1000 }, (_, i) =>
        sampleEvent(SAMPLE_TYPES[i % SAMPLE_TYPES.length] as EventName, { _id: `big-${i}` }),
      )
      const text = JSON.stringify(sent)
      const handled: string[] = []
      const target = remoteMount(
        bridge,
        host('node'),
        'fetch',
      )({
        keys: KEY,
        url: URL_REGISTERED,
        on: { '*': (event: WebhookEvent) => void handled.push((event as { _id: string })._id) },
        onError: () => {},
      }) as Remote
      await target.ready
      const { body, signature } = formDelivery(text)
      const res = await fetch(`${target.base}${PATH}`, {
        method: 'POST',
        headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
        body,
      })
      expect(res.status).toBe(200)
      expect(handled).toEqual(sent.map((e) => e._id))
    }, 60_000)

    for (const adapter of runtime.adapters) {
      describe(adapter, () => {
        specMatrix(remoteMount(bridge, host('node'), adapter))
        badInputMatrix(
          remoteMount(bridge, host('node'), adapter),
          runtime.knownFailures,
          runtime.resetAllowed,
        )
      })
    }
    if (runtime.webConditions) {
      describe('fetch, on the Web platform file (Web Crypto)', () => {
        specMatrix(remoteMount(bridge, host('web'), 'fetch'))
      })
    }
  })
}
