import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SAMPLE_TYPES, sampleEvent } from '../emulator/samples.js'
import { createReceiver, type EventName, type WebhookEvent } from '../src/index.js'
import { jsonCuts, jsonPieces, parseJsonBytes } from '../src/json-pieces.js'
import { SEED_EVENTS, SEED_EVENTS_TEXT, signedRequest } from './support/fixtures.js'

const encode = (text: string) => new TextEncoder().encode(text)
const DEFAULTS = { ...jsonPieces }

afterEach(() => {
  Object.assign(jsonPieces, DEFAULTS)
  vi.restoreAllMocks()
})

/** What the whole text gives: its value, or the message of its SyntaxError. */
function reference(bytes: Uint8Array): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(new TextDecoder().decode(bytes)) }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

function pieces(bytes: Uint8Array): { value: unknown } | { error: string } {
  try {
    return { value: parseJsonBytes(bytes) }
  } catch (error) {
    expect(error).toBeInstanceOf(SyntaxError)
    return { error: (error as Error).message }
  }
}

/** Equal values, `__proto__` keys and key order included (toStrictEqual does not see those). */
function expectSame(bytes: Uint8Array) {
  const want = reference(bytes)
  const got = pieces(bytes)
  expect(got).toStrictEqual(want)
  if ('value' in want && 'value' in got) {
    expect(JSON.stringify(got.value)).toBe(JSON.stringify(want.value))
  }
}

function batch(n: number, space?: number): string {
  const events = Array.from({ length: n }, (_, i) =>
    sampleEvent(SAMPLE_TYPES[i % SAMPLE_TYPES.length] as EventName, {
      id: `msg-${i}`,
      ts: 1_700_000_000_000 + i,
    }),
  )
  return JSON.stringify(events, null, space)
}

