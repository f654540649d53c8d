#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { startEmulator } from '../emulator/index.js'
import { wantsColour } from '../emulator/live-log.js'
import { version } from '../package.json'
import {
  DEFAULT_EVENTS_FIELD,
  DEFAULT_SIGNATURE_HEADER,
  type EventName,
  verifyWebhook,
} from '../src/index.js'
import { didYouMean, timingSafeEqualString, unknownName } from '../src/internal.js'
import { SAMPLE_TYPES, sampleEvent, signDelivery, signForm, signJson } from '../testing/index.js'
import { triggerOnEmulator } from './follow.js'
import { listen } from './listen.js'
import { WebhooksUsageError, webhooks } from './webhooks.js'

const DEFAULT_PORT = 8025

const USAGE = {
  listen: `  listen --forward-to URL  forward deliveries to your app: joins the emulator on --port (or
                           starts one), registers URL, prints the key to give your app (the
                           same on every run for this URL) and every attempt as it happens
      --events a,b         event types to subscribe (default all seven)
      --key KEY            use this key (remembered for URL); default: one kept in
                           $SENDCLEAN_STATE_FILE or ~/.config/sendclean-webhooks/listen.json
      --port N             the emulator's port (default $SENDCLEAN_EMULATOR_PORT or ${DEFAULT_PORT}; 0: any)
      --emulator URL       join the emulator at URL instead
      --owner-id, --token, --attempts, --retry-delay-ms
                           as for emulator, when listen starts one
`,
  emulator: `  emulator                 run a local SendClean (management API + signed deliveries)
      --port N             default $SENDCLEAN_EMULATOR_PORT or 8025 (0: any free port)
      --owner-id ID        default $SENDCLEAN_OWNER_ID or "local-owner"
      --token TOKEN        default $SENDCLEAN_TOKEN or "local-token"
      --data-file FILE     keep webhooks and keys in FILE, default $SENDCLEAN_DATA_FILE
      --attempts N         delivery attempts per batch, the first included (default 5)
      --retry-delay-ms N   base of the backoff between attempts (default 1000)
      --quiet              no live log (one line per API call, handshake and attempt)
    The web console is at the emulator's address.
`,
  trigger: `  trigger <event...>       deliver signed sample batches and print each answer
      --emulator URL       the emulator that signs, delivers and retries to its webhooks
                           (default: the one on $SENDCLEAN_EMULATOR_PORT or 8025, as
                           started by listen); each attempt is printed as it happens
      --webhook ID         with --emulator: only this webhook
      --url URL            instead of an emulator: POST to this receiver URL, as registered
      --key KEY            with --url: the webhook key (default $SENDCLEAN_WEBHOOK_KEY)
      --count N            events of each type (default 1)
      --batch N            events per POST (default 100)
      --field NAME         events field (default ${DEFAULT_EVENTS_FIELD})
`,
  sign: `  sign                     print the signature for a body
      --url URL --key KEY  (required)
      --body TEXT | --body-file FILE
      --json               sign as a JSON body (URL + raw text) instead of a form
`,
  verify: `  verify                   check a captured request's signature; exit 0 when a key matches
      --url URL --key KEY  (several --key allowed)
      --headers-file FILE  raw "Name: value" lines
      --body-file FILE
`,
  webhooks: `  webhooks list | add URL | delete ID | reset-key ID
                           manage webhooks on the emulator (default, on --emulator) or, with
                           --api-key TOKEN --owner-id ID, on SendClean's API (--base-url)
      --token TOKEN        the emulator's token, when it was started with one
      --events a,b         with add: event types (default SendClean's six)
      --description TEXT   with add
      --store-log          with add: keep a delivery log
`,
} as const

const EXIT_CODES = `Exit codes: 0 done; 1 a delivery, check or call failed, or something could not be reached;
2 bad usage.
`

const TYPES = `Event types: ${SAMPLE_TYPES.join(', ')}\n`
const HELP = `sendclean-webhooks <command> [options]\n\nCommands:\n${Object.values(USAGE).join('')}\n${TYPES}${EXIT_CODES}`

class UsageError extends Error {}

