// A server in a child process (an example, a README quick start, another runtime): started on a
// free port given as $PORT, its output kept, ready once it answers the handshake at PATH.
import { type ChildProcess, spawn } from 'node:child_process'
import { freePort } from '../../scripts/run-example.js'

const PATH = '/webhooks/sendclean'

export interface ServedProcess {
  base: string
  output(): string
  stop(): Promise<void>
}

export async function serveProcess(
  command: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<ServedProcess> {
  const port = await freePort()
  const [file, ...args] = command as [string, ...string[]]
  const child: ChildProcess = spawn(file, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const up = await fetch(base + PATH).then(
      (res) => res.status === 200,
      () => false,
    )
    if (up) break
    if (i > 200 || child.exitCode !== null) {
      await stop()
      throw new Error(`${command.join(' ')} did not start: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { base, output: () => output, stop }
}
