import { defineConfig } from 'vitest/config'

// npm run test:runtimes: the matrices on Node 22/24, Bun, Deno and workerd (test/runtimes/).
export default defineConfig({
  test: {
    include: ['test/runtimes/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One runtime at a time: each starts its own host processes.
    fileParallelism: false,
  },
})
