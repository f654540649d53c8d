// workerd for the runtime matrix, the quick-start test and bench:runtimes: a module bundled as
// wrangler would (one ESM file, Workers' export conditions) and miniflare from
// runtimes/node_modules (scripts/install-runtimes.sh), typed here by the part that is used.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

export interface MiniflareInstance {
  ready: Promise<URL>
  dispatchFetch(url: string, init?: Record<string, unknown>): Promise<Response>
  dispose(): Promise<void>
}

/** `entry` and everything it imports as one ESM script, resolved from `workingDir`. */
export async function bundleForWorkerd(entry: string, workingDir = root): Promise<string> {
  const bundle = await build({
    entryPoints: [entry],
    absWorkingDir: workingDir,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    // As in a user's project: the package resolves through its own package.json (its `#platform`
    // import by the conditions above), never through this repository's tsconfig paths.
    tsconfigRaw: '{}',
    write: false,
  })
  return bundle.outputFiles[0]?.text ?? ''
}

/** A miniflare running `script` (no nodejs_compat: Web APIs only, as a plain Worker). */
export async function startWorkerd(
  script: string,
  options: Record<string, unknown> = {},
): Promise<MiniflareInstance> {
  const { Miniflare } = (await import(
    `${root}runtimes/node_modules/miniflare/dist/src/index.js`
  )) as { Miniflare: new (options: Record<string, unknown>) => MiniflareInstance }
  return new Miniflare({ modules: true, script, compatibilityDate: '2026-07-30', ...options })
}
