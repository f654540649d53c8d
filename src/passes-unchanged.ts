import type { z } from 'zod'

/** True only for a value that its schema would accept and return as it is (a deep-equal copy). */
export type Unchanged = (value: unknown) => boolean

/**
 * What {@link passesUnchanged} reads of a schema: the few kinds of zod schema whose parse can
 * return its input unchanged.
 */
type Node =
  | { kind: 'string' }
  | { kind: 'literal'; values: readonly (string | number | boolean | null)[] }
  | { kind: 'number'; whole: boolean; min: readonly Bound[]; max: readonly Bound[] }
  | { kind: 'array'; element: Node }
  | { kind: 'object'; fields: readonly (readonly [string, Node])[] }
  | { kind: 'union'; options: readonly Node[] }

interface Bound {
  value: number
  inclusive: boolean
}

interface Def {
  type: string
  coerce?: boolean
  checks?: readonly { _zod: { def: { check: string; value?: unknown; inclusive?: boolean } } }[]
  format?: string
  values?: readonly unknown[]
  options?: readonly z.ZodType[]
  element?: z.ZodType
  shape?: Readonly<Record<string, z.ZodType>>
  catchall?: z.ZodType
}

/**
 * A fast predicate read off a zod schema's definition, so the schema stays the one source of
 * truth: where it says true, `schema.safeParse(value)` succeeds and its data deep-equals
 * `value`, so a caller that owns `value` may keep it instead of zod's copy. False says
 * nothing: the value may still be valid in another form (a numeric string that becomes a
 * number), so the caller asks zod. `undefined` when the schema uses something this does not
 * read (a transform at the top, a string check, a stripping object): then every value goes to
 * zod.
 *
 * It reads: string, literal, number (finite; `int`, i.e. safeint; inclusive or exclusive
 * bounds), array without length checks, loose object (every field kept, each one own; an own
 * `__proto__` field, which `JSON.parse` makes and zod drops, says false), and
 * unions, of which only the options before the first one it cannot read count (zod takes the
 * first option that accepts, so an option after one that transforms must not decide).
 *
 * The predicate is generated JavaScript where the runtime allows `new Function`: a closure per
 * field would share its call sites with every other field, and those megamorphic loads made it
 * ten times slower. Where code generation is refused (Workers, a strict CSP), or with
 * `generate: false`, it is the same tree walked by closures.
 */
export function passesUnchanged(schema: z.ZodType, generate = true): Unchanged | undefined {
  const node = read(schema)
  if (!node) return undefined
  return (generate && generated(node)) || walked(node)
}

function read(schema: z.ZodType): Node | undefined {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def
  if (def.coerce) return undefined
  switch (def.type) {
    case 'string':
      return def.checks?.length ? undefined : { kind: 'string' }
    case 'literal': {
      const values = def.values ?? []
      const plain = values.every(
        (v) => v === null || ['string', 'boolean'].includes(typeof v) || Number.isFinite(v),
      )
      return plain && values.length > 0 && !def.checks?.length
        ? { kind: 'literal', values: values as (string | number | boolean | null)[] }
        : undefined
    }
    case 'number':
      return number(def)
    case 'array': {
      const element = def.element && read(def.element)
      return element && !def.checks?.length ? { kind: 'array', element } : undefined
    }
    case 'object': {
      // Only a loose object (catch-all `unknown`) keeps every field it is given.
      const catchall = (def.catchall as { _zod?: { def: Def } } | undefined)?._zod?.def
      if (catchall?.type !== 'unknown' || def.checks?.length) return undefined
      const fields: [string, Node][] = []
      for (const [key, field] of Object.entries(def.shape ?? {})) {
        const node = read(field)
        if (!node) return undefined
        fields.push([key, node])
      }
      return { kind: 'object', fields }
    }
    case 'union': {
      const options: Node[] = []
      for (const option of def.options ?? []) {
        const node = read(option)
        if (!node) break
        options.push(node)
      }
      return options.length > 0 && !def.checks?.length ? { kind: 'union', options } : undefined
    }
    default:
      return undefined
  }
}

