import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { EVENT_NAMES, eventSchemas, validateEvent } from '../src/events.js'
import { passesUnchanged } from '../src/passes-unchanged.js'
import { SEED_EVENTS } from './support/fixtures.js'

const BOTH = [
  ['generated', true],
  ['walked', false],
] as const

/**
 * Values at the edges of what the schemas accept (numbers near bounds, numeric strings), all of
 * them values JSON.parse can return: owned events are always its output ("1e400" is Infinity).
 */
const edge = fc.constantFrom<unknown>(
  -0,
  0,
  -1,
  1.5,
  2 ** 53,
  2 ** 53 - 1,
  8.64e15,
  8.64e15 + 2,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '123',
  ' 42 ',
  '1e3',
  '',
  'send',
  'spam',
  null,
  true,
  [],
  {},
  [{}],
)
const value = fc.oneof(edge, fc.jsonValue())

type Path = (string | number)[]

function paths(node: unknown, at: Path = []): Path[] {
  if (typeof node !== 'object' || node === null) return [at]
  const inner = Object.entries(node).flatMap(([key, child]) =>
    paths(child, [...at, Array.isArray(node) ? Number(key) : key]),
  )
  return [at, ...inner]
}

/**
 * A seed event with one change, at any depth: a field or element replaced or removed, or a
 * field added to an object. Still a value JSON.parse could return (no holes, no named fields
 * on arrays).
 */
