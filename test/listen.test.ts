// The local loop in two commands (issue 36): `listen --forward-to` and `trigger`, end to end with
// the Express example, and the CLI's smaller promises (--version, a busy port, --port 0, hints,
// `webhooks` subcommands, reasons shown whole).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { Delivery } from '../emulator/bus.js'
import { formatEvent } from '../emulator/live-log.js'
import { freePort, startExample } from '../scripts/run-example.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sendclean-listen-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string
}

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/cli.ts', ...args],
      { cwd: root, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr })
      },
    )
  })
}

/** A long-running CLI command, with its output so far and a way to wait for a line. */
function start(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bin/cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = { stdout: '', stderr: '' }
  child.stdout?.on('data', (d: Buffer) => {
    output.stdout += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    output.stderr += d.toString()
  })
  return {
    output,
    async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = pattern.exec(output.stdout)
        if (found) return found
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`no ${pattern} in:\n${output.stdout}\n${output.stderr}`)
        }
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    async stop(): Promise<number | null> {
      if (child.exitCode !== null) return child.exitCode
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
      child.kill('SIGINT')
      return exited
    },
  }
}

describe('listen --forward-to, then trigger: the local loop', { timeout: 90_000 }, () => {
  it('registers the Express example, prints a stable key, and delivers what trigger asks for', async () => {
    const emulatorPort = await freePort()
    const appPort = await freePort()
    const forwardTo = `http://127.0.0.1:${appPort}/webhooks/sendclean`
    const env = {
      SENDCLEAN_STATE_FILE: join(dir, 'state.json'),
      SENDCLEAN_EMULATOR_PORT: String(emulatorPort),
      NO_COLOR: '1',
    }
    const listening = start(['listen', '--forward-to', forwardTo], env)
    let app: Awaited<ReturnType<typeof startExample>> | undefined
    try {
      const [, key] = await listening.waitFor(/SENDCLEAN_WEBHOOK_KEY=(\S+)/)
      // The app is not running yet: listen says so instead of failing.
      await listening.waitFor(/did not answer the handshake yet/)
      expect(listening.output.stdout).toContain(`console http://127.0.0.1:${emulatorPort}/`)
      // Not the default port: the trigger it suggests names this emulator.
      expect(listening.output.stdout).toContain(
        `deliver with: npx sendclean-webhooks trigger click --emulator http://127.0.0.1:${emulatorPort}`,
      )

      app = await startExample('express', { SENDCLEAN_WEBHOOK_KEY: key as string }, appPort)
      const triggered = await cli(['trigger', 'click', 'hard_bounce'], env)
      expect(triggered.stderr).toBe('')
      expect(triggered.code).toBe(0)
      expect(triggered.stdout).toMatch(/click hard_bounce \(2\) attempt 1\/5 → 200/)
      const lines = await app.waitForLines(2)
      expect(lines.map((l) => JSON.parse(l).handled).sort()).toEqual(['click', 'hard_bounce'])
      // listen prints the attempt too.
      await listening.waitFor(
        /deliver {3}d1 webhook \d+ click hard_bounce \(2\) attempt 1\/5 → 200/,
      )
    } finally {
      await app?.stop()
      expect(await listening.stop()).toBe(0)
    }

    // A second run, a fresh emulator: the same key for the same URL.
    const again = start(['listen', '--forward-to', forwardTo], env)
    try {
      const [, key2] = await again.waitFor(/SENDCLEAN_WEBHOOK_KEY=(\S+)/)
      const first = /SENDCLEAN_WEBHOOK_KEY=(\S+)/.exec(listening.output.stdout)?.[1]
      expect(key2).toBe(first)
      // --key wins (and is remembered).
      const joined = start(['listen', '--forward-to', forwardTo, '--key', 'my-own-key'], env)
      await joined.waitFor(/joined the emulator/)
      await joined.waitFor(/SENDCLEAN_WEBHOOK_KEY=my-own-key /)
      await joined.stop()
    } finally {
      await again.stop()
    }
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).keys[forwardTo]).toBe(
      'my-own-key',
    )
  })
})

