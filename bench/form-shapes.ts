// npm run bench:form-shapes: what each shape of an unsigned form body costs the decoder, before
// any signature check (issue 34): 4 MiB of plain bytes, malformed `%`, valid escapes, `+`, and
// mixes, through the Node platform's WebAssembly loop and the JavaScript loop (Workers).
// Milliseconds per body, median of 7; ratios to plain bytes in the same run. `--write` also
// writes its section of bench/RESULTS.md.
import { createFormLoop } from '../src/platform/node.js'
import { decodeForm } from '../src/request/form.js'
import { writeSection } from './results-file.js'

const SIZE = 4 * 1024 * 1024
const body = (unit: string) =>
  new TextEncoder().encode(`a=${unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE)}`)
const shapes: Record<string, Uint8Array> = {
  'plain bytes': body('x'),
  'malformed %': body('%'),
  'malformed %4G': body('%4G'),
  'valid %41': body('%41'),
  '+': body('+'),
  'valid and malformed in turn (%41%)': body('%41%'),
}
const loop = createFormLoop()
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const time = (run: () => unknown) => {
  const samples: number[] = []
  for (let i = 0; i < 7; i++) {
    const start = performance.now()
    run()
    samples.push(performance.now() - start)
  }
  return median(samples)
}
const rows: string[] = []
let plainWasm = 0
let plainJs = 0
for (const [name, bytes] of Object.entries(shapes)) {
  const wasm = loop ? time(() => decodeForm(bytes, 32, loop)) : Number.NaN
  const js = time(() => decodeForm(bytes, 32))
  if (name === 'plain bytes') {
    plainWasm = wasm
    plainJs = js
  }
  rows.push(
    `| ${name} | ${wasm.toFixed(1)} (${(wasm / plainWasm).toFixed(1)}×) | ${js.toFixed(1)} (${(js / plainJs).toFixed(1)}×) |`,
  )
}
const markdown = [
  '## What each shape of form body costs the decoder (`npm run bench:form-shapes`)',
  '',
  `4 MiB form bodies, Node ${process.version}: ms per body, median of 7 (÷ plain bytes in the same run). The WebAssembly loop is the Node, Bun and Deno platform's; the JavaScript loop is what Workers and browsers run.`,
  '',
  '| shape | WebAssembly loop | JavaScript loop |',
  '|---|---:|---:|',
  ...rows,
].join('\n')
console.log(markdown)
if (process.argv.includes('--write')) writeSection('form-shapes', markdown)
