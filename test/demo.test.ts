// The demo's hint names a command that works as printed: `npm run demo -- --keep` keeps the
// emulator and the examples running after the demo (npm swallows a bare `--keep`).
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Run a shell command until its stdout matches `pattern`; then stop it (SIGINT). */
async function until(
  command: string,
  pattern: RegExp,
): Promise<{ match: RegExpExecArray; code: number | null }> {
  const child: ChildProcess = spawn('sh', ['-c', `exec ${command}`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let out = ''
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${out}`)), 60_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const found = pattern.exec(out)
      if (found) {
        clearTimeout(timer)
        resolve(found)
      }
    })
    child.on('exit', () => reject(new Error(`exited before ${pattern}:\n${out}`)))
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  process.kill(-(child.pid as number), 'SIGINT') // npm and the demo under it
  return { match, code: await exited }
}

describe('npm run demo', { timeout: 120_000 }, () => {
  it('prints a --keep hint that works as printed', async () => {
    const { match } = await until('npm run demo', /run `(npm run demo -- --keep)` to browse it/)
    const kept = await until(match[1] as string, /kept running: open (http:\S+) to browse/)
    expect(kept.match[1]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
  })
})
