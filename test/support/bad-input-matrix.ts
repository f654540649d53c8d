import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryStore, type ReceiverOptions } from '../../src/index.js'
import {
  FIELD,
  FORM,
  formDelivery,
  KEY,
  SEED_EVENTS,
  SIGNATURE_HEADER,
  URL_REGISTERED,
} from './fixtures.js'
import { type Mount, PATH, serve } from './spec-matrix.js'

interface Raw {
  headers?: Record<string, string | string[]>
  /** Body chunks, written in order; `pauseMs` waits between the first and the rest. */
  chunks?: Array<string | Buffer>
  pauseMs?: number
  /** Write one chunk every this many ms, reading the answer meanwhile (stop once it comes). */
  everyMs?: number
  /** Send Content-Length (default) or chunked. */
  chunked?: boolean
}

/** A POST written by hand, so that headers, framing and pacing are exactly as given. */
function post(base: string, raw: Raw): Promise<{ status: number; text: string }> {
  const chunks = raw.chunks ?? []
  const length = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0)
  const headers: Record<string, string | string[] | number> = { ...raw.headers }
  if (!raw.chunked && headers['content-length'] === undefined) headers['content-length'] = length
  return new Promise((resolve, reject) => {
    let answered = false
    // A connection of its own (no keep-alive reuse): rows share a server on remote runtimes.
    const req = httpRequest(`${base}${PATH}`, { method: 'POST', headers, agent: false }, (res) => {
      answered = true
      let text = ''
      res.on('data', (d) => {
        text += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    // The server may answer (413, 408) and close before the whole body is written. A reset
    // or a close before any answer is told as status 0 (never a hang).
    req.on('error', (error) => {
      if (!error.message.includes('EPIPE') && !error.message.includes('ECONNRESET')) {
        return reject(error)
      }
      if (!answered) resolve({ status: 0, text: `reset before an answer (${error.message})` })
    })
    req.on('close', () => {
      if (!answered) resolve({ status: 0, text: 'closed before an answer' })
    })
    if (raw.everyMs !== undefined) {
      const next = (i: number) => {
        if (answered || req.destroyed) return
        if (i === chunks.length) return void req.end()
        req.write(chunks[i] as string | Buffer)
        setTimeout(() => next(i + 1), raw.everyMs)
      }
      return next(0)
    }
    const [first, ...rest] = chunks
    if (first !== undefined) req.write(first)
    const finish = () => {
      for (const chunk of rest) req.write(chunk)
      req.end()
    }
    if (raw.pauseMs) setTimeout(finish, raw.pauseMs)
    else finish()
  })
}

/**
 * A client that announces and sends a whole 8 MB body before it reads the answer (as many HTTP
 * clients do): it gets the 413 only if the server keeps reading until the body is in, instead
 * of closing with unread bytes (which resets the connection and can discard the answer).
 */
function writeThenRead(base: string): Promise<string> {
  const url = new URL(`${base}${PATH}`)
  const size = 8 * 1024 * 1024
  const chunk = Buffer.alloc(64 * 1024, 'a')
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname)
    let answer = ''
    let sent = 0
    socket.pause()
    socket.on('data', (data: Buffer) => {
      answer += data.toString('latin1')
      if (answer.includes('\r\n\r\n')) socket.destroy()
    })
    socket.on('error', () => {})
    socket.on('close', () => resolve(answer || '(nothing: the connection was reset)'))
    socket.on('connect', () => {
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: ${size}\r\n\r\n`,
      )
      const pump = () => {
        while (sent < size) {
          sent += chunk.length
          if (!socket.write(chunk)) return void socket.once('drain', pump)
        }
        socket.resume()
      }
      pump()
    })
  })
}

const signed = (events: string) => formDelivery(events)
const seed = JSON.stringify(SEED_EVENTS)

function deep(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`
}

interface Row {
  name: string
  raw: () => Raw
  status: number
  options?: Partial<ReceiverOptions<unknown>>
}

const rows: Row[] = [
  {
    name: 'a wrong signature',
    raw: () => ({
      headers: {
        'content-type': FORM,
        [SIGNATURE_HEADER]: signed(seed.replace('smtp', 'smtq')).signature,
      },
      chunks: [signed(seed).body],
    }),
    status: 401,
  },
  {
    name: 'no signature',
    raw: () => ({ headers: { 'content-type': FORM }, chunks: [signed(seed).body] }),
    status: 401,
  },
  {
    name: 'the signature header twice',
    raw: () => {
      const { body, signature } = signed(seed)
      return {
        headers: { 'content-type': FORM, [SIGNATURE_HEADER]: [signature, signature] },
        chunks: [body],
      }
    },
    status: 401,
  },
  {
    name: 'a hex digest instead of base64',
    raw: () => {
      const { body, signature } = signed(seed)
      return {
        headers: {
          'content-type': FORM,
          [SIGNATURE_HEADER]: Buffer.from(signature, 'base64').toString('hex'),
        },
        chunks: [body],
      }
    },
    status: 401,
  },
  {
    name: 'whitespace around the signature (optional whitespace, RFC 9110)',
    raw: () => {
      const { body, signature } = signed(seed)
      return {
        headers: { 'content-type': FORM, [SIGNATURE_HEADER]: `  ${signature}\t` },
        chunks: [body],
      }
    },
    status: 200,
  },
  {
    name: 'charset=UTF-8 on the content type',
    raw: () => {
      const { body, signature } = signed(seed)
      return {
        headers: { 'content-type': `${FORM}; charset="UTF-8"`, [SIGNATURE_HEADER]: signature },
        chunks: [body],
      }
    },
    status: 200,
  },
  {
    name: 'charset=iso-8859-1',
    raw: () => {
      const { body, signature } = signed(seed)
      return {
        headers: { 'content-type': `${FORM}; charset=iso-8859-1`, [SIGNATURE_HEADER]: signature },
        chunks: [body],
      }
    },
    status: 415,
  },
  {
    name: 'Content-Encoding: gzip',
    raw: () => {
      const { body, signature } = signed(seed)
      return {
        headers: {
          'content-type': FORM,
          'content-encoding': 'gzip',
          [SIGNATURE_HEADER]: signature,
        },
        chunks: [gzipSync(body)],
      }
    },
    status: 415,
  },
  {
    name: 'a body slower than bodyTimeoutMs',
    raw: () => {
      const { body, signature } = signed(seed)
      return {
        headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature },
        chunks: [body.slice(0, 100), body.slice(100)],
        pauseMs: 600,
      }
    },
    options: { bodyTimeoutMs: 150 },
    status: 408,
  },
  {
    name: 'a body over the limit, announced in Content-Length',
    raw: () => ({
      headers: { 'content-type': FORM, 'content-length': '5000000' },
      chunks: ['x'.repeat(2000)],
    }),
    options: { maxBodyBytes: 1000 },
    status: 413,
  },
  {
    name: 'an oversized chunked body, 16 KiB every 5 ms, to a client that reads while it writes: 413',
    raw: () => ({
      headers: { 'content-type': FORM },
      chunks: Array.from({ length: 40 }, () => 'x'.repeat(16 * 1024)),
      chunked: true,
      everyMs: 5,
    }),
    options: { maxBodyBytes: 64 * 1024 },
    status: 413,
  },
  {
    name: 'a body over the limit, chunked',
    raw: () => ({
      headers: { 'content-type': FORM },
      chunks: ['x'.repeat(600), 'x'.repeat(600)],
      chunked: true,
    }),
    options: { maxBodyBytes: 1000 },
    status: 413,
  },
  {
    name: 'an empty key list',
    raw: () => {
      const { body, signature } = signed(seed)
      return { headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature }, chunks: [body] }
    },
    options: { keys: [] },
    status: 500,
  },
  {
    name: 'events that are not objects (invalid events, acknowledged)',
    raw: () => {
      const { body, signature } = signed('[1, "send", null]')
      return { headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature }, chunks: [body] }
    },
    status: 200,
  },
  {
    name: '10,000-deep nesting inside an event (kept as an extra field)',
    raw: () => {
      const event = JSON.stringify({ ...SEED_EVENTS[2], extra: 'DEEP' }).replace(
        '"DEEP"',
        deep(10_000),
      )
      const { body, signature } = signed(`[${event}]`)
      return { headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature }, chunks: [body] }
    },
    status: 200,
  },
  {
    name: '10,000-deep nesting as the batch (one invalid event, acknowledged)',
    raw: () => {
      const { body, signature } = signed(deep(10_000))
      return { headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature }, chunks: [body] }
    },
    status: 200,
  },
  {
    name: '100,000-deep nesting as the batch, with an idempotency store (identity without recursion)',
    raw: () => {
      const { body, signature } = signed(deep(100_000))
      return { headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature }, chunks: [body] }
    },
    options: { idempotency: { store: memoryStore() } },
    status: 200,
  },
  {
    name: 'an unsigned duplicate-field bomb (80,000 empty fields and a repeated name): maxFields, 413',
    raw: () => ({
      headers: { 'content-type': FORM },
      chunks: [`${'&'.repeat(80_000)}a=1&${'x&'.repeat(80_000)}a=2`],
    }),
    status: 413,
  },
  {
    name: 'the same bomb under a huge maxFields: found in one pass, 400',
    raw: () => ({
      headers: { 'content-type': FORM },
      chunks: [`${'x&'.repeat(80_000)}a=1&a=2`],
    }),
    options: { maxFields: 1_000_000 },
    status: 400,
  },
  {
    name: 'an unsigned 8 MB form of 1.4 million empty fields: maxFields, 413',
    raw: () => ({
      headers: { 'content-type': FORM },
      chunks: [`${'a=&b&c=&'.repeat(1_050_000)}`],
    }),
    options: { maxBodyBytes: 16 * 1024 * 1024 },
    status: 413,
  },
  {
    name: 'an unsigned JSON body of a million empty objects: 401, not parsed',
    raw: () => ({
      headers: { 'content-type': 'application/json' },
      chunks: [`[${'{},'.repeat(999_999)}{}]`],
    }),
    status: 401,
  },
  {
    name: 'an unsigned JSON empty array is a handshake',
    raw: () => ({ headers: { 'content-type': 'application/json' }, chunks: [' [ ] '] }),
    status: 200,
  },
  {
    name: 'an unsigned small JSON object with an empty events field is a handshake',
    raw: () => ({
      headers: { 'content-type': 'application/json' },
      chunks: [JSON.stringify({ [FIELD]: [] })],
    }),
    status: 200,
  },
  {
    name: 'an unsigned JSON object over 1 KiB is verified before it is parsed: 401',
    raw: () => ({
      headers: { 'content-type': 'application/json' },
      chunks: [JSON.stringify({ [FIELD]: [], padding: 'x'.repeat(2000) })],
    }),
    status: 401,
  },
  {
    name: 'a 1,000,000-element array, signed (maxEvents)',
    raw: () => {
      const { body, signature } = signed(`[${'{},'.repeat(999_999)}{}]`)
      return { headers: { 'content-type': FORM, [SIGNATURE_HEADER]: signature }, chunks: [body] }
    },
    options: { maxBodyBytes: 16 * 1024 * 1024 },
    status: 413,
  },
  {
    name: 'a 1,000,000-element array, unsigned',
    raw: () => ({
      headers: { 'content-type': FORM },
      chunks: [new URLSearchParams({ [FIELD]: `[${'{},'.repeat(999_999)}{}]` }).toString()],
    }),
    options: { maxBodyBytes: 16 * 1024 * 1024 },
    status: 401,
  },
]

