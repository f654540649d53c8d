// `trigger --emulator`: ask a running emulator to deliver, and print its attempts as they happen.
import type { Delivery, EmulatorEvent } from '../emulator/bus.js'
import { formatEvent } from '../emulator/live-log.js'

interface Started {
  id: string
  webhookId: string
  url: string
  types: string[]
}

/** Server-sent events from a fetch body, one parsed event at a time. */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder()
  const reader = body.getReader()
  let buffer = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true })
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let type = 'message'
      let data = ''
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) type = line.slice(7)
        else if (line.startsWith('data: ')) data += line.slice(6)
      }
      if (data) yield { type, data }
    }
  }
}

/**
 * Trigger on the emulator at `base` and follow: resolves with the exit code (0 when every
 * delivery got a 2xx, 1 when one finally failed, nothing was delivered, or the emulator said no).
 */
export async function triggerOnEmulator(
  base: string,
  input: { events: string[]; count: number; batch: number; webhookId?: string },
  out: (line: string) => void,
  err: (line: string) => void,
  colour: boolean,
): Promise<number> {
  const origin = base.replace(/\/+$/, '')
  const abort = new AbortController()
  let stream: Response
  try {
    stream = await fetch(`${origin}/emulator/stream`, { signal: abort.signal })
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    err(
      `could not reach the emulator at ${origin}: ${cause ?? (error as Error).message}; start one with "sendclean-webhooks listen --forward-to <your app's webhook URL>" (or "emulator"), or deliver straight to a receiver with --url`,
    )
    return 1
  }
  if (!stream.ok || !stream.body) {
    err(
      `${origin} answered ${stream.status} to /emulator/stream: is it a sendclean-webhooks emulator?`,
    )
    return 1
  }
  const events = serverSentEvents(stream.body)
  // Subscribed before triggering, so no attempt can be missed.
  const hello = await events.next()
  if (hello.done || hello.value.type !== 'hello') {
    err(`${origin} did not open its event stream`)
    return 1
  }

  const early: EmulatorEvent[] = []
  let mine: Set<string> | undefined
  const final = new Map<string, Delivery['state']>()
  const answer = fetch(`${origin}/emulator/trigger`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  }).then(async (res) => ({
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
  }))

  const handle = (event: EmulatorEvent) => {
    if (event.type !== 'attempt' || !mine?.has(event.delivery.id)) return
    const line = formatEvent(event, colour)
    if (line) out(line)
    if (event.delivery.state !== 'pending') final.set(event.delivery.id, event.delivery.state)
  }

  try {
    answer.then(
      () => {},
      () => abort.abort(),
    )
    const reading = (async () => {
      for await (const { type, data } of events) {
        const event = { type, ...JSON.parse(data) } as EmulatorEvent
        if (mine) handle(event)
        else early.push(event)
        if (mine && final.size === mine.size) return
      }
    })()
    reading.catch(() => {}) // ends with the abort below
    const { status, body } = await answer
    if (status !== 202) {
      err(
        `the emulator refused the trigger (${status}): ${String(body.error ?? JSON.stringify(body))}`,
      )
      return 1
    }
    const started = (body.deliveries ?? []) as Started[]
    if (started.length === 0) {
      err(
        `nothing to deliver: no webhook${input.webhookId ? ` ${input.webhookId}` : ''} subscribes to ${input.events.join(', ')}; register your app with "sendclean-webhooks listen --forward-to <its webhook URL>", or add a webhook in the console at ${origin}/`,
      )
      return 1
    }
    for (const d of started)
      out(`${d.id}: ${d.types.length} event(s) to webhook ${d.webhookId} (${d.url})`)
    mine = new Set(started.map((d) => d.id))
    for (const event of early.splice(0)) handle(event)
    if (final.size < mine.size) await reading
    const failed = [...final.values()].filter((state) => state === 'failed').length
    if (final.size < mine.size) {
      err('the emulator closed its event stream before every delivery finished')
      return 1
    }
    out(
      failed
        ? `${failed} of ${mine.size} deliveries failed after their retries`
        : `${mine.size} ${mine.size === 1 ? 'delivery' : 'deliveries'} accepted`,
    )
    return failed ? 1 : 0
  } catch (error) {
    if (abort.signal.aborted) {
      err(`could not reach the emulator at ${origin}`)
      return 1
    }
    throw error
  } finally {
    abort.abort()
  }
}
