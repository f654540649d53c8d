// Live memory while one batch is in hand, for one side per fresh process:
//   node --expose-gc --import tsx bench/memory.ts <receiver|octokit> <payload.json>
// The payload (written by bench/run.ts before this process starts) is read first and stays in
// the baseline. Each side is warmed up on a small batch (one event of each type), then: GC twice, baseline = heapUsed +
// arrayBuffers; handle the batch; inside the last event's handler (receiver) or with the parsed
// array in hand (Octokit), GC twice again and sample. Prints {"side","bodyBytes","live"}.
import { readFileSync } from 'node:fs'
import { Webhooks } from '@octokit/webhooks'
import { createReceiver, EVENT_NAMES } from 'sendclean-webhooks'
import { KEY, URL_SIGNED } from './payloads.js'

interface Input {
  n: number
  form: string
  signature: string
  json: string
  small: { form: string; signature: string; json: string }
}

const [side, file] = process.argv.slice(2) as [string, string]
const input = JSON.parse(readFileSync(file, 'utf8')) as Input
const body = Buffer.from(input.form)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')
const live = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

let sample = 0
if (side === 'receiver') {
  let seen = 0
  let armed = false // only the measured batch samples
  const count = () => {
    seen++
    if (armed && seen === input.n) sample = live() // the last event: the whole batch in hand
  }
  const receiver = createReceiver<undefined>({
    keys: KEY,
    url: URL_SIGNED,
    on: Object.fromEntries(EVENT_NAMES.map((name) => [name, count])),
  })
  const request = (form: Buffer, signature: string) => ({
    method: 'POST',
    url: URL_SIGNED,
    headers: new Headers({
      'content-type': 'application/x-www-form-urlencoded',
      'x-sendcleantes-signature': signature,
    }),
    body: form,
    context: undefined,
  })
  // Warm-up batches hold one event of each type, so the measured batch compiles no new code.
  const small = Buffer.from(input.small.form)
  for (let i = 0; i < 200; i++) await receiver.handle(request(small, input.small.signature))
  seen = 0
  armed = true
  const big = request(body, input.signature)
  const baseline = live()
  const res = await receiver.handle(big)
  if (res.status !== 200) throw new Error(res.body)
  sample -= baseline
} else {
  const octokit = new Webhooks({ secret: KEY })
  const json = input.json
  const signature = await octokit.sign(json)
  const smallSignature = await octokit.sign(input.small.json)
  for (let i = 0; i < 200; i++) {
    if (!(await octokit.verify(input.small.json, smallSignature))) throw new Error('refused')
    JSON.parse(input.small.json)
  }
  const baseline = live()
  if (!(await octokit.verify(json, signature))) throw new Error('octokit refused')
  const parsed = JSON.parse(json)
  sample = live() - baseline
  if (!Array.isArray(parsed.events)) throw new Error('unexpected payload')
}
process.stdout.write(`${JSON.stringify({ side, bodyBytes: body.length, live: sample })}\n`)
