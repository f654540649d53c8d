// Builds of other revisions for same-run comparisons: a revision (optionally with one patch from
// bench/mechanisms/ applied) checked out as a git worktree under /tmp, sharing this checkout's
// node_modules, built once and reused. Used by bench/revisions.ts, bench/host-memory.ts and
// bench/mechanisms.ts.
import { execFileSync } from 'node:child_process'
import { existsSync, symlinkSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('..', import.meta.url))

export const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()

/**
 * The dist/ folder of `rev` (any name git knows), built in `/tmp/sendclean-webhooks-<sha>`, or
 * with `patches` (files under bench/mechanisms/, relative to the repository) applied, in
 * `…-<sha>-<patch names>`.
 */
export function buildRevision(rev: string, patches: readonly string[] = []): string {
  const sha = git('rev-parse', '--short', rev)
  const names = patches.map((patch) => basename(patch, '.patch').replace(`${sha}-`, ''))
  const dir = `/tmp/sendclean-webhooks-${[sha, ...names].join('-')}`
  if (!existsSync(dir)) {
    git('worktree', 'add', '--detach', '--force', dir, sha)
    for (const patch of patches) execFileSync('git', ['apply', `${root}${patch}`], { cwd: dir })
  }
  if (!existsSync(`${dir}/node_modules`)) symlinkSync(`${root}node_modules`, `${dir}/node_modules`)
  if (!existsSync(`${dir}/dist/index.js`)) {
    execFileSync('npx', ['tsup'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] })
  }
  return `${dir}/dist`
}
