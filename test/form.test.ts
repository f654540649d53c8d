import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { bytesModule, compileFormWat } from '../scripts/build-wasm.js'
import { FORM_WASM_BASE64 } from '../src/platform/form-wasm-bytes.js'
import { createFormLoop } from '../src/platform/node.js'
import { compareBytes, decodeForm, type FormLoop } from '../src/request/form.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | string) => (typeof b === 'string' ? b : new TextDecoder().decode(b))
const asBytes = (v: Uint8Array | string) => (typeof v === 'string' ? bytes(v) : v)

/**
 * The general decoder, written the slow and obvious way: split on `&`, drop empty segments,
 * split each at its first `=`, then turn `+` into a space and each `%XX` into its byte.
 */
function reference(body: Uint8Array): Array<[number[], number[]]> {
  const split = (part: number[], at: number): number[][] => {
    const out: number[][] = [[]]
    for (const b of part) {
      if (b === at) out.push([])
      else out[out.length - 1]?.push(b)
    }
    return out
  }
  const hex = (b: number | undefined) =>
    b !== undefined && /^[0-9a-fA-F]$/.test(String.fromCharCode(b))
      ? Number.parseInt(String.fromCharCode(b), 16)
      : -1
  const decode = (part: number[]) => {
    const out: number[] = []
    for (let i = 0; i < part.length; i++) {
      const b = part[i] as number
      const hi = hex(part[i + 1])
      const lo = hex(part[i + 2])
      if (b === 0x25 && hi >= 0 && lo >= 0) {
        out.push(hi * 16 + lo)
        i += 2
      } else out.push(b === 0x2b ? 0x20 : b)
    }
    return out
  }
  return split([...body], 0x26)
    .filter((segment) => segment.length > 0)
    .map((segment) => {
      const eq = segment.indexOf(0x3d)
      const [name, value] =
        eq === -1 ? [segment, []] : [segment.slice(0, eq), segment.slice(eq + 1)]
      return [decode(name), decode(value)]
    })
}

// Bytes that matter to a form decoder, escapes (whole, cut short, not hex), and any byte at all.
const formByte = fc.oneof(
  fc.constantFrom(...'&=+%'.split('').map((c) => c.charCodeAt(0))),
  fc.constantFrom(0x30, 0x39, 0x41, 0x46, 0x61, 0x66, 0x67, 0x5a),
  fc.integer({ min: 0, max: 255 }),
)
const formPiece = fc.oneof(
  formByte.map((b) => [b]),
  fc
    .constantFrom('%41', '%c3%bc', '%C3', '%F0%9F%93%A7', '%4', '%%', '%zz', '%EF%BB%BF')
    .map((s) => [...bytes(s)]),
)
const formBody = fc
  .array(formPiece, { maxLength: 40 })
  .map((pieces) => new Uint8Array(pieces.flat()))
// Long bodies too: runs of plain bytes between escapes, `+`, `&` and `=`.
const plainRun = fc
  .integer({ min: 1, max: 40 })
  .chain((length) => fc.constantFrom(0x61, 0x7b, 0x22).map((b) => new Array(length).fill(b)))
const anyBody = fc.oneof(
  formBody,
  fc
    .array(fc.oneof(formPiece, plainRun), { maxLength: 120 })
    .map((pieces) => new Uint8Array(pieces.flat())),
)

/**
 * Which loop decodes: the JavaScript one, or the Node platform file's WebAssembly one (for every
 * body of 512 bytes or more), in its usual chunks or in small ones, so that chunks end at every
 * offset of escapes and 16-byte steps. Every body goes through the loop, however short.
 */
const LOOPS: Array<[string, () => FormLoop | undefined]> = [
  ['JavaScript', () => undefined],
  ['WebAssembly', () => createFormLoop()],
  ['WebAssembly, 3-byte chunks', () => createFormLoop(3)],
  ['WebAssembly, 21-byte chunks', () => createFormLoop(21)],
]

