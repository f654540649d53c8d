// Queue mode in an app that has not installed BullMQ (an optional peer dependency): importing
// `sendclean-webhooks/queue` works, and the first use throws a WebhookError that says what to
// install. (scripts/check-package.sh does the same against the packed package, bullmq removed.)
import { afterEach, describe, expect, it, vi } from 'vitest'

describe('queue mode without bullmq installed', () => {
  afterEach(() => {
    vi.doUnmock('node:module')
    vi.resetModules()
  })

  it('imports, then createQueue and createWorker throw a CONFIGURATION error naming the fix', async () => {
    vi.resetModules()
    vi.doMock('node:module', async (original) => {
      const actual = await original<typeof import('node:module')>()
      const createRequire = (from: string | URL) => {
        const real = actual.createRequire(from)
        return Object.assign((id: string) => {
          if (id === 'bullmq') {
            throw Object.assign(new Error(`Cannot find module '${id}'`), {
              code: 'MODULE_NOT_FOUND',
            })
          }
          return real(id)
        }, real)
      }
      return { ...actual, createRequire, default: { ...actual, createRequire } }
    })
    const queue = await import('../queue/index.js')
    // After resetModules: the class the fresh modules throw.
    const { WebhookError } = await import('../src/index.js')
    for (const use of [
      () => queue.createQueue('events', { connection: {} }),
      () => queue.createWorker('events', {}, { connection: {} }),
    ]) {
      let thrown: unknown
      try {
        use()
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(WebhookError)
      expect((thrown as InstanceType<typeof WebhookError>).code).toBe('CONFIGURATION')
      expect((thrown as InstanceType<typeof WebhookError>).message).toContain('npm install bullmq')
    }
  })
})