/** Every command's options, for the parser. */
const OPTIONS = {
  port: { type: 'string' },
  'owner-id': { type: 'string' },
  token: { type: 'string' },
  'data-file': { type: 'string' },
  url: { type: 'string' },
  key: { type: 'string', multiple: true },
  count: { type: 'string' },
  batch: { type: 'string' },
  field: { type: 'string' },
  body: { type: 'string' },
  'body-file': { type: 'string' },
  'headers-file': { type: 'string' },
  json: { type: 'boolean' },
  emulator: { type: 'string' },
  webhook: { type: 'string' },
  quiet: { type: 'boolean' },
  attempts: { type: 'string' },
  'retry-delay-ms': { type: 'string' },
  'forward-to': { type: 'string' },
  events: { type: 'string' },
  'api-key': { type: 'string' },
  'base-url': { type: 'string' },
  description: { type: 'string' },
  'store-log': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options']

/** The options each command reads: one meant for another command is refused, not ignored. */
const COMMAND_OPTIONS: Record<keyof typeof USAGE, readonly (keyof typeof OPTIONS)[]> = {
  listen: [
    'forward-to',
    'events',
    'key',
    'port',
    'emulator',
    'owner-id',
    'token',
    'attempts',
    'retry-delay-ms',
  ],
  emulator: ['port', 'owner-id', 'token', 'data-file', 'attempts', 'retry-delay-ms', 'quiet'],
  trigger: ['emulator', 'webhook', 'url', 'key', 'count', 'batch', 'field'],
  sign: ['url', 'key', 'body', 'body-file', 'json'],
  verify: ['url', 'key', 'headers-file', 'body', 'body-file'],
  webhooks: [
    'api-key',
    'owner-id',
    'token',
    'base-url',
    'emulator',
    'events',
    'description',
    'store-log',
  ],
}

/** `trigger does not take --cont (did you mean --count?)`, or which commands take it. */
function notTaken(command: keyof typeof USAGE, name: string): UsageError {
  const elsewhere = Object.entries(COMMAND_OPTIONS)
    .filter(([, names]) => (names as readonly string[]).includes(name))
    .map(([other]) => other)
  const hint =
    elsewhere.length > 0
      ? ` (${elsewhere.join(' and ')} ${elsewhere.length === 1 ? 'does' : 'do'})`
      : didYouMean(name, COMMAND_OPTIONS[command]).replace(/"([^"]+)"/, '--$1')
  return new UsageError(`${command} does not take --${name}${hint}`)
}

const isCommand = (command: string): command is keyof typeof USAGE =>
  Object.hasOwn(COMMAND_OPTIONS, command)

function need<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`)
  return value
}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`)
  return n
}

function port(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError('--port must be a port number (0 for any free port)')
  return n
}

/** Event type names as given; an unknown one is a usage error. */
function eventTypes(types: string[]): string[] {
  const bad = types.find((t) => !(SAMPLE_TYPES as readonly string[]).includes(t))
  if (bad) {
    throw new UsageError(unknownName('event type', bad, SAMPLE_TYPES))
  }
  return types
}

/** `--events a,b`, checked. */
function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return eventTypes(
    value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
}

/** Resolves on SIGINT or SIGTERM. */
const interrupted = () =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })

function body(values: { body?: string; 'body-file'?: string }): string {
  if (values['body-file']) return readFileSync(values['body-file'], 'utf8')
  return need(values.body, 'body')
}

/**
 * The command's options, parsed (every command's options are known to the parser; the command
 * is then kept to its own). A name nobody takes says which one was most likely meant.
 */
