// Each event's JSON text, cut out of the batch text: the elements must be exactly the texts
// JSON.parse read, whatever the spacing, escapes and nesting.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { elementTexts, memberElementTexts } from '../src/request/event-texts.js'
import { SEED_EVENTS, SEED_EVENTS_TEXT } from './support/fixtures.js'

const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ')

/** JSON text of `value` with random whitespace between tokens (outside strings). */
const spaced = (value: unknown, gap: () => string): string => {
  if (Array.isArray(value)) {
    return `[${gap()}${value.map((v) => spaced(v, gap)).join(`${gap()},${gap()}`)}${gap()}]`
  }
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(
      ([k, v]) => `${JSON.stringify(k)}${gap()}:${gap()}${spaced(v, gap)}`,
    )
    return `{${gap()}${members.join(`${gap()},${gap()}`)}${gap()}}`
  }
  return JSON.stringify(value)
}

describe('elementTexts', () => {
  it('cuts the seed batch into its seven events, each parsing to the event', () => {
    const texts = elementTexts(SEED_EVENTS_TEXT) ?? []
    expect(texts.map((t) => JSON.parse(t))).toEqual(SEED_EVENTS)
  })

  it('agrees with JSON.parse on any array, spacing, escapes and nesting included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 8 }),
        fc.array(space, { minLength: 1, maxLength: 5 }),
        (values, gaps) => {
          let i = 0
          const gap = () => gaps[i++ % gaps.length] as string
          const text = `${gap()}${spaced(values, gap)}${gap()}`
          const texts = elementTexts(text) ?? []
          expect(texts.map((t) => JSON.parse(t))).toEqual(JSON.parse(text))
          // Each element is cut exactly: no surrounding space, and it parses alone.
          for (const t of texts) expect(t).toBe(t.trim())
        },
      ),
      { numRuns: 500 },
    )
  })

  it('keeps what JSON.parse would lose: big integers and own __proto__ keys stay as sent', () => {
    const text = '[{"a":9007199254740993},{"__proto__":{"x":1}},"q\\"uote]"]'
    expect(elementTexts(text)).toEqual([
      '{"a":9007199254740993}',
      '{"__proto__":{"x":1}}',
      '"q\\"uote]"',
    ])
  })

  it('is undefined for text that is not an array', () => {
    expect(elementTexts(' {"a":[1]}')).toBeUndefined()
    expect(elementTexts('"[1]"')).toBeUndefined()
  })
})

describe('memberElementTexts', () => {
  it('finds the array of the named member, the last one when it is given twice', () => {
    const text = '{ "x_events" : [1], "other": {"x_events":[9]}, "x_events": [ {"a":"]"} , 2 ] }'
    expect(memberElementTexts(text, 'x_events')).toEqual(['{"a":"]"}', '2'])
    expect(memberElementTexts(text, 'other')).toBeUndefined()
    expect(memberElementTexts(text, 'missing')).toBeUndefined()
    expect(memberElementTexts('[1]', 'x_events')).toBeUndefined()
  })

  it('reads escaped member names as JSON.parse does', () => {
    expect(memberElementTexts('{"x\\u005fevents":[true]}', 'x_events')).toEqual(['true'])
  })
})
