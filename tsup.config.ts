import { defineConfig } from 'tsup'

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      client: 'src/client.ts',
      express: 'adapters/express.ts',
      koa: 'adapters/koa.ts',
      hono: 'adapters/hono.ts',
      node: 'adapters/node.ts',
      fetch: 'adapters/fetch.ts',
      emulator: 'emulator/index.ts',
      queue: 'queue/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    // One shared core chunk, so `instanceof WebhookError` holds across subpaths.
    splitting: true,
    target: 'node20',
    external: ['express', 'koa', 'hono', 'zod', 'bullmq'],
  },
  {
    entry: { cli: 'bin/cli.ts' },
    format: ['esm'],
    target: 'node20',
    external: ['zod'],
  },
])
