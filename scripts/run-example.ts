import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface RunningExample {
  base: string
  /** Lines printed on stdout so far. */
  lines: string[]
  /**
   * Wait until at least `count` lines were printed: stdout arrives through a pipe, and may
   * trail the HTTP answer that the same handlers produced.
   */
  waitForLines(count: number, timeoutMs?: number): Promise<string[]>
  stop(): Promise<void>
}

/** Start `examples/<name>.ts` with tsx and wait until it listens. */
export async function startExample(
  name: string,
  env: Record<string, string>,
  port?: number,
): Promise<RunningExample> {
  port ??= await freePort()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let buffered = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
  })
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${stderr}`)), 20_000)
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
      if (stderr.includes('listening')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code}: ${stderr}`))
    })
  })
  return {
    base: `http://127.0.0.1:${port}`,
    lines,
    async waitForLines(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (lines.length < count && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10))
      return lines
    },
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.on('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}
