// npm run demo: the package's main job end to end, with a local SendClean.
//  1. start the SendClean emulator and the Express, Koa, Fastify and Hono examples (no key yet);
//  2. register each example with the management client: the emulator's handshake is real;
//  3. deploy each webhook's key (restart the example with it), trigger one event of each type;
//  4. rotate the keys: SendClean signs with the new key at once, the first delivery is refused
//     and retried, the receivers are redeployed with new + old key, and the retry lands.
// The emulator's web console shows it all; `npm run demo -- --keep` leaves the emulator and the
// examples running afterwards, to browse and send more from the console (Ctrl-C to stop).

import { createClient } from '../client/index.js'
import { startEmulator } from '../emulator/index.js'
import { type RunningExample, startExample } from './run-example.js'

const PATH = '/webhooks/sendclean'
const OWNER = 'demo-owner'
const TOKEN = 'demo-token'
const FRAMEWORKS = ['express', 'koa', 'fastify', 'hono'] as const
type Framework = (typeof FRAMEWORKS)[number]

const keep = process.argv.includes('--keep')
const step = (text: string) => console.log(`• ${text}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Generous retries, so that a delivery refused during a key rotation outlives the redeploy.
const sendclean = await startEmulator({
  ownerId: OWNER,
  token: TOKEN,
  attempts: 6,
  retryDelayMs: 500,
})
const client = createClient({ ownerId: OWNER, token: TOKEN, baseUrl: sendclean.url })
const running = new Map<Framework, RunningExample>()
const ports = new Map<Framework, number>()
const handled = new Map<Framework, Set<string>>(FRAMEWORKS.map((f) => [f, new Set()]))

async function deploy(framework: Framework, keys: string[]): Promise<void> {
  await running.get(framework)?.stop()
  const example = await startExample(
    framework,
    { SENDCLEAN_WEBHOOK_KEY: keys.join(',') },
    ports.get(framework),
  )
  running.set(framework, example)
  ports.set(framework, Number(new URL(example.base).port))
}

/** Print what each example handled since the last call (`expected` lines each). */
const printed = new Map<RunningExample, number>()
async function showHandled(expected: number): Promise<void> {
  for (const framework of FRAMEWORKS) {
    const example = running.get(framework) as RunningExample
    const from = printed.get(example) ?? 0
    await example.waitForLines(from + expected)
    for (const line of example.lines.slice(from)) {
      const { handled: type, event } = JSON.parse(line)
      handled.get(framework)?.add(type)
      console.log(`    ${framework.padEnd(7)} handled ${type.padEnd(11)} ${event._id}`)
    }
    printed.set(example, example.lines.length)
  }
}

let failed = false
try {
  step(`emulator: SendClean's webhook API on ${sendclean.url}`)
  step(
    `emulator: web console at ${sendclean.url}/${keep ? '' : ' (run `npm run demo -- --keep` to browse it after the demo)'}`,
  )
  for (const framework of FRAMEWORKS) {
    await deploy(framework, [])
    step(`${framework}: example listening on ${running.get(framework)?.base}${PATH}, no key yet`)
  }

  const urlOf = new Map<Framework, string>()
  for (const framework of FRAMEWORKS) {
    const url = `${running.get(framework)?.base}${PATH}`
    urlOf.set(framework, url)
    await client.addWebhook({
      url,
      events: ['send', 'open', 'click', 'soft_bounce', 'hard_bounce', 'spam'],
      storeLog: true,
    })
    step(`${framework}: addWebhook → handshake answered, webhook registered`)
  }

  const hooks = await client.listWebhooks()
  const idOf = (framework: Framework) =>
    hooks.find((h) => h.url === urlOf.get(framework))?.webhookId as string
  for (const framework of FRAMEWORKS) {
    const key = hooks.find((h) => h.url === urlOf.get(framework))?.key as string
    await deploy(framework, [key])
    step(`${framework}: redeployed with its webhook key`)
  }

  const deliveries = await sendclean.trigger({
    events: ['send', 'delivered', 'open', 'click', 'hard_bounce', 'soft_bounce', 'spam'],
  })
  step(
    `trigger one event of each type → ${deliveries.map((d) => d.status).join(', ')} from the three receivers`,
  )
  await showHandled(7)

  step('rotate: keyResetWebhook on every webhook (SendClean signs with the new key at once)')
  const oldKeys = new Map(hooks.map((h) => [h.webhookId, h.key]))
  const newKeys = new Map<Framework, string>()
  for (const framework of FRAMEWORKS)
    newKeys.set(framework, (await client.resetWebhookKey(idOf(framework))).key)

  const pending = sendclean.trigger({ events: ['click'] })
  await sleep(150)
  step(
    'trigger a click: the receivers only know the old key, so SendClean is answered 401 and retries',
  )
  for (const framework of FRAMEWORKS) {
    await deploy(framework, [
      newKeys.get(framework) as string,
      oldKeys.get(idOf(framework)) as string,
    ])
    step(`${framework}: redeployed with the new key (and the old one, for the overlap)`)
  }
  const retried = await pending
  step(
    `the retried click landed: ${retried.map((d) => `${d.status} after ${d.attempts} attempts`).join(', ')}`,
  )
  await showHandled(1)

  for (const framework of FRAMEWORKS) {
    const info = await client.getWebhook(idOf(framework))
    step(
      `${framework}: getWebhookInfo → total_event ${info.totalEvents}, last success ${info.lastSuccess?.toISOString()}`,
    )
  }
  const missing = FRAMEWORKS.filter((f) => handled.get(f)?.size !== 7)
  if (missing.length || retried.some((d) => !d.ok))
    throw new Error(`not every type was handled by ${missing.join(', ')}`)
  step('all seven event types handled by Express, Koa, Fastify and Hono; the rotation lost nothing')
} catch (error) {
  failed = true
  console.error(`demo failed: ${(error as Error).message}`)
}
if (keep && !failed) {
  step(
    `kept running: open ${sendclean.url}/ to browse the deliveries and send more (Ctrl-C to stop)`,
  )
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
}
await Promise.all([...running.values()].map((example) => example.stop()))
await sendclean.close()
process.exit(failed ? 1 : 0)