function parseCommandArgs(command: keyof typeof USAGE, args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: OPTIONS,
    })
  } catch (error) {
    const unknown = /^Unknown option '--([^']+)'/.exec((error as Error).message)?.[1]
    if (unknown === undefined) throw error
    throw notTaken(command, unknown)
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${version}\n`)
    return 0
  }
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP)
    return command ? 0 : 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const usage = USAGE[command as keyof typeof USAGE]
    if (!usage) throw new UsageError(`unknown command "${command}"`)
    process.stdout.write(
      `sendclean-webhooks ${command} [options]\n\n${usage}${command === 'trigger' || command === 'listen' ? `\n${TYPES}` : ''}\n${EXIT_CODES}`,
    )
    return 0
  }
  if (!isCommand(command)) {
    throw new UsageError(`unknown command "${command}"${didYouMean(command, Object.keys(USAGE))}`)
  }
  const { values, positionals } = parseCommandArgs(command, rest)
  const given = Object.keys(values) as (keyof typeof OPTIONS)[]
  const foreign = given.find((name) => !COMMAND_OPTIONS[command].includes(name))
  if (foreign !== undefined) throw notTaken(command, foreign)
  const env = process.env

  switch (command) {
    case 'emulator': {
      const ownerId = values['owner-id'] ?? env.SENDCLEAN_OWNER_ID ?? 'local-owner'
      const token = values.token ?? env.SENDCLEAN_TOKEN ?? 'local-token'
      const emulator = await startEmulator({
        port: port(values.port ?? env.SENDCLEAN_EMULATOR_PORT),
        ownerId,
        token,
        dataFile: values['data-file'] ?? env.SENDCLEAN_DATA_FILE,
        attempts: count(values.attempts, 'attempts', 5),
        retryDelayMs: count(values['retry-delay-ms'], 'retry-delay-ms', 1000),
        log: !values.quiet,
      })
      process.stdout.write(
        `emulator: listening on ${emulator.url} (the client's baseUrl; owner "${ownerId}", token ${token === 'local-token' ? '"local-token"' : 'as given'})\nemulator: web console at ${emulator.url}/\nemulator: forward to your app with "sendclean-webhooks listen --forward-to <its webhook URL>"${emulator.port === DEFAULT_PORT ? '' : ` --port ${emulator.port}`}, then "sendclean-webhooks trigger <event...>${emulator.port === DEFAULT_PORT ? '' : ` --emulator ${emulator.url}`}"\n`,
      )
      await interrupted()
      await emulator.close()
      return 0
    }
    case 'listen': {
      const forwardTo = need(values['forward-to'], 'forward-to')
      if (values.key && values.key.length > 1) throw new UsageError('listen takes one --key')
      return listen({
        forwardTo,
        events: list(values.events),
        key: values.key?.[0],
        emulator: values.emulator,
        port: port(values.port ?? env.SENDCLEAN_EMULATOR_PORT),
        ownerId: values['owner-id'] ?? env.SENDCLEAN_OWNER_ID ?? 'local-owner',
        token: values.token ?? env.SENDCLEAN_TOKEN ?? 'local-token',
        attempts: count(values.attempts, 'attempts', 5),
        retryDelayMs: count(values['retry-delay-ms'], 'retry-delay-ms', 1000),
        env,
        colour: wantsColour(process.stdout, env),
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`sendclean-webhooks: ${line}\n`),
        stop: interrupted(),
      })
    }
    case 'webhooks': {
      const [action, ...args] = positionals
      if (!action) throw new UsageError('webhooks needs an action: list, add, delete or reset-key')
      try {
        return await webhooks({
          action,
          args,
          apiKey: values['api-key'],
          ownerId: values['owner-id'] ?? env.SENDCLEAN_OWNER_ID,
          token: values.token ?? env.SENDCLEAN_TOKEN,
          baseUrl: values['base-url'],
          emulator: values.emulator ?? `http://127.0.0.1:${port(env.SENDCLEAN_EMULATOR_PORT)}`,
          events: list(values.events),
          description: values.description,
          storeLog: values['store-log'],
          out: (line) => process.stdout.write(`${line}\n`),
        })
      } catch (error) {
        if (error instanceof WebhooksUsageError) throw new UsageError(error.message)
        throw error
      }
    }
    case 'trigger': {
      const types = positionals.length ? eventTypes(positionals) : [...SAMPLE_TYPES]
      const n = count(values.count, 'count', 1)
      const size = count(values.batch, 'batch', 100)
      if (values.url === undefined) {
        if (values.key !== undefined)
          throw new UsageError('the emulator signs with its own keys: drop --key, or pass --url')
        return triggerOnEmulator(
          values.emulator ?? `http://127.0.0.1:${port(env.SENDCLEAN_EMULATOR_PORT)}`,
          { events: types, count: n, batch: size, webhookId: values.webhook },
          (line) => process.stdout.write(`${line}\n`),
          (line) => process.stderr.write(`sendclean-webhooks: ${line}\n`),
          wantsColour(process.stdout, env),
        )
      }
      if (values.emulator !== undefined)
        throw new UsageError('--url delivers directly: drop --emulator, or drop --url')
      if (values.webhook !== undefined)
        throw new UsageError('--webhook needs an emulator, not --url')
      const url = values.url
      const key = need(values.key?.[0] ?? env.SENDCLEAN_WEBHOOK_KEY, 'key')
      const events = types.flatMap((type) =>
        Array.from({ length: n }, () => sampleEvent(type as EventName)),
      )
      let failed = 0
      for (let i = 0; i < events.length; i += size) {
        const batch = events.slice(i, i + size)
        const delivery = await signDelivery({ key, url, events: batch, field: values.field })
        let res: Response
        try {
          res = await fetch(url, { method: 'POST', ...delivery })
        } catch (error) {
          const cause = (error as { cause?: { code?: string; message?: string } }).cause
          process.stderr.write(
            `sendclean-webhooks: could not reach ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}; is the receiver running?\n`,
          )
          return 1
        }
        const text = await res.text()
        if (!res.ok) failed++
        process.stdout.write(`${res.status} ${batch.length} event(s): ${text}\n`)
      }
      return failed ? 1 : 0
    }
    case 'sign': {
      const url = need(values.url, 'url')
      const key = need(values.key?.[0], 'key')
      const text = body(values)
      const signature = values.json
        ? await signJson({ key, url, body: text })
        : await signForm({ key, url, body: text })
      process.stdout.write(`${signature}\n`)
      return 0
    }
    case 'verify': {
      const url = need(values.url, 'url')
      const keys = need(values.key, 'key')
      const headers = new Headers()
      const raw = readFileSync(need(values['headers-file'], 'headers-file'), 'utf8')
      for (const line of raw.split(/\r?\n/)) {
        const colon = line.indexOf(':')
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
      }
      const text = body(values)
      // The signature itself, for every body (a handshake-shaped body carries one too): the
      // receiver would answer a handshake without looking at it.
      const signature = headers.get(DEFAULT_SIGNATURE_HEADER)?.trim()
      if (!signature) {
        process.stderr.write(`refused: the ${DEFAULT_SIGNATURE_HEADER} header is missing\n`)
        return 1
      }
      const json = (headers.get('content-type') ?? '').toLowerCase().includes('json')
      let matched = -1
      for (const [i, key] of keys.entries()) {
        const expected = json
          ? await signJson({ key, url, body: text })
          : await signForm({ key, url, body: text })
        if (timingSafeEqualString(expected, signature)) matched = i
      }
      if (matched === -1) {
        process.stderr.write(
          `refused: no --key matches the signature for --url ${url} (check the URL exactly as registered, and the key)\n`,
        )
        return 1
      }
      try {
        const events = await verifyWebhook({ body: text, headers, url, keys })
        const invalid = events.filter((e) => e.event === 'invalid').length
        process.stdout.write(
          `verified with --key #${matched + 1}: ${events.length} event(s)${invalid ? `, ${invalid} invalid` : ''}\n`,
        )
        return 0
      } catch (error) {
        const message = (error as Error).message
          .replace(/`url`/g, '--url')
          .replace(/`keys`/g, '--key')
        process.stderr.write(`refused: ${message}\n`)
        return 1
      }
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const { code, port: busy } = error as { code?: unknown; port?: number }
    if (code === 'EADDRINUSE') {
      process.stderr.write(
        `sendclean-webhooks: port ${busy} is already in use (another emulator? "listen" joins a running one); choose another with --port, or --port 0 for any free port\n`,
      )
      process.exitCode = 1
      return
    }
    const usage =
      error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    process.stderr.write(
      `sendclean-webhooks: ${(error as Error).message}\n${usage ? 'Run "sendclean-webhooks help".\n' : ''}`,
    )
    process.exitCode = usage ? 2 : 1
  },
)
