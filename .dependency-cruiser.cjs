// The shape ARCHITECTURE.md describes, checked in CI (`npm run check:deps`): no circles, the core
// imports nothing outside src/, and inside it each concern imports only from below itself.
/** A rule that `from` (a path pattern) must not import `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from, to })

module.exports = {
  forbidden: [
    forbid(
      'no-circular',
      'a circle makes load order and ownership unclear',
      {},
      { circular: true },
    ),
    forbid(
      'core-stays-inside',
      'src/ is the core: it imports nothing from the adapters, queue mode, the emulator, the CLI, the client or the testing helpers',
      { path: '^src/' },
      { path: '^(adapters|queue|emulator|bin|client|testing)/' },
    ),
    forbid(
      'core-has-no-framework',
      'the core runs on every runtime: no framework, no node: module (the platform file chosen by export conditions is the one exception)',
      { path: '^src/', pathNot: '^src/platform/node\\.ts$' },
      {
        path: '^(express|koa|fastify|@fastify|hono|@hono|bullmq|ioredis|pg)|^node:',
        dependencyTypesNot: ['type-only'],
      },
    ),
    forbid(
      'leaves-import-nothing',
      'errors, constants, time and the platform files are the bottom layer',
      { path: '^src/(errors|constants|time)\\.ts$|^src/platform/' },
      { path: '^src/', pathNot: '^src/(constants\\.ts$|platform/)' },
    ),
    forbid(
      'events-below-transport',
      'events know nothing of requests, verification, delivery, options or telemetry',
      { path: '^src/events/' },
      {
        path: '^src/(request|verify|delivery|telemetry)/|^src/(options|receiver|index|internal)\\.ts$',
      },
    ),
    forbid(
      'request-below-verify',
      'reading and decoding know nothing of signatures, events, delivery or options',
      { path: '^src/request/' },
      {
        path: '^src/(verify|events|delivery|telemetry)/|^src/(options|receiver|index|internal)\\.ts$',
      },
    ),
    forbid(
      'verify-below-delivery',
      'verification knows nothing of delivery, telemetry internals aside, or the receiver',
      { path: '^src/verify/' },
      { path: '^src/delivery/|^src/(receiver|index|internal)\\.ts$' },
    ),
    forbid(
      'delivery-below-receiver',
      'delivery knows nothing of the receiver or of verification',
      { path: '^src/delivery/' },
      { path: '^src/verify/|^src/(receiver|index|internal)\\.ts$' },
    ),
    forbid(
      'siblings-through-the-seam',
      'adapters, queue mode, the emulator, the CLI, the client and the testing helpers use the core through src/index.ts and src/internal.ts only',
      { path: '^(adapters|queue|emulator|bin|client|testing)/' },
      { path: '^src/', pathNot: '^src/(index|internal)\\.ts$' },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // `#platform` resolves through tsconfig paths to the Node file; both files share one interface.
    exclude: { path: '^(dist|runtimes|node_modules)/' },
  },
}