/** The hardening issue's bad-input matrix, through a real HTTP server built by `mount`. */
export function badInputMatrix(
  mount: Mount,
  /**
   * Cases that do not hold on this runtime for reasons outside the package, by name, with the
   * reason. They still run, as `it.fails`: if one starts passing, the run says so.
   */
  knownFailures: Record<string, string> = {},
  /**
   * Rows where this runtime's own HTTP server may reset the connection before the client has
   * read the answer (status 0), by name, with the reason: the package's answer is not in doubt,
   * the runtime's socket handling is. Any other status still fails.
   */
  resetAllowed: Record<string, string> = {},
) {
  const known = (name: string) => (knownFailures[name] === undefined ? it : it.fails)
  const reasonOf = (name: string) =>
    knownFailures[name] === undefined ? '' : ` (known failure here: ${knownFailures[name]})`
  describe('bad input over HTTP', () => {
    const servers = new Map<string, { base: string; close(): void }>()
    beforeAll(async () => {
      for (const row of rows) {
        const target = mount({ keys: KEY, url: URL_REGISTERED, onError: () => {}, ...row.options })
        servers.set(row.name, await serve(target))
      }
    })
    afterAll(() => {
      for (const server of servers.values()) server.close()
    })

    const WRITE_FIRST =
      'a body refused before it was read still gets its 413, under load, by clients that write before they read'
    const writeFirst = known(WRITE_FIRST)
    writeFirst(`${WRITE_FIRST}${reasonOf(WRITE_FIRST)}`, async () => {
      const server = await serve(
        mount({ keys: KEY, url: URL_REGISTERED, onError: () => {}, maxBodyBytes: 1024 }),
      )
      try {
        const answers = await Promise.all(
          Array.from({ length: 16 }, () => writeThenRead(server.base)),
        )
        expect(answers.map((a) => a.slice(0, 12))).toEqual(answers.map(() => 'HTTP/1.1 413'))
      } finally {
        server.close()
      }
    })

    for (const row of rows) {
      known(row.name)(`${row.name}${reasonOf(row.name)}`, async () => {
        const { base } = servers.get(row.name) as { base: string }
        const res = await post(base, row.raw())
        if (res.status === 0 && resetAllowed[row.name] !== undefined) return
        expect(res.status, res.text).toBe(row.status)
      })
    }
  })
}
