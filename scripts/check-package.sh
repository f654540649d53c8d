#!/usr/bin/env bash
# Checks the published shape of the package: publint, attw, and a scratch project that
# installs the packed tarball and imports every subpath from ESM, CJS and TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Pack from a tree with no build, as `npm publish` from a fresh clone would: `prepack` builds.
rm -rf dist
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tarball=$(npm pack --silent --pack-destination "$scratch" 2>/dev/null | tail -n 1)
tar -tzf "$scratch/$tarball" > "$scratch/files.txt"
node scripts/check-links.mjs "$scratch/files.txt"
grep -qx 'package/dist/cli.js' "$scratch/files.txt" || {
  echo "the packed tarball has no dist/ (prepack did not build)" >&2
  exit 1
}

# The core and the edge adapters must load where there is no node: module (Workers, browsers):
# follow their built import graphs and refuse any static node: import.
node -e '
const fs = require("fs"), path = require("path")
const builtins = new Set(require("module").builtinModules)
const seen = new Set()
function walk(file) {
  if (seen.has(file)) return
  seen.add(file)
  const text = fs.readFileSync(file, "utf8")
  for (const [, spec] of text.matchAll(/(?:from|import|require)\s*\(?\s*["\x27]([^"\x27]+)["\x27]/g)) {
    if (spec.startsWith("node:") || builtins.has(spec.split("/")[0])) throw new Error(`${file} imports ${spec}`)
    if (spec.startsWith(".")) walk(path.join(path.dirname(file), spec))
  }
}
for (const entry of process.argv.slice(1)) walk(`dist/${entry}.js`)
console.log(`no Node built-in imports in the ${seen.size} files reachable from ${process.argv.slice(1).join(", ")}`)
' index hono fetch client testing platform-web
npx publint --strict
# Every resolution mode attw checks, node10 included (subpaths through typesVersions).
npx attw "$scratch/$tarball"

cd "$scratch"
cat > package.json <<'JSON'
{ "name": "scratch", "private": true, "type": "module" }
JSON
npm install --silent --no-audit --no-fund --prefer-offline "./$tarball" \
  typescript@~5.9.3 @types/node@^20 @types/express@^5 @types/koa@^3 fastify@^5 hono@^4 bullmq@^6 \
  @hono/node-server@^1 ioredis@^5 pg@^8 @types/pg@^8 @opentelemetry/api@~1.9.0 @opentelemetry/sdk-node@0.212.0 >/dev/null

subpaths=(sendclean-webhooks sendclean-webhooks/client sendclean-webhooks/testing sendclean-webhooks/emulator sendclean-webhooks/queue sendclean-webhooks/express sendclean-webhooks/koa sendclean-webhooks/fastify sendclean-webhooks/hono sendclean-webhooks/node sendclean-webhooks/fetch)

cat > esm.mjs <<'JS'
const subpaths = process.argv.slice(2)
for (const subpath of subpaths) {
  const mod = await import(subpath)
  if (Object.keys(mod).length === 0) throw new Error(`${subpath}: no exports`)
}
const core = await import('sendclean-webhooks')
const { createExpressMiddleware } = await import('sendclean-webhooks/express')
if (typeof createExpressMiddleware({ keys: 'k' }).on !== 'function') throw new Error('express adapter')
if (new core.WebhookError('NO_KEY', 'x').status !== 500) throw new Error('error type')
console.log(`ESM: ${subpaths.length} subpaths import`)
JS
node esm.mjs "${subpaths[@]}"

cat > cjs.cjs <<'JS'
const subpaths = process.argv.slice(2)
for (const subpath of subpaths) {
  const mod = require(subpath)
  if (Object.keys(mod).length === 0) throw new Error(`${subpath}: no exports`)
}
const { createReceiver, HANDSHAKE_BODY } = require('sendclean-webhooks')
createReceiver({ keys: 'k' })
  .handle({ method: 'GET', url: 'http://x/', headers: new Headers(), body: null, context: null })
  .then((res) => {
    if (res.body !== HANDSHAKE_BODY) throw new Error('handshake')
    console.log(`CJS: ${subpaths.length} subpaths require`)
  })
JS
node cjs.cjs "${subpaths[@]}"

cat > types.mts <<'TS'
import { createReceiver, type ClickEvent } from 'sendclean-webhooks'
import { createExpressMiddleware } from 'sendclean-webhooks/express'
import { createKoaMiddleware } from 'sendclean-webhooks/koa'
import { createHonoHandler } from 'sendclean-webhooks/hono'
import { createNodeHandler } from 'sendclean-webhooks/node'
import { createFetchHandler } from 'sendclean-webhooks/fetch'
import { sendcleanWebhooks } from 'sendclean-webhooks/fastify'
import Fastify from 'fastify'
const url: string = 'x'
createReceiver({ keys: 'k' }).on('click', (event: ClickEvent) => event.msg.clicks[0]?.clickUrl ?? url)
createExpressMiddleware({ keys: 'k' }).on('open', (e, { req }) => `${e.msg.opens.length}${req.method}`)
createKoaMiddleware({ keys: 'k' }).on('spam', (e, ctx) => `${e.msg.feedback.sourceIp}${ctx.path}`)
createHonoHandler({ keys: 'k' }).on('send', (e, c) => `${e.date.getTime()}${c.req.path}`)
createNodeHandler({ keys: 'k' }).on('delivered', (e, { req }) => `${e._id}${req.url}`)
createFetchHandler({ keys: 'k' }).on(['hard_bounce', 'soft_bounce'], (e) => e.msg.bounceCodeEnh)
Fastify().register(sendcleanWebhooks, { path: '/hook', keys: 'k', on: { click: (e, { request }) => `${e.msg.clicks.length}${request.url}` } })
TS
cp types.mts types.cts
for res in node16 bundler; do
  module=$([ "$res" = node16 ] && echo node16 || echo esnext)
  npx tsc --noEmit --strict --target es2022 --skipLibCheck false --types node --module "$module" --moduleResolution "$res" types.mts
done
npx tsc --noEmit --strict --target es2022 --types node --module node16 --moduleResolution node16 types.cts
# The classic `"module": "commonjs"` tsconfig (moduleResolution node10): subpaths via typesVersions.
cp types.mts classic.ts
npx tsc --noEmit --strict --target es2022 --types node --module commonjs --moduleResolution node --esModuleInterop classic.ts
echo "types: resolve under node16 (ESM and CJS), bundler and commonjs/node10"

# Every TypeScript block of the README and the guides in docs/, each as its own module, against
# the installed package. The fragments' placeholders for your own values are declared once here.
count=0
for doc in "$root/README.md" "$root"/docs/*.md; do
  # The NestJS guide is checked in a project of its own below (Nest brings its own Express).
  [ "$(basename "$doc")" = nestjs.md ] && continue
  n=$(node "$root/scripts/readme-blocks.mjs" "$doc" "readme/$(basename "$doc" .md)")
  count=$((count + n))
done
cat > readme/placeholders.d.ts <<'TS'
declare const keys: string[]
declare const url: string
declare const key: string
declare const id: string
declare const events: unknown[]
declare const rawBody: string
declare const req: { headers: Record<string, string | string[] | undefined> }
declare const myStore: import('sendclean-webhooks').IdempotencyStore
declare function it(name: string, run: () => Promise<void>): void
declare function suppress(id: string, code: string, job?: string): Promise<void>
declare const complaints: Set<string | undefined>
// The Bun and Deno quick starts, typed by what they use (their own types come with their runtimes).
declare const Bun: { serve(options: { port: number; fetch: (request: Request) => Promise<Response> }): unknown }
declare const Deno: {
  env: { get(name: string): string | undefined }
  serve(options: { port: number }, handler: (request: Request) => Promise<Response>): unknown
}
TS
npx tsc --noEmit --strict --target es2022 --types node --module nodenext --moduleResolution nodenext readme/*/*.mts readme/placeholders.d.ts
echo "README and docs/: all $count TypeScript blocks type-check against the packed package"

# The NestJS guide, in a Nest project of its own (Nest's decorators, Express 5 and Fastify 5).
mkdir nest
(
  cd nest
  echo '{ "name": "scratch-nest", "private": true, "type": "module" }' > package.json
  npm install --silent --no-audit --no-fund --prefer-offline "../$tarball" typescript@~5.9.3 \
    @types/node@^20 fastify@^5 @nestjs/core@^12 @nestjs/common@^12 @nestjs/platform-express@^12 \
    @nestjs/platform-fastify@^12 reflect-metadata@^0.2 rxjs@^7 >/dev/null
  n=$(node "$root/scripts/readme-blocks.mjs" "$root/docs/nestjs.md" blocks)
  npx tsc --noEmit --strict --target es2022 --types node --module nodenext --moduleResolution nodenext \
    --experimentalDecorators --skipLibCheck blocks/*.mts
  echo "docs/nestjs.md: all $n TypeScript blocks type-check in a Nest project"
)
npx --no-install sendclean-webhooks --help >/dev/null
echo "bin: installed and runs"

# The installed bin: `npx sendclean-webhooks trigger` must deliver a batch that SPEC §3,
# computed here with node:crypto alone, accepts.
cat > verifier.mjs <<'JS'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
const server = createServer(async (req, res) => {
  let raw = ''
  for await (const chunk of req) raw += chunk
  const fields = [...new URLSearchParams(raw)].sort(([a], [b]) => (a < b ? -1 : 1))
  const hmac = createHmac('sha1', 'packed-key').update(`http://${req.headers.host}${req.url}`)
  for (const [name, value] of fields) hmac.update(name + value)
  const ok = hmac.digest('base64') === req.headers['x-sendcleantes-signature']
  res.statusCode = ok ? 200 : 401
  res.end(ok ? 'God bless you, SendClean' : 'refused')
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
process.on('SIGTERM', () => server.close())
JS
node verifier.mjs > port.txt &
verifier=$!
for _ in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
port=$(cat port.txt)
npx --no-install sendclean-webhooks trigger send click spam --url "http://127.0.0.1:$port/hook" --key packed-key
if npx --no-install sendclean-webhooks trigger send --url "http://127.0.0.1:$port/hook" --key wrong-key >/dev/null; then
  echo "a wrongly signed batch was accepted" >&2; exit 1
fi
kill "$verifier"
echo "bin: npx sendclean-webhooks trigger delivers batches an independent verifier accepts"

# Queue mode without its optional peer: the entry still imports (ESM and CJS), and its first use
# throws a WebhookError that names the fix.
npm uninstall --silent --no-audit --no-fund bullmq >/dev/null
cat > no-bullmq.mjs <<'JS'
import { createRequire } from 'node:module'
for (const queue of [await import('sendclean-webhooks/queue'), createRequire(import.meta.url)('sendclean-webhooks/queue')]) {
  try {
    queue.createQueue('events', { connection: {} })
    throw new Error('createQueue worked without bullmq')
  } catch (error) {
    if (error.code !== 'CONFIGURATION' || !error.message.includes('npm install bullmq')) throw error
  }
}
console.log('queue: without bullmq, the first use says: npm install bullmq')
JS
node no-bullmq.mjs
