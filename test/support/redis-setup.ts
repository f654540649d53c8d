import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createConnection } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, inject } from 'vitest'
import type { TestProject } from 'vitest/node'
import { freePort } from '../../scripts/run-example.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Redis for the tests, or '' when there is none (then those tests are reported skipped). */
    redisUrl: string
    /** Whether a redis-server binary is here, for tests that start and stop their own. */
    redisServer: boolean
  }
}

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1')
    socket.once('error', () => resolve(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
  })
}

/**
 * REDIS_URL wins (.ci/run starts one); else a throwaway redis-server on a free port when the
 * binary is installed; else none, which CI refuses so that Redis tests can never vanish there.
 */
export default async function setup(project: TestProject) {
  project.provide('redisServer', hasRedisServer())
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL)
    return
  }
  if (!hasRedisServer()) {
    if (process.env.CI) throw new Error('CI needs Redis: set REDIS_URL or install redis-server')
    console.warn('redis-server is not installed: the Redis-backed tests will be skipped')
    project.provide('redisUrl', '')
    return
  }
  const server = await startRedis()
  project.provide('redisUrl', server.url)
  return () => server.stop()
}

/** A throwaway redis-server on a free port (no persistence), for tests that stop or pause it. */
export async function startRedis(port?: number) {
  port ??= await freePort()
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 100 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50))
  if (!(await ping(port))) throw new Error(`redis-server did not start on ${port}`)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** A connected ioredis client for the enclosing describe (the shared test Redis); read it in tests. */
export function useRedis(): () => Redis {
  let redis: Redis | undefined
  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'), { lazyConnect: true })
    await redis.connect()
  })
  afterAll(() => redis?.quit())
  return () => redis as Redis
}
