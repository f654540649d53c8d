// `listen --forward-to <url>`: join the local emulator (or start one), register `url` with a key
// that stays the same across runs, print the key and the console's address, then print every
// handshake and delivery attempt to that webhook until interrupted.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import type { EmulatorEvent } from '../emulator/bus.js'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { formatEvent } from '../emulator/live-log.js'
import { serverSentEvents } from './follow.js'

/** The emulator's port when none is given; `trigger` without `--emulator` goes there. */
const DEFAULT_PORT = 8025

/** Where `listen` keeps each forwarded URL's key: `$SENDCLEAN_STATE_FILE`, or the user's config folder. */
export function stateFile(env: Record<string, string | undefined>): string {
  if (env.SENDCLEAN_STATE_FILE) return env.SENDCLEAN_STATE_FILE
  const base =
    env.XDG_CONFIG_HOME ||
    (process.platform === 'win32' && env.APPDATA ? env.APPDATA : join(homedir(), '.config'))
  return join(base, 'sendclean-webhooks', 'listen.json')
}

/**
 * The keys `listen` remembered, by forwarded URL. The file holds local emulator keys only, never
 * a SendClean key.
 */
function savedKeys(file: string): Record<string, string> {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { keys?: Record<string, string> }).keys ?? {}
  } catch {
    return {} // no file yet, or not ours to read: start afresh
  }
}

function saveKey(file: string, url: string, key: string): void {
  const keys = savedKeys(file)
  if (keys[url] === key) return
  keys[url] = key
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
}

/** Whether a sendclean-webhooks emulator answers at `origin`. */
async function isEmulator(origin: string): Promise<boolean> {
  try {
    const res = await fetch(`${origin}/emulator/event-types`, { signal: AbortSignal.timeout(1000) })
    const body = (await res.json()) as { types?: unknown }
    return res.ok && Array.isArray(body.types)
  } catch {
    return false
  }
}

export interface ListenOptions {
  forwardTo: string
  events?: string[]
  key?: string
  /** A running emulator to join; without it, the one on `port` is joined or started. */
  emulator?: string
  port: number
  ownerId: string
  token: string
  attempts: number
  retryDelayMs: number
  env: Record<string, string | undefined>
  colour: boolean
  out: (line: string) => void
  err: (line: string) => void
  /** Resolves when the user asks to stop (SIGINT/SIGTERM in the CLI). */
  stop: Promise<void>
}

/** Runs until `stop`; resolves with the exit code. */
export async function listen(options: ListenOptions): Promise<number> {
  const { out, err } = options
  try {
    new URL(options.forwardTo)
  } catch {
    err(`--forward-to must be an absolute URL, such as http://localhost:3000/webhooks/sendclean`)
    return 2
  }
  let owned: Emulator | undefined
  let origin = options.emulator?.replace(/\/+$/, '')
  if (origin) {
    if (!(await isEmulator(origin))) {
      err(`no sendclean-webhooks emulator answers at ${origin}`)
      return 1
    }
  } else {
    origin = `http://127.0.0.1:${options.port}`
    if (options.port === 0 || !(await isEmulator(origin))) {
      owned = await startEmulator({
        port: options.port,
        ownerId: options.ownerId,
        token: options.token,
        attempts: options.attempts,
        retryDelayMs: options.retryDelayMs,
      })
      origin = owned.url
    }
  }
  const file = stateFile(options.env)
  // `--key`, else the one remembered for this URL, else the emulator makes one (remembered below).
  const key = options.key ?? savedKeys(file)[options.forwardTo]
  const abort = new AbortController()
  try {
    // Subscribed before registering, so the handshake's line is not missed.
    const stream = await fetch(`${origin}/emulator/stream`, { signal: abort.signal })
    if (!stream.ok || !stream.body) {
      err(`${origin} answered ${stream.status} to /emulator/stream`)
      return 1
    }
    const events = serverSentEvents(stream.body)
    await events.next() // hello
    const res = await fetch(`${origin}/emulator/listen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        url: options.forwardTo,
        key,
        ...(options.events ? { event: options.events.join(',') } : {}),
      }),
    })
    const answer = (await res.json()) as {
      error?: string
      webhook?: { webhook_id: string; event: string; key: string }
      handshake?: { ok: boolean; detail: string }
    }
    if (!res.ok || !answer.webhook) {
      err(`the emulator refused the webhook: ${answer.error ?? res.status}`)
      return 1
    }
    const id = answer.webhook.webhook_id
    saveKey(file, options.forwardTo, answer.webhook.key)
    out(
      `listen: ${owned ? 'started an emulator' : 'joined the emulator'} at ${origin}; forwarding ${answer.webhook.event.split(',').join(', ')} to ${options.forwardTo} (webhook ${id})`,
    )
    out(
      `listen: ready. Put SENDCLEAN_WEBHOOK_KEY=${answer.webhook.key} in your app's environment (the same on every run for this URL) · console ${origin}/ · deliver with: npx sendclean-webhooks trigger click${origin === `http://127.0.0.1:${DEFAULT_PORT}` ? '' : ` --emulator ${origin}`}`,
    )
    if (!answer.handshake?.ok) {
      out(
        `listen: ${options.forwardTo} did not answer the handshake yet (${answer.handshake?.detail ?? 'no answer'}); start your app with the key above: deliveries are retried until it answers`,
      )
    }
    const reading = (async () => {
      for await (const { type, data } of events) {
        const event = { type, ...JSON.parse(data) } as EmulatorEvent
        const ours =
          (event.type === 'attempt' && event.delivery.webhookId === id) ||
          (event.type === 'handshake' && event.url === options.forwardTo)
        if (!ours) continue
        const line = formatEvent(event, options.colour)
        if (line) out(line)
      }
    })()
    reading.catch(() => {}) // ends with the abort below
    const ended = await Promise.race([
      options.stop.then(() => 'stopped' as const),
      reading.then(() => 'closed' as const),
    ])
    if (ended === 'closed') {
      err(`the emulator at ${origin} closed its event stream`)
      return 1
    }
    return 0
  } catch (error) {
    if (abort.signal.aborted) return 0
    err(`lost the emulator at ${origin}: ${(error as Error).message}`)
    return 1
  } finally {
    abort.abort()
    await owned?.close()
  }
}
