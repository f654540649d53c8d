import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'adapters/express.ts',
    koa: 'adapters/koa.ts',
    hono: 'adapters/hono.ts',
    node: 'adapters/node.ts',
    fetch: 'adapters/fetch.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  // One shared core chunk, so `instanceof WebhookError` holds across subpaths.
  splitting: true,
  clean: true,
  target: 'node20',
  external: ['express', 'koa', 'hono', 'zod'],
})
