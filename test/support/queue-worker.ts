// A worker process for the "killed mid-job" test: it announces the job it took, then never
// finishes it, so the test can kill it with the job's lock held.
import { createWorker } from '../../queue/index.js'

const [url, queueName, prefix] = process.argv.slice(2) as [string, string, string]
const { hostname, port } = new URL(url)
createWorker(
  queueName,
  {
    '*': (_event, { job }) => {
      process.stdout.write(`started ${job.id}\n`)
      return new Promise(() => {})
    },
  },
  {
    connection: { host: hostname, port: Number(port) },
    prefix,
    lockDuration: 1000,
    stalledInterval: 500,
  },
)
process.stdout.write('ready\n')