function number(def: Def): Node | undefined {
  if (def.format !== undefined && def.format !== 'safeint') return undefined
  const min: Bound[] = []
  const max: Bound[] = []
  for (const check of def.checks ?? []) {
    const { check: kind, value, inclusive } = check._zod.def
    if (typeof value !== 'number' || Number.isNaN(value)) return undefined
    if (kind === 'greater_than') min.push({ value, inclusive: inclusive === true })
    else if (kind === 'less_than') max.push({ value, inclusive: inclusive === true })
    else return undefined
  }
  return { kind: 'number', whole: def.format === 'safeint', min, max }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function walked(node: Node): Unchanged {
  switch (node.kind) {
    case 'string':
      return (value) => typeof value === 'string'
    case 'literal':
      return (value) => node.values.includes(value as string)
    case 'number':
      return (value) =>
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (!node.whole || Number.isSafeInteger(value)) &&
        node.min.every((b) => (b.inclusive ? value >= b.value : value > b.value)) &&
        node.max.every((b) => (b.inclusive ? value <= b.value : value < b.value))
    case 'array': {
      const element = walked(node.element)
      return (value) => {
        if (!Array.isArray(value)) return false
        // Not every(): it skips holes, which zod reads as undefined.
        for (let i = 0; i < value.length; i++) if (!element(value[i])) return false
        return true
      }
    }
    case 'object': {
      const fields = node.fields.map(([key, field]) => [key, walked(field)] as const)
      return (value) =>
        isRecord(value) &&
        !Object.hasOwn(value, '__proto__') &&
        fields.every(([key, check]) => Object.hasOwn(value, key) && check(value[key]))
    }
    case 'union': {
      const options = node.options.map(walked)
      return (value) => options.some((check) => check(value))
    }
  }
}

/** The predicate as generated source, or undefined where the runtime refuses to compile it. */
function generated(node: Node): Unchanged | undefined {
  const functions: string[] = []
  const root = source(node, 'v', functions)
  try {
    const make = new Function('hasOwn', `${functions.join('\n')}\nreturn (v) => ${root}`)
    return make(Object.hasOwn) as Unchanged
  } catch {
    return undefined
  }
}

/**
 * A boolean expression over `x` (a plain identifier) for `node`; an object or array becomes a
 * function of its own in `functions`, so each field's load is its own call site.
 */
function source(node: Node, x: string, functions: string[]): string {
  switch (node.kind) {
    case 'string':
      return `typeof ${x} === 'string'`
    case 'literal':
      return `(${node.values.map((v) => `${x} === ${literal(v)}`).join(' || ')})`
    case 'number': {
      const parts = [`typeof ${x} === 'number'`, `Number.isFinite(${x})`]
      if (node.whole) parts.push(`Number.isSafeInteger(${x})`)
      for (const b of node.min) parts.push(`${x} ${b.inclusive ? '>=' : '>'} ${literal(b.value)}`)
      for (const b of node.max) parts.push(`${x} ${b.inclusive ? '<=' : '<'} ${literal(b.value)}`)
      return `(${parts.join(' && ')})`
    }
    case 'array':
      return `${declare(functions, (name) => [
        `function ${name}(v) {`,
        '  if (!Array.isArray(v)) return false',
        '  for (let i = 0; i < v.length; i++) {',
        '    const x = v[i]',
        `    if (!(${source(node.element, 'x', functions)})) return false`,
        '  }',
        '  return true',
        '}',
      ])}(${x})`
    case 'object':
      return `${declare(functions, (name) => [
        `function ${name}(v) {`,
        `  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false`,
        `  if (hasOwn(v, '__proto__')) return false`,
        '  let x',
        ...node.fields.flatMap(([key, field]) => [
          `  if (!hasOwn(v, ${JSON.stringify(key)})) return false`,
          `  x = v[${JSON.stringify(key)}]`,
          `  if (!(${source(field, 'x', functions)})) return false`,
        ]),
        '  return true',
        '}',
      ])}(${x})`
    case 'union':
      return `(${node.options.map((option) => source(option, x, functions)).join(' || ')})`
  }
}

/**
 * Add a function to `functions` and return its name. The name is taken first, so the functions
 * that `lines` declares for what it nests get the names after it.
 */
function declare(functions: string[], lines: (name: string) => string[]): string {
  const index = functions.push('') - 1
  const name = `f${index}`
  functions[index] = lines(name).join('\n')
  return name
}

/** A JavaScript literal for a plain value (strings through JSON, numbers finite or ±Infinity). */
function literal(value: string | number | boolean | null): string {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return value > 0 ? 'Infinity' : '-Infinity'
  }
  return Object.is(value, -0) ? '-0' : JSON.stringify(value)
}
