import { defineConfig } from 'tsup'

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      client: 'client/index.ts',
      testing: 'testing/index.ts',
      express: 'adapters/express.ts',
      koa: 'adapters/koa.ts',
      fastify: 'adapters/fastify.ts',
      hono: 'adapters/hono.ts',
      node: 'adapters/node.ts',
      fetch: 'adapters/fetch.ts',
      emulator: 'emulator/index.ts',
      queue: 'queue/index.ts',
      // The platform layer, picked by the `#platform` import's export conditions (package.json).
      'platform-node': 'src/platform/node.ts',
      'platform-web': 'src/platform/web.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    // One shared core chunk, so `instanceof WebhookError` holds across subpaths.
    splitting: true,
    target: 'node20',
    external: ['express', 'koa', 'fastify', 'hono', 'zod', 'bullmq', '#platform'],
    // The emulator finds its console files from import.meta.url, which the CJS build shims.
    shims: true,
    // The emulator's web console is served from files next to the bundle (dist/console/).
    onSuccess:
      'mkdir -p dist/console && cp emulator/console/index.html emulator/console/app.js dist/console/',
  },
  {
    entry: { cli: 'bin/cli.ts' },
    format: ['esm'],
    target: 'node20',
    external: ['zod', '#platform'],
  },
])
