import { describe, expect, it } from 'vitest'
import { timingSafeEqual, timingSafeEqualString } from '../src/verify/signature.js'

describe('timingSafeEqual', () => {
  it('compares contents', () => {
    expect(timingSafeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true)
    expect(timingSafeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false)
    expect(timingSafeEqual(Uint8Array.of(), Uint8Array.of())).toBe(true)
  })

  it('rejects different lengths', () => {
    expect(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false)
  })

  it('respects views and offsets into a larger buffer', () => {
    const backing = Uint8Array.of(9, 9, 1, 2, 3, 9, 1, 2, 3, 7)
    const a = backing.subarray(2, 5)
    const b = backing.subarray(6, 9)
    expect(timingSafeEqual(a, b)).toBe(true)
    expect(timingSafeEqual(a, backing.subarray(7, 10))).toBe(false)
    // A Buffer over a shared pool has a non-zero byteOffset.
    const pooled = Buffer.from('abc')
    expect(timingSafeEqual(pooled, new TextEncoder().encode('abc'))).toBe(true)
  })
})

describe('timingSafeEqualString (the compare the receiver uses)', () => {
  it('compares every code unit, and refuses other lengths', () => {
    const signature = 'D1fOgz6mlEhsfE1lYqeDOTgc8C0='
    expect(timingSafeEqualString(signature, `${signature}`)).toBe(true)
    for (let i = 0; i < signature.length; i++) {
      const changed = `${signature.slice(0, i)}${signature[i] === 'A' ? 'B' : 'A'}${signature.slice(i + 1)}`
      expect(timingSafeEqualString(signature, changed), `position ${i}`).toBe(false)
    }
    expect(timingSafeEqualString(signature, signature.slice(0, -1))).toBe(false)
    expect(timingSafeEqualString('', '')).toBe(true)
    // Code units past Latin-1 count too (a header value is never trusted to be ASCII).
    expect(timingSafeEqualString('ab\u0100', 'ab\u0000')).toBe(false)
  })
})