describe('CLI polish', { timeout: 60_000 }, () => {
  it('--version prints the version', async () => {
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` })
  })

  it('a busy port is one clear line (exit 1), and --port 0 takes any free port', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      const res = await cli(['emulator', '--port', String(port)])
      expect(res.code).toBe(1)
      expect(res.stderr).toBe(
        `sendclean-webhooks: port ${port} is already in use (another emulator? "listen" joins a running one); choose another with --port, or --port 0 for any free port\n`,
      )
    } finally {
      busy.close()
    }
    const any = start(['emulator', '--port', '0'], {})
    try {
      const [, url] = await any.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) /)
      expect(url).not.toMatch(/:0$/)
      // The default credentials are on the first line, not only in --help.
      expect(any.output.stdout).toContain('owner "local-owner", token "local-token"')
      const res = await fetch(`${url}/favicon.ico`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/svg+xml')

      // A fresh emulator: trigger explains how to get a webhook.
      const nothing = await cli(['trigger', 'click', '--emulator', url as string])
      expect(nothing.code).toBe(1)
      expect(nothing.stderr).toContain('no webhook subscribes to click')
      expect(nothing.stderr).toContain('sendclean-webhooks listen --forward-to')

      // An add whose URL does not answer the handshake: SendClean's reason, exit 1.
      const added = await cli(['webhooks', 'add', `${url}/nope`, '--emulator', url as string])
      expect(added.code).toBe(1)
      expect(added.stderr).toContain("url must always respond 'God bless you, SendClean'")
    } finally {
      await any.stop()
    }
  })

  it('webhooks list, add, reset-key and delete talk to the emulator through the client', async () => {
    const port = await freePort()
    const emulator = start(['emulator', '--port', String(port), '--quiet'], {})
    const appPort = await freePort()
    const app = await startExample('express', {}, appPort)
    const url = `http://127.0.0.1:${port}`
    const hook = `http://127.0.0.1:${appPort}/webhooks/sendclean`
    try {
      await emulator.waitFor(/listening on/)
      expect(await cli(['webhooks', 'list', '--emulator', url])).toMatchObject({
        code: 0,
        stdout: 'no webhooks\n',
      })
      const added = await cli([
        'webhooks',
        'add',
        hook,
        '--events',
        'click,spam',
        '--emulator',
        url,
      ])
      expect(added.code).toBe(0)
      const [, id] = /^added webhook (\d+) for (\S+) \[click,spam\]$/m.exec(added.stdout) ?? []
      const [, key] = /^key (\S+)$/m.exec(added.stdout) ?? []
      expect(id).toBeDefined()
      const listed = await cli(['webhooks', 'list', '--emulator', url])
      expect(listed.stdout).toBe(`${id}  ${hook}  [click,spam]  key ${key}\n`)
      const reset = await cli(['webhooks', 'reset-key', id as string, '--emulator', url])
      const [, newKey] = /new key for webhook \d+: (\S+)/.exec(reset.stdout) ?? []
      expect(newKey).toBeDefined()
      expect(newKey).not.toBe(key)
      expect(await cli(['webhooks', 'delete', id as string, '--emulator', url])).toMatchObject({
        code: 0,
        stdout: `deleted webhook ${id}\n`,
      })
      expect((await cli(['webhooks', 'list', '--emulator', url])).stdout).toBe('no webhooks\n')
      expect((await cli(['webhooks', 'frob', '--emulator', url])).code).toBe(2)
      expect((await cli(['webhooks', 'list', '--api-key', 'x'])).stderr).toContain(
        '--api-key needs --owner-id',
      )
    } finally {
      await app.stop()
      await emulator.stop()
    }
  })

  it("the live log shows a receiver's reason whole, however long", () => {
    const reason =
      'the signature does not match: the URL used was http://10.0.0.5:3000/webhooks/sendclean, set `url` to the URL registered with SendClean (the handshake is still answered)'
    const delivery = {
      id: 'd1',
      webhookId: '1',
      url: 'http://x',
      time: new Date().toISOString(),
      types: ['click'],
      state: 'failed',
      maxAttempts: 1,
      attempts: [],
      request: { method: 'POST', url: 'http://x', headers: {}, body: '' },
      events: [],
    } as unknown as Delivery
    const line = formatEvent(
      {
        type: 'attempt',
        delivery,
        attempt: { n: 1, time: delivery.time, status: 401, ms: 3, answer: reason },
      },
      false,
    )
    expect(reason.length).toBeGreaterThan(120)
    expect(line).toContain(JSON.stringify(reason))
  })
})
