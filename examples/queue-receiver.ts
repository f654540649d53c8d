// A receiver in queue mode: verify, validate, put each event on BullMQ, answer 200 once Redis
// has them. Run several behind a load balancer; they share the queue.
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3001 SENDCLEAN_WEBHOOK_KEY=… npx tsx examples/queue-receiver.ts
import express from 'express'
import { createExpressMiddleware } from 'sendclean-webhooks/express'
import { bullmqSink, createQueue } from 'sendclean-webhooks/queue'
import { keys, path, port, url } from './config.js'

const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const queue = createQueue('sendclean-events', {
  connection: { host: redis.hostname, port: Number(redis.port || 6379) },
})

const app = express()
app.use(path, createExpressMiddleware({ keys, url, queue: { sink: bullmqSink(queue) } }))
const server = app.listen(port, () => {
  console.error(`queue receiver: listening on http://localhost:${port}${path}`)
})

process.on('SIGTERM', () => {
  server.close()
  void queue.close()
})