const mutatedEvent = fc
  .tuple(
    fc.constantFrom(...SEED_EVENTS),
    fc.nat(),
    fc.constantFrom('replace', 'delete', 'add'),
    value,
    // `__proto__` often: JSON.parse makes it an own field, which zod drops.
    fc.oneof(fc.constant('__proto__'), fc.string()),
  )
  .map(([seed, pick, how, to, key]) => {
    const event = structuredClone(seed) as Record<string, unknown>
    const all = paths(event).filter((p) => p.length > 0)
    const path = all[pick % all.length] as Path
    const parent = path
      .slice(0, -1)
      .reduce<Record<string | number, unknown>>(
        (node, step) => node[step] as Record<string | number, unknown>,
        event,
      )
    const last = path[path.length - 1] as string | number
    if (how === 'replace') parent[last] = to
    else if (how === 'delete' && Array.isArray(parent)) parent.splice(Number(last), 1)
    else if (how === 'delete') delete parent[last]
    else if (
      typeof parent[last] === 'object' &&
      parent[last] !== null &&
      !Array.isArray(parent[last])
    ) {
      // Defined, not assigned: assigning `__proto__` would set the prototype.
      Object.defineProperty(parent[last], key, {
        value: to,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    }
    return event
  })

describe('passesUnchanged', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('reads every event schema, generated and walked', () => {
    for (const name of EVENT_NAMES) {
      for (const [, generate] of BOTH) {
        expect(passesUnchanged(eventSchemas[name], generate), name).toBeTypeOf('function')
      }
    }
  })

  it('passes every seed event, so the seed takes the fast path', () => {
    for (const seed of SEED_EVENTS) {
      const check = passesUnchanged(eventSchemas[seed.event as keyof typeof eventSchemas])
      expect(check?.(structuredClone(seed)), seed.event).toBe(true)
    }
  })

  it.each(BOTH)(
    '%s: says true only where zod accepts and returns an equal value',
    (_, generate) => {
      const checks = EVENT_NAMES.map((name) => [
        name,
        passesUnchanged(eventSchemas[name], generate),
      ])
      fc.assert(
        fc.property(mutatedEvent, (event) => {
          for (const [name, check] of checks as [
            keyof typeof eventSchemas,
            (v: unknown) => boolean,
          ][]) {
            if (!check(event)) continue
            const result = eventSchemas[name].safeParse(event)
            expect(result.success).toBe(true)
            expect(result.data).toStrictEqual(event)
          }
        }),
        { numRuns: 3000 },
      )
    },
  )

  it('the generated and the walked predicate agree', () => {
    const pairs = EVENT_NAMES.map((name) => [
      passesUnchanged(eventSchemas[name], true),
      passesUnchanged(eventSchemas[name], false),
    ])
    fc.assert(
      fc.property(fc.oneof(mutatedEvent, value), (event) => {
        for (const [generated, walked] of pairs) expect(generated?.(event)).toBe(walked?.(event))
      }),
      { numRuns: 3000 },
    )
  })

  it('says false where zod would change the value, though it accepts it', () => {
    const check = passesUnchanged(eventSchemas.hard_bounce)
    const seed = SEED_EVENTS.find((e) => e.event === 'hard_bounce')
    const event = structuredClone(seed) as unknown as { msg: { bounceCodeTrad: unknown } }
    event.msg.bounceCodeTrad = '472'
    expect(eventSchemas.hard_bounce.safeParse(event).success).toBe(true)
    expect(check?.(event)).toBe(false)
  })

  it.each(BOTH)('%s: says false for an own "__proto__" field, which zod drops', (_, generate) => {
    const schema = z.looseObject({ a: z.string(), inner: z.looseObject({ b: z.number() }) })
    const check = passesUnchanged(schema, generate)
    expect(check?.({ a: 'x', inner: { b: 1 } })).toBe(true)
    for (const text of [
      '{"a":"x","inner":{"b":1},"__proto__":false}',
      '{"a":"x","inner":{"b":1,"__proto__":{"b":2}}}',
    ]) {
      const value = JSON.parse(text)
      expect(check?.(value)).toBe(false)
      expect(schema.parse(value)).not.toStrictEqual(value)
    }
  })

  it('reads only what it knows; anything else is left to zod', () => {
    const unread = [
      z.object({ a: z.string() }), // strips unknown fields
      z.strictObject({ a: z.string() }),
      z.string().min(1),
      z.string().transform((s) => s.trim()),
      z.coerce.number(),
      z.number().multipleOf(2),
      z.array(z.string()).min(1),
      z.literal(undefined),
      z.union([z.string().transform(Number), z.string()]),
      z.looseObject({ a: z.date() }),
      // Refinements are checks zod runs on top: anything with one is left to zod.
      z.literal('a').refine((v) => v === 'a'),
      z.number().refine((v) => v > 0),
      z.looseObject({ a: z.string() }).refine((v) => v.a !== ''),
      z.array(z.string()).refine((v) => v.length > 0),
      z.union([z.string(), z.number()]).refine((v) => v !== ''),
      z.string().optional(),
      z.looseObject({ a: z.string() }).readonly(),
    ]
    for (const schema of unread) expect(passesUnchanged(schema)).toBeUndefined()
  })

  it.each(BOTH)('%s: is sound on small schemas over arbitrary values', (_, generate) => {
    const schemas = [
      z.number().gt(0).lt(10),
      z.number().gte(-1).lte(1),
      z.int().min(0).max(100),
      z.literal(['a', 1, null, true]),
      z.union([z.string(), z.number()]),
      z.union([z.int(), z.string().transform(Number)]),
      z.array(z.union([z.literal('x'), z.looseObject({ y: z.number() })])),
      z.looseObject({ n: z.looseObject({ m: z.array(z.int()) }), s: z.string() }),
    ]
    const checks = schemas.map((schema) => [schema, passesUnchanged(schema, generate)] as const)
    const arbitrary = fc.oneof(
      value,
      fc.array(fc.oneof(value, fc.record({ y: value }, { noNullPrototype: true }))),
      fc.record(
        { n: fc.record({ m: fc.array(value) }, { noNullPrototype: true }), s: value },
        { requiredKeys: [], noNullPrototype: true },
      ),
      fc.record({ y: value }, { noNullPrototype: true }),
    )
    fc.assert(
      fc.property(arbitrary, (input) => {
        for (const [schema, check] of checks) {
          expect(check).toBeTypeOf('function')
          if (!check?.(input)) continue
          const result = schema.safeParse(input)
          expect(result.success).toBe(true)
          expect(result.data).toStrictEqual(input)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it.each(BOTH)('%s: takes only own fields, not ones a polluted prototype lends', (_, generate) => {
    const check = passesUnchanged(z.looseObject({ polluted: z.string() }), generate)
    const proto = Object.prototype as { polluted?: string }
    proto.polluted = 'from the prototype'
    try {
      expect(check?.({})).toBe(false)
      expect(check?.({ polluted: 'sent' })).toBe(true)
    } finally {
      delete proto.polluted
    }
  })

  it('walks the tree where the runtime refuses to generate code (Workers, a strict CSP)', () => {
    vi.stubGlobal('Function', function refused() {
      throw new EvalError('Code generation from strings disallowed for this context')
    })
    const check = passesUnchanged(eventSchemas.click)
    vi.unstubAllGlobals()
    expect(check).toBeTypeOf('function')
    const click = SEED_EVENTS.find((e) => e.event === 'click')
    expect(check?.(structuredClone(click))).toBe(true)
    expect(check?.({ ...structuredClone(click), ts: '1' })).toBe(false)
  })
})

describe('validateEvent on an event the caller owns', () => {
  it('keeps a valid event as the object it was given, with date added', () => {
    for (const seed of SEED_EVENTS) {
      const raw = structuredClone(seed)
      const event = validateEvent(raw, true)
      expect(event).toBe(raw)
      expect(event).toEqual(validateEvent(structuredClone(seed), false))
    }
  })

  it('gives the same result as the copying parse, on any single change to a seed event', () => {
    fc.assert(
      fc.property(mutatedEvent, (event) => {
        const owned = validateEvent(structuredClone(event), true)
        const copied = validateEvent(structuredClone(event), false)
        expect(owned).toEqual(copied)
      }),
      { numRuns: 3000 },
    )
  })

  it('drops an extra "__proto__" field, as zod does, at the top and in msg; the prototype is untouched', () => {
    const text = JSON.stringify(SEED_EVENTS[0])
    for (const extra of [
      text.replace('{', '{"__proto__":{"polluted":true},'),
      text.replace('"msg":{', '"msg":{"__proto__":{"polluted":true},'),
    ]) {
      expect(extra).not.toBe(text)
      const raw = JSON.parse(extra)
      const event = validateEvent(raw, true)
      expect(event).not.toBe(raw)
      expect(event).toEqual(validateEvent(JSON.parse(extra), false))
      for (const object of [event, (event as { msg: object }).msg]) {
        expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
        expect(Object.hasOwn(object, '__proto__')).toBe(false)
        expect((object as { polluted?: unknown }).polluted).toBeUndefined()
      }
    }
  })
})
