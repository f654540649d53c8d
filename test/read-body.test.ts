import { describe, expect, it } from 'vitest'
import { BodyCollector } from '../src/read-body.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('BodyCollector', () => {
  it('copies chunks into one buffer of the announced length', () => {
    const body = new BodyCollector(100, 6)
    for (const chunk of ['ab', 'cd', 'ef']) expect(body.push(bytes(chunk))).toBe(true)
    expect(text(body.result())).toBe('abcdef')
    expect(body.result().buffer.byteLength).toBe(6)
  })

  it('keeps a single chunk as it is', () => {
    const chunk = bytes('abcdef')
    const body = new BodyCollector(100, 6)
    body.push(chunk)
    expect(body.result()).toBe(chunk)
  })

  it('still joins correctly when more arrives than was announced, or nothing was', () => {
    for (const expected of [3, undefined]) {
      const body = new BodyCollector(100, expected)
      for (const chunk of ['ab', 'cd', 'ef']) body.push(bytes(chunk))
      expect(text(body.result())).toBe('abcdef')
    }
  })

  it('refuses past the limit, also when the announced length lied', () => {
    const body = new BodyCollector(5, 4)
    expect(body.push(bytes('abcd'.slice(0, 2)))).toBe(true)
    expect(body.push(bytes('cd'))).toBe(true)
    expect(body.push(bytes('ef'))).toBe(false)
  })
})