describe('parseJsonBytes', () => {
  it('cuts a 1000-event batch (compact, as SendClean posts it) into pieces under 128 KiB, and returns what JSON.parse does', () => {
    const bytes = encode(batch(1000))
    expect(bytes.length).toBeGreaterThan(jsonPieces.from)
    const cuts = jsonCuts(bytes)
    expect(cuts.length).toBeGreaterThanOrEqual(3)
    for (const [k, cut] of cuts.entries()) {
      expect(bytes[cut]).toBe(0x2c)
      expect(cut - (cuts[k - 1] ?? 0)).toBeLessThan(128 * 1024)
    }
    expectSame(bytes)
    // Parsed in those pieces, not given up for the whole text: no string of 128 KiB is made.
    const parse = vi.spyOn(JSON, 'parse')
    expect(parseJsonBytes(bytes)).toHaveLength(1000)
    expect(parse).toHaveBeenCalledTimes(cuts.length + 1)
    for (const [text] of parse.mock.calls) expect(text.length).toBeLessThan(128 * 1024)
  })

  it('cuts a pretty-printed batch as well (whitespace around the commas, as in the seed)', () => {
    const bytes = encode(batch(600, 2))
    expect(jsonCuts(bytes).length).toBeGreaterThan(0)
    expectSame(bytes)
    jsonPieces.from = 0
    jsonPieces.piece = 1
    const seed = encode(SEED_EVENTS_TEXT)
    expect(jsonCuts(seed)).toHaveLength(SEED_EVENTS.length - 1)
    expect(parseJsonBytes(seed)).toStrictEqual(SEED_EVENTS)
    const spaced = encode('[ {"a": 1} , {"a": 2}\r\n,\t{"a": 3} ]')
    expect(jsonCuts(spaced)).toHaveLength(2)
    expectSame(spaced)
  })

  it('leaves shorter texts whole', () => {
    const bytes = encode(batch(100))
    expect(bytes.length).toBeLessThan(jsonPieces.from)
    expectSame(bytes)
  })

  it('gives the same result when a cut is guessed inside a nested array (the piece does not parse)', () => {
    jsonPieces.from = 0
    jsonPieces.piece = 1
    // Every nested object opens like the first element, so most guessed cuts are wrong.
    const text = JSON.stringify([
      { id: 1, list: [{ id: 2 }, { id: 3 }, { id: 4, x: [{ id: 5 }, { id: 6 }] }] },
      { id: 7 },
      { id: 8, list: [{ id: 9 }, { id: 10 }] },
    ])
    const bytes = encode(text)
    expect(jsonCuts(bytes).length).toBeGreaterThan(2)
    expectSame(bytes)
  })

  it('gives the same SyntaxError for a broken text, wherever it breaks', () => {
    jsonPieces.from = 0
    jsonPieces.piece = 1
    const text = JSON.stringify(SEED_EVENTS)
    for (const broken of [
      `${text.slice(0, -1)}`, // no closing bracket
      `${text} x`, // trailing garbage
      text.replace('},{"', '},,{"'), // an empty element
      text.replace('},{"', '}{"'), // a missing comma
      `{"a":${text}`, // an object around the array
      text.replaceAll('"event"', '"event"x'), // broken inside every piece
    ]) {
      expectSame(encode(broken))
      expect('error' in pieces(encode(broken))).toBe(true)
    }
  })

  it('keeps `__proto__` keys and invalid UTF-8 exactly as the whole text does', () => {
    jsonPieces.from = 0
    jsonPieces.piece = 1
    expectSame(encode('[{"k":1,"__proto__":{"x":1}},{"k":2,"__proto__":[]},{"k":3}]'))
    // A truncated UTF-8 sequence at the end of a piece, a lone continuation byte in the next.
    const bytes = encode('[{"k":"a?"},{"k":"?b"},{"k":"c"}]')
    bytes[8] = 0xe2
    bytes[18] = 0x82
    expect(jsonCuts(bytes)).toHaveLength(2)
    expectSame(bytes)
  })

  it('agrees with JSON.parse on arbitrary arrays, pieces anywhere (property)', () => {
    jsonPieces.from = 0
    const element = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(fc.constantFrom('event', 'ts', 'msg', '__proto__', 'e"v'), fc.jsonValue()),
      fc.record({ event: fc.string(), msg: fc.array(fc.record({ event: fc.string() })) }),
    )
    fc.assert(
      fc.property(
        fc.array(element, { maxLength: 12 }),
        fc.nat({ max: 200 }),
        fc.option(fc.nat({ max: 4 })),
        (array, piece, space) => {
          jsonPieces.piece = piece
          expectSame(encode(JSON.stringify(array, null, space ?? undefined)))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('agrees with JSON.parse on arbitrary bytes spliced into a batch (property)', () => {
    jsonPieces.from = 0
    const base = encode(JSON.stringify(SEED_EVENTS))
    fc.assert(
      fc.property(
        fc.nat({ max: base.length }),
        fc.nat({ max: 3 }),
        fc.uint8Array({ maxLength: 3 }),
        fc.nat({ max: 400 }),
        (at, drop, insert, piece) => {
          jsonPieces.piece = piece
          const bytes = new Uint8Array([
            ...base.subarray(0, at),
            ...insert,
            ...base.subarray(Math.min(base.length, at + drop)),
          ])
          expectSame(bytes)
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('a receiver given a batch that is cut into pieces', () => {
  it('hands every event to its handler once, in order, equal to the one sent', async () => {
    const text = batch(1000)
    expect(jsonCuts(encode(text)).length).toBeGreaterThan(0)
    const seen: WebhookEvent[] = []
    const receiver = createReceiver({
      keys: 'aVLnPysvkKUU95AFrb47Zr',
      on: { '*': (event) => void seen.push(event) },
    })
    const response = await receiver.handle(signedRequest(text))
    expect(response.status).toBe(200)
    const sent = JSON.parse(text) as Array<{ _id: string; event: string }>
    expect(seen.map((e) => (e as { _id: string })._id)).toStrictEqual(sent.map((e) => e._id))
    const { date: _date, ...first } = seen[0] as WebhookEvent & { date: Date }
    expect(first).toStrictEqual(sent[0])
  })
})
