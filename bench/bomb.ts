// The 80,000-field duplicate bomb of issue 10: an unsigned 400 KB form through receiver.handle(),
// three times, with the default maxFields and with every field decoded. `npm run bench:bomb`.
import { createReceiver } from 'sendclean-webhooks'

const body = `${'&'.repeat(80_000)}a=1&${'x&'.repeat(80_000)}a=2`
for (const [name, options] of [
  ['default maxFields (32)', {}],
  ['maxFields: 1_000_000 (every field decoded)', { maxFields: 1_000_000 }],
] as const) {
  const receiver = createReceiver({
    keys: 'k',
    url: 'https://e.com/h',
    onError: () => {},
    ...options,
  })
  const times: string[] = []
  let status = 0
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    const res = await receiver.handle({
      method: 'POST',
      url: 'https://e.com/h',
      headers: new Headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      body,
      context: undefined,
    })
    times.push((performance.now() - started).toFixed(1))
    status = res.status
  }
  console.log(`| ${name} | ${status} | ${times.join(', ')} |`)
}
