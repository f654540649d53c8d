import { configurationError, unknownName } from '../errors.js'
import {
  EVENT_NAMES,
  type EventName,
  type EventOf,
  type InvalidEvent,
  type UnknownEvent,
  type WebhookEvent,
} from '../events/schemas.js'

/** A handler gets the event and the framework's context (Express `{ req, res }`, Koa `ctx`, Hono `c`). */
export type Handler<E, C> = (event: E, context: C) => unknown

/**
 * Handlers by event type. `unknown` gets events of undocumented types (wrapped as
 * {@link UnknownEvent}); `invalid` gets events that fail their schema ({@link InvalidEvent});
 * `*` gets every event, after its type's own handlers.
 */
export type HandlerMap<C> = {
  [N in EventName]?: Handler<EventOf<N>, C>
} & {
  unknown?: Handler<UnknownEvent, C>
  invalid?: Handler<InvalidEvent, C>
  '*'?: Handler<WebhookEvent, C>
}

/** The `on` method shared by the receiver and every adapter; returns `R` for chaining. */
export interface On<C, R> {
  /** Handle one type, or several at once (the event is their union). */
  <N extends EventName>(type: N | readonly N[], handler: Handler<EventOf<N>, C>): R
  /** Handle events of types SendClean does not document (yet). */
  (type: 'unknown', handler: Handler<UnknownEvent, C>): R
  /** Handle events that fail their schema; they do not block the rest of the batch. */
  (type: 'invalid', handler: Handler<InvalidEvent, C>): R
  /** Handle every event, after its type's own handlers. */
  (type: '*', handler: Handler<WebhookEvent, C>): R
}

type Key = EventName | 'unknown' | 'invalid' | '*'
const KEYS = new Set<string>([...EVENT_NAMES, 'unknown', 'invalid', '*'])

/** Handlers kept per type, in registration order. */
export class HandlerRegistry<C> {
  readonly #byType = new Map<string, Handler<WebhookEvent, C>[]>()
  /** Per type, its own handlers then `*`'s: built on first use, dropped when one is added. */
  readonly #chains = new Map<string, readonly Handler<WebhookEvent, C>[]>()

  add(types: string | readonly string[], handler: unknown): void {
    const list = typeof types === 'string' ? [types] : types
    if (!Array.isArray(list) || list.length === 0) {
      throw configurationError('on() needs an event type or a non-empty array of them')
    }
    if (typeof handler !== 'function') {
      throw configurationError(`the handler for ${list.join(', ')} is not a function`)
    }
    for (const type of list) {
      if (!KEYS.has(type)) {
        throw configurationError(unknownName('event type', type, [...KEYS]))
      }
      this.#chains.clear()
      const handlers = this.#byType.get(type)
      if (handlers) handlers.push(handler as Handler<WebhookEvent, C>)
      else this.#byType.set(type, [handler as Handler<WebhookEvent, C>])
    }
  }

  addMap(map: HandlerMap<C> | undefined): void {
    if (map === undefined) return
    if (typeof map !== 'object' || map === null)
      throw configurationError('`on` must be an object of handlers')
    for (const [type, handler] of Object.entries(map)) this.add(type as Key, handler)
  }

  /**
   * The handlers of an event of type `type`, in the order they run: its type's own (or
   * `unknown`'s, or `invalid`'s), then `*`'s, each in registration order.
   */
  chain(type: string): readonly Handler<WebhookEvent, C>[] {
    let chain = this.#chains.get(type)
    if (!chain) {
      chain = [...(this.#byType.get(type) ?? NONE), ...(this.#byType.get('*') ?? NONE)]
      this.#chains.set(type, chain)
    }
    return chain
  }

  /**
   * Run an event's handlers one at a time, in {@link chain} order, from the `from`-th on; a
   * handler's throw or rejection comes out as is, and only a promise a handler returns is
   * awaited. After each handler but the last, `done(n)` is told (and waited for): the first `n`
   * have completed.
   */
  async runFrom(
    event: WebhookEvent,
    context: C,
    from: number,
    done: (handlersDone: number) => unknown,
  ): Promise<void> {
    const chain = this.chain(event.event)
    for (let h = from; h < chain.length; h++) {
      const result = (chain[h] as Handler<WebhookEvent, C>)(event, context)
      if (isThenable(result)) await result
      if (h + 1 < chain.length) await done(h + 1)
    }
  }
}

/** Whether a handler returned a promise (or any thenable) to wait for. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

const NONE: readonly [] = []

/**
 * Give an adapter's function an `on` method that registers on `receiver` and returns the
 * function itself, for chaining, and the receiver's `health()`.
 */
export function attachOn<T extends { on: unknown; health: unknown }>(
  target: Omit<T, 'on' | 'health'>,
  receiver: { on: (types: never, handler: never) => unknown; health: () => Promise<unknown> },
): T {
  const withOn = target as T & {
    on: (types: never, handler: never) => T
    health: () => Promise<unknown>
  }
  withOn.on = (types, handler) => {
    receiver.on(types, handler)
    return withOn
  }
  withOn.health = () => receiver.health()
  return withOn
}
