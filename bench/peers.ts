// What the core is weighed against, one definition each for every bench: the hand-written
// floor, the floor with the textbook zod validation after it (the same work as the core), and
// @octokit/webhooks's verify + JSON.parse.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { parse as parseQuery } from 'node:querystring'
import { Webhooks } from '@octokit/webhooks'
import { z } from 'zod'
import { DEFAULT_EVENTS_FIELD } from '../src/constants.js'
import { eventSchemas } from '../src/events/schemas.js'
import { KEY, type Payload, URL_SIGNED } from './payloads.js'

/**
 * The hand-written floor for `p`'s form body: querystring, HMAC-SHA1 of URL + field + value
 * compared in constant time, JSON.parse. Returns the events; throws if the signature is wrong.
 */
export function floor(p: Payload): () => unknown {
  const expected = Buffer.from(p.signature)
  return () => {
    const value = parseQuery(p.form)[DEFAULT_EVENTS_FIELD] as string
    const digest = createHmac('sha1', KEY)
      .update(URL_SIGNED + DEFAULT_EVENTS_FIELD + value)
      .digest('base64')
    if (!timingSafeEqual(Buffer.from(digest), expected)) throw new Error('floor refused')
    return JSON.parse(value)
  }
}

/**
 * What a careful user writes by hand in a server, after the framework parsed the form into
 * `fields`: SPEC §3 over the fields, compared in constant time, then JSON.parse of the events,
 * validated with the textbook zod union when `validate` (then it does the package's work).
 * Every event is passed to `handle`. False when the signature is wrong.
 */
export function handwrittenVerify(
  fields: Record<string, unknown>,
  signature: string | undefined,
  validate: boolean,
  handle: (event: unknown) => void,
): boolean {
  const hmac = createHmac('sha1', KEY).update(URL_SIGNED)
  for (const name of Object.keys(fields).sort()) hmac.update(name + String(fields[name]))
  const expected = Buffer.from(hmac.digest('base64'))
  const given = Buffer.from(signature ?? '')
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false
  const parsed: unknown[] = JSON.parse(String(fields[DEFAULT_EVENTS_FIELD] ?? '[]'))
  const events = validate ? classic.parse(parsed) : parsed
  for (const event of events) handle(event)
  return true
}

/** The textbook zod schema for the same events: one discriminated union, objects that strip. */
export const classic = z.array(
  z.discriminatedUnion(
    'event',
    Object.values(eventSchemas).map((s) => z.object(s.shape)) as unknown as [
      z.ZodObject<{ event: z.ZodLiteral<string> }>,
    ],
  ),
)

/** The floor, then the classic zod validation of what it parsed: the core's work, by hand. */
export function floorZod(p: Payload): () => unknown {
  const parse = floor(p)
  return () => {
    const result = classic.safeParse(parse())
    if (!result.success) throw new Error('floor + zod refused')
    return result.data
  }
}

const octokit = new Webhooks({ secret: KEY })

/** @octokit/webhooks's verify + JSON.parse of `p`'s JSON body (signed once, here). */
export async function octokitPeer(p: Payload): Promise<() => Promise<unknown>> {
  const signature = await octokit.sign(p.json)
  return async () => {
    if (!(await octokit.verify(p.json, signature))) throw new Error('octokit refused')
    return JSON.parse(p.json)
  }
}