describe.each(LOOPS)('decodeForm, %s loop', (_name, makeLoop) => {
  const loop = makeLoop()
  const fieldsOf = (body: Uint8Array, max?: number) => {
    const fields = decodeForm(body, max, loop, 0)
    if (!fields) throw new Error('more fields than allowed')
    return fields
  }

  it.each([
    'a=1&b=2',
    'a=%2B+%26%3D%25&b=',
    'name=J%C3%BCrgen+M%C3%BCller',
    'empty=&&novalue&x=%ZZ%4',
    'k%20ey=v%2fal%2F',
    'emoji=%F0%9F%93%A7',
    '%EF%BB%BFa=1',
    'a=%4&b=%&c=%41%',
    '',
  ])('agrees with URLSearchParams on %j', (body) => {
    const expected = [...new URLSearchParams(body)]
    const actual = fieldsOf(bytes(body)).map((f) => [f.name, text(f.value)])
    expect(actual).toEqual(expected)
  })

  it('gives the same bytes as the obvious decoder, for any body', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const actual = fieldsOf(body).map((f) => [[...f.nameBytes], [...asBytes(f.value)]])
        expect(actual).toEqual(reference(body))
      }),
      { numRuns: 5000 },
    )
  })

  it('gives the same names as URLSearchParams, for any ASCII body', () => {
    fc.assert(
      // URLSearchParams takes text, and Node's decodes raw non-ASCII next to escapes unlike the
      // WHATWG parser (U+FFFD for valid bytes): ASCII bodies only. Escapes still give any byte.
      fc.property(
        anyBody.map((raw) => raw.map((b) => b & 0x7f)),
        (body) => {
          const names = fieldsOf(body).map((f) => f.name)
          // A leading `&` stops URLSearchParams from dropping a leading `?` (it takes a query string).
          expect(names).toEqual([...new URLSearchParams(`&${text(body)}`)].map(([name]) => name))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('gives up at the first field past maxFields, and only then', () => {
    fc.assert(
      fc.property(anyBody, fc.integer({ min: 0, max: 6 }), (body, max) => {
        const count = reference(body).length
        const fields = decodeForm(body, max, loop, 0)
        if (count > max) expect(fields).toBeUndefined()
        else expect(fields).toHaveLength(count)
      }),
      { numRuns: 3000 },
    )
  })

  it('returns a view, not a copy, for a value without escapes', () => {
    const body = bytes('a=plain')
    const [field] = fieldsOf(body)
    expect((field?.value as Uint8Array | undefined)?.buffer).toBe(body.buffer)
  })

  it('decodes every escaped part into one buffer, never past its own bytes', () => {
    const [a, b, c] = fieldsOf(bytes('x%41=%42%43&plain=yes&y=%44+'))
    expect([a?.name, text(a?.value ?? ''), b?.name, text(b?.value ?? '')]).toEqual([
      'xA',
      'BC',
      'plain',
      'yes',
    ])
    expect(text(c?.value ?? '')).toBe('D ')
    expect(asBytes(a?.value ?? '').buffer).toBe(asBytes(c?.value ?? '').buffer)
  })

  it('keeps raw bytes that are not valid UTF-8 (they are what was signed)', () => {
    const [field] = fieldsOf(bytes('a=%FF%FE'))
    expect([...asBytes(field?.value ?? '')]).toEqual([0xff, 0xfe])
  })
})

describe('the WebAssembly loop', () => {
  it('is made on Node (so the loops above are not the JavaScript loop four times)', () => {
    expect(createFormLoop()).toBeDefined()
    // A chunk too small to hold an escape could never move past one: refused, not looped on.
    for (const bytes of [0, 1, 2, 2.5, 1e9]) expect(() => createFormLoop(bytes)).toThrow(RangeError)
  })

  it('is what src/platform/form.wat compiles to', async () => {
    const base64 = await compileFormWat()
    expect(bytesModule(base64)).toContain(FORM_WASM_BASE64)
    expect(base64).toBe(FORM_WASM_BASE64)
  })

  it('decodes an event batch as the JavaScript loop does, from 512 bytes on by default', () => {
    const events = JSON.stringify(
      Array.from({ length: 300 }, (_, i) => ({ _id: `m${i}`, msg: { subject: 'Hi & bye +1 ü' } })),
    )
    const body = bytes(new URLSearchParams({ SendCleantes_events: events, a: 'b' }).toString())
    const js = decodeForm(body, 32)
    const wasm = decodeForm(body, 32, createFormLoop())
    expect(wasm?.map((f) => [f.name, text(f.value)])).toEqual(
      js?.map((f) => [f.name, text(f.value)]),
    )
    expect(text(wasm?.[0]?.value ?? '')).toBe(events)
  })

  it('is not made where the engine will not compile the module; the JavaScript loop decodes', async () => {
    vi.resetModules()
    const CompileError = WebAssembly.CompileError
    vi.stubGlobal('WebAssembly', {
      Module: class {
        constructor() {
          throw new CompileError(
            'WebAssembly.Module(): Wasm code generation disallowed by embedder',
          )
        }
      },
    })
    try {
      const platform = await import('../src/platform/node.js')
      expect(platform.createFormLoop()).toBeUndefined()
    } finally {
      vi.unstubAllGlobals()
      vi.resetModules()
    }
  })

  it('decodes a body of any size in three pages of memory, its own per instance', () => {
    const loop = createFormLoop()
    const big = 'x%41+'.repeat(1_000_000) // 5 MB
    expect(text(decodeForm(bytes(`v=${big}`), 32, loop)?.[0]?.value ?? '')).toBe(
      'xA '.repeat(1_000_000),
    )
    expect(loop?.memoryBytes).toBe(3 * 64 * 1024)
    expect(createFormLoop()).not.toBe(loop)
  })
})

describe('compareBytes', () => {
  it('orders by UTF-8 bytes, prefix first', () => {
    const names = ['b', 'a_events', 'a', 'Z', 'é', 'ab']
    const sorted = names.map(bytes).sort(compareBytes).map(text)
    expect(sorted).toEqual(['Z', 'a', 'a_events', 'ab', 'b', 'é'])
  })
})
