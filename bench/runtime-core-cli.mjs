// `<runtime> bench/runtime-core-cli.mjs <payloads.json>` prints {"<n>": µs per batch (median)}
// for the built package (dist/), on whichever runtime runs it (Node, Bun, Deno).
import { readFile } from 'node:fs/promises'
import { measure } from './runtime-core.mjs'

const path = globalThis.Deno ? globalThis.Deno.args[0] : process.argv[2]
const payloads = JSON.parse(await readFile(path, 'utf8'))
const core = await import(new URL('../dist/index.js', import.meta.url).href)
console.log(JSON.stringify(await measure(core, payloads)))
