// The emulator's web console in a real browser (Debian's chromium, driven by playwright-core):
// register the Express example, send every event type from the composer, rotate the key and
// watch a delivery be refused, then accepted once the example runs with the new key.
// CONSOLE_SCREENSHOTS=<dir> also writes the screenshots the README shows.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { freePort, type RunningExample, startExample } from '../scripts/run-example.js'
import { EVENT_NAMES } from '../src/index.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium && process.env.CI) {
  throw new Error(`CI needs a browser for the console test: install chromium or set CHROMIUM_PATH`)
}
const shots = process.env.CONSOLE_SCREENSHOTS

const PATH = '/webhooks/sendclean'
let emulator: Emulator
let browser: Browser
let page: Page
let example: RunningExample | undefined
let port: number
const log: string[] = []

async function deploy(key: string) {
  await example?.stop()
  example = await startExample('express', { SENDCLEAN_WEBHOOK_KEY: key }, port)
}

async function screenshot(name: string) {
  if (!shots) return
  mkdirSync(shots, { recursive: true })
  await page.screenshot({ path: join(shots, `${name}.png`) })
}

/** A delivery's element, once it has left `pending`. */
async function settled(id: string) {
  const delivery = page.locator(`#deliveries details[data-delivery-id="${id}"]`)
  await expect
    .poll(() => delivery.getAttribute('data-state'), { timeout: 15_000 })
    .toMatch(/^(ok|failed)$/)
  return delivery
}

/** Press Send in the composer; the delivery it started, once settled. */
async function send() {
  const status = page.locator('#compose-status')
  await page.getByRole('button', { name: 'Send', exact: true }).click()
  await expect.poll(() => status.textContent()).toMatch(/^Sent as d\d+\.$/)
  const id = /d\d+/.exec((await status.textContent()) as string)?.[0] as string
  return settled(id)
}

const TITLE = hasChromium
  ? 'the web console, in a real browser'
  : `the web console, in a real browser (skipped: no Chromium at ${CHROMIUM}; install Debian's chromium or set CHROMIUM_PATH)`
if (!hasChromium) console.warn(`console.browser.test.ts: ${TITLE}`)

