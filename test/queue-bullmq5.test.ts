// BullMQ 5.2.0, the lowest release of the declared peer range (^5.2 || ^6): the whole queue suite
// again, with queue mode's BullMQ loader (queue/bullmq.ts) returning it. (The worker that test kills runs in a child process with
// the project's BullMQ 6; the receiver, sink and the other workers run on 5.2.0.)
// 5.0.0 and 5.1.x fail two of its cases (a receiver started while Redis is down hangs on close;
// a killed worker's job is not retried in time), so the declared range starts at 5.2.
import { expect, it, vi } from 'vitest'
import './queue.test.js'

vi.mock('../queue/bullmq.js', async () => {
  const bullmq5 = await import('bullmq5')
  return { bullmq: () => bullmq5 }
})

it('runs on BullMQ 5.2.0', async () => {
  const { createRequire } = await import('node:module')
  const version = createRequire(import.meta.url)('bullmq5/package.json').version
  expect(version).toBe('5.2.0')
  const { bullmq } = await import('../queue/bullmq.js')
  expect(bullmq().Queue).toBe((await import('bullmq5')).Queue)
})
