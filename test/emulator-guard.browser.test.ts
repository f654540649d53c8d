// The emulator is safe to leave running (issue 34): in a real browser (Debian's chromium via
// playwright-core), a page on another local origin cannot drive it, even with the simple
// no-cors requests browsers send without asking; a page on a DNS-rebinding name (mapped to
// 127.0.0.1 by Chromium's resolver rules) cannot read it; and the live stream drops a client
// that never reads instead of buffering for it.
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNodeHandler } from '../adapters/node.js'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { createReceiver } from '../src/index.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)

let emulator: Emulator
let browser: Browser
let attacker: Server
let attackerUrl: string
let receiverServer: Server
let receiverUrl: string

const listWebhooks = async () =>
  ((await (await fetch(`${emulator.url}/emulator/webhooks`)).json()) as { webhooks: unknown[] })
    .webhooks

const TITLE = hasChromium
  ? 'the emulator refuses other pages'
  : `the emulator refuses other pages (skipped: no Chromium at ${CHROMIUM}; install Debian's chromium or set CHROMIUM_PATH)`
if (!hasChromium) console.warn(`emulator-guard.browser.test.ts: ${TITLE}`)

describe.skipIf(!hasChromium)(TITLE, { timeout: 60_000 }, () => {
  beforeAll(async () => {
    emulator = await startEmulator({ ownerId: 'me', token: 't', attempts: 1 })
    receiverServer = createServer(createNodeHandler(createReceiver({ keys: [] })))
    await new Promise<void>((r) => receiverServer.listen(0, '127.0.0.1', r))
    receiverUrl = `http://127.0.0.1:${(receiverServer.address() as AddressInfo).port}/hook`
    // The attacker's page: another local origin.
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><title>elsewhere</title>')
    })
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r))
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--host-resolver-rules=MAP rebind.test 127.0.0.1',
      ],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await emulator?.close()
    attacker?.close()
    receiverServer?.close()
  })

  it('a no-cors POST from another origin adds no webhook and triggers nothing', async () => {
    const page = await browser.newPage()
    await page.goto(attackerUrl)
    const before = (await listWebhooks()).length
    await page.evaluate(
      async ({ emulatorUrl, url }) => {
        const body = JSON.stringify({ owner_id: 'me', token: 't', url, event: 'send' })
        for (const path of ['/settings/addWebhook', '/emulator/webhooks', '/emulator/trigger']) {
          await fetch(emulatorUrl + path, {
            method: 'POST',
            mode: 'no-cors',
            headers: { 'content-type': 'text/plain' },
            body,
          }).catch(() => {})
        }
      },
      { emulatorUrl: emulator.url, url: receiverUrl },
    )
    expect((await listWebhooks()).length).toBe(before)
    await page.close()
  })

  it('a page cannot read the emulator by image, script or no-cors fetch (Sec-Fetch-Site)', async () => {
    const seen: number[] = []
    const page = await browser.newPage()
    page.on('response', (response) => {
      if (response.url().startsWith(emulator.url)) seen.push(response.status())
    })
    await page.goto(attackerUrl)
    await page.evaluate(async (emulatorUrl) => {
      const img = new Image()
      img.src = `${emulatorUrl}/emulator/webhooks`
      await new Promise((r) => {
        img.onerror = r
        img.onload = r
      })
      await fetch(`${emulatorUrl}/emulator/webhooks`, { mode: 'no-cors' }).catch(() => {})
    }, emulator.url)
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((status) => status === 403)).toBe(true)
    await page.close()
  })

  it('a DNS-rebinding name reaches the emulator’s address but gets 403, for reads too', async () => {
    const page = await browser.newPage()
    const port = new URL(emulator.url).port
    const response = await page.goto(`http://rebind.test:${port}/emulator/webhooks`)
    expect(response?.status()).toBe(403)
    expect(await page.content()).not.toContain('"key"')
    await page.close()
  })

  it('the emulator’s own console still works', async () => {
    const page = await browser.newPage()
    await page.goto(emulator.url)
    await page.locator('#connection', { hasText: 'live' }).waitFor()
    await page.close()
  })
})

describe('the live stream is bounded', () => {
  it('a client that never reads is dropped, and memory comes back', async () => {
    const emu = await startEmulator({ ownerId: 'me', token: 't', attempts: 1 })
    const receiver = createServer(createNodeHandler(createReceiver({ keys: [] })))
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    try {
      const { port } = new URL(emu.url)
      // A stream client that sends its request and then never reads a byte.
      const socket = connect(Number(port), '127.0.0.1')
      await new Promise<void>((r) => socket.once('connect', () => r()))
      socket.pause()
      socket.write(`GET /emulator/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
      let closed = false
      socket.once('close', () => {
        closed = true
      })
      await fetch(`${emu.url}/settings/addWebhook`, {
        method: 'POST',
        body: JSON.stringify({ owner_id: 'me', token: 't', url: hook, event: 'send' }),
      })
      // 25 triggers emit about 50 MB of stream frames (each attempt with its whole request).
      for (let i = 0; i < 25; i++) {
        await fetch(`${emu.url}/emulator/trigger`, {
          method: 'POST',
          body: JSON.stringify({ types: ['send'], count: 1000, wait: true }),
        })
      }
      // Now read what the emulator kept for it: at most the kernel's socket buffers and the
      // backlog, then the connection ends (it was dropped).
      let received = 0
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length
      })
      socket.resume()
      for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 50))
      expect(closed).toBe(true)
      expect(received).toBeLessThan(20 * 1024 * 1024)
      socket.destroy()
    } finally {
      await emu.close()
      receiver.close()
    }
  }, 60_000)

  it('trigger refuses a count or batch past the limits with 400', async () => {
    const emu = await startEmulator({ ownerId: 'me', token: 't' })
    try {
      for (const body of [
        { types: ['send'], count: 1_000_000 },
        { types: ['send'], batch: 0 },
      ]) {
        const res = await fetch(`${emu.url}/emulator/trigger`, {
          method: 'POST',
          body: JSON.stringify(body),
        })
        expect(res.status).toBe(400)
      }
    } finally {
      await emu.close()
    }
  })
})
