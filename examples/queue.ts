// npx tsx examples/queue.ts [--keep]
// Two queue-mode receivers (ports 3001, 3002) and two workers on one Redis (REDIS_URL, or a
// throwaway redis-server when it is unset). Without --keep it delivers a signed batch to each
// receiver, waits until the workers handled all of it, prints who handled what, and stops.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { SAMPLE_TYPES, sampleEvent, signDelivery } from 'sendclean-webhooks/testing'

const KEY = process.env.SENDCLEAN_WEBHOOK_KEY ?? 'queue-example-key'
const ports = [Number(process.env.PORT_A ?? 3001), Number(process.env.PORT_B ?? 3002)]
const children: ChildProcess[] = []
const stopAll = () => {
  for (const child of children.reverse()) child.kill('SIGTERM')
}

function start(command: string, args: string[], env: Record<string, string>, ready: string) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  const lines: string[] = []
  let buffered = ''
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
  })
  return new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 20_000)
    const watch = (d: Buffer) => {
      if (d.toString().includes(ready)) {
        clearTimeout(timer)
        resolve(lines)
      }
    }
    child.stdout?.on('data', watch)
    child.stderr?.on('data', watch)
  })
}

let redisUrl = process.env.REDIS_URL
if (!redisUrl) {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  const port = 6390 + Math.floor(Math.random() * 500)
  await start(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {},
    'Ready to accept',
  )
  redisUrl = `redis://127.0.0.1:${port}`
}
console.log(`redis: ${redisUrl}`)
const tsx = [process.execPath, '--import', 'tsx']
const env = { REDIS_URL: redisUrl, SENDCLEAN_WEBHOOK_KEY: KEY }
for (const port of ports) {
  await start(
    tsx[0] as string,
    [...tsx.slice(1), 'examples/queue-receiver.ts'],
    { ...env, PORT: String(port) },
    'listening',
  )
  console.log(`receiver: http://localhost:${port}/webhooks/sendclean`)
}
const handled = await Promise.all(
  ['a', 'b'].map((name) =>
    start(
      tsx[0] as string,
      [...tsx.slice(1), 'examples/queue-worker.ts'],
      { ...env, WORKER: name },
      'ready',
    ),
  ),
)
console.log('workers: a, b')

if (process.argv.includes('--keep')) {
  process.on('SIGINT', stopAll)
} else {
  let expected = 0
  for (const port of ports) {
    const url = `http://localhost:${port}/webhooks/sendclean`
    const events = SAMPLE_TYPES.map((type) => sampleEvent(type))
    expected += events.length
    const res = await fetch(url, {
      method: 'POST',
      ...(await signDelivery({ key: KEY, url, events })),
    })
    console.log(`POST ${url}: ${res.status} ${await res.text()}`)
  }
  const deadline = Date.now() + 20_000
  const total = () => handled.reduce((n, lines) => n + lines.length, 0)
  while (total() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  for (const lines of handled) {
    for (const line of lines) {
      const { worker, handled: type, event } = JSON.parse(line)
      console.log(`  worker ${worker} handled ${type.padEnd(11)} ${event._id}`)
    }
  }
  console.log(`${total()} of ${expected} events handled`)
  stopAll()
  process.exitCode = total() === expected ? 0 : 1
}
