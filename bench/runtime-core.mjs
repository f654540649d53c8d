// The core's in-process time per batch, in plain JavaScript so that every runtime runs it as it
// is: Node, Bun and Deno through runtime-core-cli.mjs, workerd through bench/runtimes.ts's worker.

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** µs per batch for each payload size: blocks of calls, the first few dropped as warm-up. */
export async function measure(core, payloads, blocks = 40) {
  const noop = () => {}
  const receiver = core.createReceiver({
    keys: payloads.key,
    url: payloads.url,
    on: Object.fromEntries(core.EVENT_NAMES.map((name) => [name, noop])),
  })
  const result = {}
  for (const { n, form, signature } of payloads.sizes) {
    const body = new TextEncoder().encode(form)
    const headers = new Headers({
      'content-type': 'application/x-www-form-urlencoded',
      'x-sendcleantes-signature': signature,
    })
    const request = () => ({ method: 'POST', url: payloads.url, headers, body, context: undefined })
    const check = await receiver.handle(request())
    if (check.status !== 200) throw new Error(`the core refused the N=${n} payload: ${check.body}`)
    // At least 10 calls a block: workerd's clock moves in whole milliseconds.
    const perBlock = Math.max(10, Math.round(4000 / n))
    const samples = []
    for (let block = 0; block < blocks + 5; block++) {
      const start = performance.now()
      for (let i = 0; i < perBlock; i++) await receiver.handle(request())
      if (block >= 5) samples.push(((performance.now() - start) * 1000) / perBlock)
    }
    result[n] = median(samples)
  }
  return result
}