describe.skipIf(!hasChromium)(TITLE, { timeout: 60_000 }, () => {
  beforeAll(async () => {
    emulator = await startEmulator({
      ownerId: 'me',
      token: 't',
      attempts: 3,
      retryDelayMs: 100,
      log: (line) => log.push(line),
    })
    port = await freePort()
    await deploy('') // no key yet: the handshake needs none
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: emulator.url,
    })
    await page.goto(emulator.url)
    await page.locator('#connection', { hasText: 'live' }).waitFor()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await example?.stop()
    await emulator?.close()
  })

  it('a first run says how to point an app at it, and has an icon', async () => {
    const panel = page.getByRole('region', { name: 'Getting started' })
    await panel.waitFor()
    expect(await panel.locator('pre[data-command]').textContent()).toBe(
      `npx sendclean-webhooks listen --forward-to http://localhost:3000/webhooks/sendclean --port ${new URL(emulator.url).port}`,
    )
    expect(await panel.locator('code[data-trigger]').textContent()).toBe(
      `npx sendclean-webhooks trigger click --emulator ${emulator.url}`,
    )
    const icon = await page.evaluate(async () => {
      const href = document.querySelector('link[rel=icon]')?.getAttribute('href') ?? ''
      const res = await fetch(href)
      return { status: res.status, type: res.headers.get('content-type') }
    })
    expect(icon).toEqual({ status: 200, type: 'image/svg+xml' })
    await screenshot('console-first-run')
  })

  it('registers the Express example: the handshake happens, the webhook and its key appear', async () => {
    const url = `${example?.base}${PATH}`
    await page.getByLabel('URL (SendClean sends a handshake to it first)').fill(url)
    await page.getByLabel('Description').first().fill('Express example')
    await page.getByRole('button', { name: 'Add webhook' }).click()
    const card = page.getByRole('article', { name: `Webhook ${url}` })
    await expect.poll(() => card.count()).toBe(1)
    const key = await card.locator('code[data-key]').textContent()
    expect(key).toMatch(/^[\w-]{22}$/)
    expect(log.some((line) => line.includes('handshake') && line.includes(url))).toBe(true)
  })

  it('sends each event type from the composer; every delivery turns 200 with its latency', async () => {
    const key = (await page.locator('code[data-key]').textContent()) as string
    await deploy(key)
    for (const type of EVENT_NAMES) {
      await page.getByLabel('Event type').selectOption(type)
      await expect
        .poll(() => page.locator('#compose-status').textContent())
        .toBe(`Valid ${type} event.`)
      const delivery = await send()
      expect(await delivery.getAttribute('data-state')).toBe('ok')
      expect(await delivery.locator('summary').textContent()).toContain(type)
      expect(await delivery.locator('ol.attempts li').first().textContent()).toMatch(
        /^200 in \d+ ms/,
      )
    }
    // The example handled one event of each type, as its handlers print them.
    const lines = await example?.waitForLines(EVENT_NAMES.length)
    expect(new Set(lines?.map((line) => JSON.parse(line).handled))).toEqual(new Set(EVENT_NAMES))
    // The webhook's counters moved.
    await expect
      .poll(() => page.locator('article dd[data-total-event]').textContent())
      .toBe(String(EVENT_NAMES.length))
    await page.locator('#deliveries details').first().locator('summary').click()
    await screenshot('console-deliveries')
  })

  it('shows the form body decoded beside the raw bytes, and copies the exact request as curl', async () => {
    const delivery = page.locator('#deliveries details').first()
    const raw = (await delivery.locator('pre[data-raw]').textContent()) as string
    const decoded = (await delivery.locator('pre[data-decoded]').textContent()) as string
    expect(raw).toContain('SendCleantes_events=%5B%7B%22')
    expect(decoded).toMatch(/^SendCleantes_events =\n\[\n {2}\{\n {4}"\w+": /)
    expect(decoded).toContain('"event": "')
    await delivery.getByRole('button', { name: /^Copy d\d+ as curl$/ }).click()
    await expect.poll(() => delivery.locator('pre[data-curl]').isVisible()).toBe(true)
    const copied = await page.evaluate(() => navigator.clipboard.readText())
    expect(copied).toBe(await delivery.locator('pre[data-curl]').textContent())
    expect(copied).toMatch(/^curl -sS -X POST 'http:\/\/127\.0\.0\.1:\d+\/webhooks\/sendclean'/)
    // Run as a user would paste it: the receiver accepts the same signed request again.
    const before = example?.lines.length ?? 0
    const answer = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', copied], (error, stdout) => (error ? reject(error) : resolve(stdout))),
    )
    expect(answer).toBe('God bless you, SendClean')
    const lines = await example?.waitForLines(before + 1)
    expect(lines?.length).toBe(before + 1)
  })

  it('an edited event that breaks the schema is reported and not sent', async () => {
    await page.getByLabel('Event type').selectOption('hard_bounce')
    await expect
      .poll(() => page.locator('#compose-status').textContent())
      .toBe('Valid hard_bounce event.')
    const json = JSON.parse(await page.getByLabel('Event (JSON; edit freely)').inputValue())
    json.msg.bounceCodeEnh = 5
    const before = await page.locator('#deliveries details').count()
    await page.getByLabel('Event (JSON; edit freely)').fill(JSON.stringify(json, null, 2))
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await expect
      .poll(() => page.locator('#compose-status').textContent())
      .toMatch(/^Not a valid event: msg\.bounceCodeEnh: /)
    expect(await page.locator('#deliveries details').count()).toBe(before)
    await page.getByLabel('Event (JSON; edit freely)').fill('{ "event": ')
    await expect
      .poll(() => page.locator('#compose-status').textContent())
      .toMatch(/^Not valid JSON/)
  })

  it('after a key reset the next delivery is refused, and accepted once the example has the new key', async () => {
    const keyCell = page.locator('code[data-key]')
    const oldKey = await keyCell.textContent()
    await page.getByRole('button', { name: 'Reset key' }).click()
    await expect.poll(() => keyCell.textContent()).not.toBe(oldKey)
    const newKey = (await keyCell.textContent()) as string

    await page.getByRole('button', { name: 'New sample' }).click()
    await page.getByLabel('Event type').selectOption('click')
    await expect
      .poll(() => page.locator('#compose-status').textContent())
      .toBe('Valid click event.')
    const refused = await send()
    expect(await refused.getAttribute('data-state')).toBe('failed')
    const attempts = await refused.locator('ol.attempts li').allTextContents()
    expect(attempts).toHaveLength(3)
    for (const attempt of attempts) expect(attempt).toMatch(/^401 in \d+ ms/)
    // The receiver's reason is shown with the delivery.
    await refused.locator('summary').click()
    await refused.locator('pre[data-answer]').scrollIntoViewIfNeeded()
    expect(await refused.locator('pre[data-answer]').textContent()).toMatch(/^401\n\n.*signature/s)
    await screenshot('console-refused')

    await deploy(newKey)
    const id = await refused.getAttribute('data-delivery-id')
    await refused.getByRole('button', { name: `Replay ${id}` }).click()
    const newest = page.locator('#deliveries details').first()
    await expect.poll(() => newest.getAttribute('data-delivery-id')).not.toBe(id)
    const accepted = await settled((await newest.getAttribute('data-delivery-id')) as string)
    expect(await accepted.getAttribute('data-state')).toBe('ok')
    expect(await accepted.locator('ol.attempts li').first().textContent()).toMatch(/^200 in \d+ ms/)
    expect(log.some((line) => line.includes('attempt 3/3') && line.includes('401'))).toBe(true)
  })

  it('the composer picks an event type the selected webhook subscribes to', async () => {
    await page.getByRole('button', { name: 'Edit' }).click()
    const form = page.getByRole('form', { name: /^Edit webhook/ })
    for (const box of await form.getByRole('checkbox').all()) {
      const name = await box.getAttribute('value')
      if (name && name !== 'open') await box.uncheck()
    }
    await form.getByRole('checkbox', { name: 'open' }).check()
    await page.getByLabel('Event type').selectOption('click')
    await form.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => page.locator('article dd').nth(1).textContent()).toBe('open')
    // The webhook now subscribes to open only: the composer follows.
    await expect.poll(() => page.getByLabel('Event type').inputValue()).toBe('open')
  })

  it('edits and deletes the webhook', async () => {
    await page.getByRole('button', { name: 'Edit' }).click()
    const form = page.getByRole('form', { name: /^Edit webhook/ })
    await form.getByLabel('Description').fill('renamed')
    await form.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => page.locator('article').first().textContent()).toContain('renamed')
    page.once('dialog', (dialog) => void dialog.accept())
    await page.getByRole('button', { name: 'Delete' }).click()
    await expect.poll(() => page.locator('article').count()).toBe(0)
  })

  it('sending after the emulator stopped says so', async () => {
    // A webhook to send to (registered without a handshake, as `listen` does), then stop.
    const url = `${example?.base}${PATH}`
    await fetch(`${emulator.url}/emulator/listen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    })
    await page.getByRole('article', { name: `Webhook ${url}` }).waitFor()
    await emulator.close()
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await expect
      .poll(() => page.locator('#compose-status').textContent())
      .toMatch(/^The emulator is not answering/)
  })
})
