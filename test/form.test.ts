import { describe, expect, it } from 'vitest'
import { compareBytes, decodeForm, percentDecode } from '../src/form.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | string) => (typeof b === 'string' ? b : new TextDecoder().decode(b))
const asBytes = (v: Uint8Array | string) => (typeof v === 'string' ? bytes(v) : v)

describe('decodeForm', () => {
  it.each([
    'a=1&b=2',
    'a=%2B+%26%3D%25&b=',
    'name=J%C3%BCrgen+M%C3%BCller',
    'empty=&&novalue&x=%ZZ%4',
    'k%20ey=v%2fal%2F',
    'emoji=%F0%9F%93%A7',
    '',
  ])('agrees with URLSearchParams on %j', (body) => {
    const expected = [...new URLSearchParams(body)]
    const actual = decodeForm(bytes(body)).map((f) => [f.name, text(f.value)])
    expect(actual).toEqual(expected)
  })

  it('returns a view, not a copy, for a value without escapes', () => {
    const body = bytes('a=plain')
    const [field] = decodeForm(body)
    expect((field?.value as Uint8Array | undefined)?.buffer).toBe(body.buffer)
  })

  it('keeps raw bytes that are not valid UTF-8 (they are what was signed)', () => {
    const [field] = decodeForm(bytes('a=%FF%FE'))
    expect([...asBytes(field?.value ?? '')]).toEqual([0xff, 0xfe])
  })
})

describe('percentDecode', () => {
  it('decodes only inside the window it is given', () => {
    const src = bytes('xx%41+%42yy')
    expect(text(percentDecode(src, 2, 9))).toBe('A B')
  })
})

describe('compareBytes', () => {
  it('orders by UTF-8 bytes, prefix first', () => {
    const names = ['b', 'a_events', 'a', 'Z', 'é', 'ab']
    const sorted = names.map(bytes).sort(compareBytes).map(text)
    expect(sorted).toEqual(['Z', 'a', 'a_events', 'ab', 'b', 'é'])
  })
})
