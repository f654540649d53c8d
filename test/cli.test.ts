import { execFile, spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createNodeHandler } from '../adapters/node.js'
import { createClient } from '../client/index.js'
import { freePort } from '../scripts/run-example.js'
import { FIELD, formDelivery, KEY, URL_REGISTERED } from './support/fixtures.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sendclean-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/cli.ts', ...args],
      { cwd: root },
      (error, stdout, stderr) => {
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr })
      },
    )
  })
}

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

// Each case starts the CLI with tsx (about a second apiece on a busy 2-core machine).
describe('sendclean-webhooks CLI', { timeout: 20_000 }, () => {
  it('prints help, and exits 2 on a bad command or flag', async () => {
    expect(await cli('help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('trigger <event...>'),
    })
    const bad = await cli('frobnicate')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('unknown command "frobnicate"')
    expect((await cli('sign', '--nope')).code).toBe(2)
    expect((await cli('trigger', 'send', '--key', 'k')).stderr).toContain(
      'drop --key, or pass --url',
    )
  }, 20_000)

  // Every command's options used to be accepted by every command and ignored where they did not
  // apply: `trigger click --forward-to URL` delivered to the emulator, not to URL.
  it('refuses an option its command does not take, saying which command does or what was meant', async () => {
    const foreign = await cli('trigger', 'click', '--forward-to', 'http://127.0.0.1:9/hook')
    expect(foreign).toMatchObject({ code: 2, stdout: '' })
    expect(foreign.stderr).toContain('trigger does not take --forward-to (listen does)')
    const misspelt = await cli('trigger', 'click', '--cont', '2')
    expect(misspelt.code).toBe(2)
    expect(misspelt.stderr).toContain('trigger does not take --cont (did you mean --count?)')
    const type = await cli('trigger', 'clik', '--url', 'http://127.0.0.1:9/hook', '--key', 'k')
    expect(type.code).toBe(2)
    expect(type.stderr).toContain('unknown event type "clik" (did you mean "click"?)')
  }, 20_000)

  it('sign prints the SPEC §3 signature of a form body', async () => {
    const { body, signature } = formDelivery()
    const res = await cli(
      'sign',
      '--url',
      URL_REGISTERED,
      '--key',
      KEY,
      '--body-file',
      file('body.txt', body),
    )
    expect(res).toMatchObject({ code: 0, stdout: `${signature}\n` })
    const json = await cli('sign', '--json', '--url', URL_REGISTERED, '--key', KEY, '--body', '[]')
    expect(json.stdout.trim()).toBe(
      createHmac('sha1', KEY).update(`${URL_REGISTERED}[]`).digest('base64'),
    )
  })

  it('verify checks a captured request', async () => {
    const { body, signature } = formDelivery()
    const bodyFile = file('captured.txt', body)
    const headers = file(
      'headers.txt',
      `Content-Type: application/x-www-form-urlencoded\nX-SendCleanTES-Signature: ${signature}\n`,
    )
    const good = await cli(
      'verify',
      '--url',
      URL_REGISTERED,
      '--key',
      'old',
      '--key',
      KEY,
      '--headers-file',
      headers,
      '--body-file',
      bodyFile,
    )
    expect(good).toMatchObject({ code: 0, stdout: 'verified with --key #2: 7 event(s)\n' })
    const bad = await cli(
      'verify',
      '--url',
      URL_REGISTERED,
      '--key',
      'wrong',
      '--headers-file',
      headers,
      '--body-file',
      bodyFile,
    )
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('no --key matches the signature for --url')
  })

  it('verify checks the signature of a handshake-shaped body too', async () => {
    const bogus = file(
      'bogus-headers.txt',
      'Content-Type: application/x-www-form-urlencoded\nX-SendCleanTES-Signature: bogus\n',
    )
    const res = await cli(
      'verify',
      '--url',
      URL_REGISTERED,
      '--key',
      KEY,
      '--headers-file',
      bogus,
      '--body-file',
      file('handshake.txt', `${FIELD}=%5B%5D`),
    )
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('refused')
  })

  it.each(['emulator', 'trigger', 'sign', 'verify'])(
    '%s --help and -h print its own usage, exit 0',
    async (command) => {
      for (const flag of ['--help', '-h']) {
        const res = await cli(command, flag)
        expect(res.code).toBe(0)
        expect(res.stdout).toContain(`sendclean-webhooks ${command} [options]`)
        expect(res.stdout).toContain(`  ${command}`)
        expect(res.stderr).toBe('')
      }
    },
  )

  it('trigger to a stopped receiver names the URL and the cause', async () => {
    const url = `http://127.0.0.1:${await freePort()}/hook`
    const res = await cli('trigger', 'send', '--url', url, '--key', KEY)
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`could not reach ${url}: ECONNREFUSED`)
  })

  it('trigger delivers signed batches that an independent verifier accepts', async () => {
    const received: string[] = []
    const server: Server = createServer(async (req, res) => {
      let raw = ''
      for await (const chunk of req) raw += chunk
      const url = `http://${req.headers.host}${req.url}`
      const events = new URLSearchParams(raw).get(FIELD) ?? ''
      const expected = createHmac('sha1', 'cli-key')
        .update(url + FIELD + events)
        .digest('base64')
      const ok = expected === req.headers['x-sendcleantes-signature']
      if (ok) received.push(...JSON.parse(events).map((e: { event: string }) => e.event))
      res.statusCode = ok ? 200 : 401
      res.end(ok ? 'God bless you, SendClean' : 'bad signature')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`
    const res = await cli(
      'trigger',
      'click',
      'spam',
      '--url',
      url,
      '--key',
      'cli-key',
      '--count',
      '3',
      '--batch',
      '4',
    )
    const refused = await cli('trigger', 'send', '--url', url, '--key', 'wrong-key')
    server.close()
    expect(res.code).toBe(0)
    expect(res.stdout.trim().split('\n')).toEqual([
      '200 4 event(s): God bless you, SendClean',
      '200 2 event(s): God bless you, SendClean',
    ])
    expect(received).toEqual(['click', 'click', 'click', 'spam', 'spam', 'spam'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('401 1 event(s): bad signature')
  })

  it('emulator serves the management API until SIGTERM', async () => {
    const port = await freePort()
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bin/cli.ts', 'emulator', '--port', String(port), '--token', 't'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()),
    )
    const client = createClient({
      ownerId: 'local-owner',
      token: 't',
      baseUrl: `http://127.0.0.1:${port}`,
    })
    expect(await client.listWebhooks()).toEqual([])
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})

describe('trigger --emulator: a running emulator delivers, the CLI follows', {
  timeout: 30_000,
}, () => {
  it('prints each attempt as it happens and exits by the final outcome', async () => {
    // A receiver whose key the test controls.
    let key = ''
    const server = createServer(
      createNodeHandler({ keys: () => key, path: '/hook', on: { '*': () => {} } }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`

    const port = await freePort()
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/cli.ts',
        'emulator',
        '--port',
        String(port),
        '--token',
        't',
        '--attempts',
        '2',
        '--retry-delay-ms',
        '50',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let log = ''
    child.stdout.on('data', (d: Buffer) => {
      log += d.toString()
    })
    try {
      while (!log.includes('web console at')) await new Promise((r) => setTimeout(r, 20))
      const emulator = `http://127.0.0.1:${port}`
      expect(log).toContain(`emulator: web console at ${emulator}/`)
      const client = createClient({ ownerId: 'local-owner', token: 't', baseUrl: emulator })
      await client.addWebhook({ url: hook })
      const [webhook] = await client.listWebhooks()
      key = webhook!.key

      const ok = await cli('trigger', 'click', 'spam', '--emulator', emulator)
      expect(ok.code).toBe(0)
      const lines = ok.stdout.trim().split('\n')
      expect(lines[0]).toMatch(
        new RegExp(`^d1: 2 event\\(s\\) to webhook ${webhook!.webhookId} \\(${hook}\\)$`),
      )
      expect(lines[1]).toMatch(
        / deliver {3}d1 webhook \d+ click spam \(2\) attempt 1\/2 → 200 \d+ ms$/,
      )
      expect(lines.at(-1)).toBe('1 delivery accepted')
      expect(ok.stdout).not.toContain('\u001b[') // not a TTY

      key = 'rotated-elsewhere'
      const refused = await cli(
        'trigger',
        'open',
        '--emulator',
        emulator,
        '--webhook',
        webhook!.webhookId,
      )
      expect(refused.code).toBe(1)
      const attempts = refused.stdout.trim().split('\n').slice(1, 3)
      expect(attempts[0]).toMatch(
        /attempt 1\/2 → 401 \d+ ms ".*signature does not match.*" \(will retry\)$/,
      )
      expect(attempts[1]).toMatch(/attempt 2\/2 → 401 \d+ ms ".*" gave up$/)
      expect(refused.stdout.trim().split('\n').at(-1)).toBe(
        '1 of 1 deliveries failed after their retries',
      )

      const unknown = await cli('trigger', 'send', '--emulator', emulator, '--webhook', 'nope')
      expect(unknown).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('no webhook with id "nope"'),
      })
      const typo = await cli('trigger', 'bounce', '--emulator', emulator)
      expect(typo).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('unknown event type "bounce"'),
      })
      const mixed = await cli('trigger', 'send', '--emulator', emulator, '--url', hook)
      expect(mixed.code).toBe(2)

      // The emulator's own live log saw the API calls and every attempt.
      expect(log).toMatch(/api {7}addWebhook → success Webhook Added/)
      expect(log).toMatch(/d2 webhook \d+ open \(1\) attempt 2\/2 → 401 .* gave up/)
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve))
      child.kill('SIGTERM')
      await exited
      server.close()
    }
    const gone = await cli('trigger', 'send', '--emulator', `http://127.0.0.1:${port}`)
    expect(gone).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('could not reach the emulator'),
    })
  })
})
