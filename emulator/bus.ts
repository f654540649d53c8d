/**
 * What happens inside the emulator, as events: the terminal's live log, the web console's
 * server-sent events and `trigger --emulator` all read them from here.
 */

/** One POST of a delivery to its receiver. */
export interface Attempt {
  /** 1-based. */
  readonly n: number
  readonly time: string
  /** The receiver's HTTP status; `null` when it could not be reached or timed out. */
  readonly status: number | null
  readonly ms: number
  /** Why there is no status (connection refused, timeout). */
  readonly error?: string
  /** The receiver's answer body, cut to `ANSWER_LIMIT` characters. */
  readonly answer: string
}

/** The most of a receiver's answer the emulator keeps per attempt. */
export const ANSWER_LIMIT = 2000

/** One batch on its way to one webhook, with every attempt so far. */
export interface Delivery {
  readonly id: string
  readonly webhookId: string
  readonly url: string
  readonly time: string
  /** The `event` value of each event, in batch order. */
  readonly types: string[]
  /** `pending` while attempts remain; then `ok` (2xx) or `failed`. */
  state: 'pending' | 'ok' | 'failed'
  readonly maxAttempts: number
  readonly attempts: Attempt[]
  /** The request as sent (every attempt sends the same one). */
  readonly request: {
    readonly method: 'POST'
    readonly url: string
    readonly headers: Record<string, string>
    readonly body: string
  }
  /** The events, for a replay. */
  readonly events: Array<Record<string, unknown>>
}

/** One entry of the emulator's live log: an API call, a handshake, a delivery or an attempt. */
export type EmulatorEvent =
  | {
      readonly type: 'api'
      readonly time: string
      /** The `/settings/*` method, e.g. `addWebhook`. */
      readonly method: string
      readonly ok: boolean
      /** SendClean's message: `Webhook Added`, or the error's. */
      readonly message: string
      readonly ms: number
    }
  | {
      readonly type: 'handshake'
      readonly time: string
      readonly url: string
      readonly ok: boolean
      /** What the URL answered (`GET answered 200`), or why it failed. */
      readonly detail: string
      readonly ms: number
    }
  | { readonly type: 'delivery'; readonly delivery: Delivery }
  | { readonly type: 'attempt'; readonly delivery: Delivery; readonly attempt: Attempt }
  | { readonly type: 'webhooks' }

export type Listener = (event: EmulatorEvent) => void

/** A minimal emitter: listeners are called in order; one that throws does not stop the others. */
export class Bus {
  readonly #listeners = new Set<Listener>()

  on(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  emit(event: EmulatorEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // a broken log or a closed stream must not break a delivery
      }
    }
  }
}
