import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

/** A webhook as SendClean's API shows it (wire names), with its delivery counters. */
export interface StoredWebhook {
  webhook_id: string
  url: string
  event: string
  description: string
  store_log: 'Enable' | 'Disable'
  key: string
  create_date: number
  last_success: number | null
  total_event: number
}

/** One batch to one webhook, after its retries. */
export interface DeliveryResult {
  /** The delivery's id (`GET /emulator/deliveries/<id>`). */
  id: string
  webhookId: string
  url: string
  events: number
  status: number | null
  attempts: number
  ok: boolean
  /** Why the last attempt got no status (connection refused, timeout). */
  error?: string
  /** The receiver's answer to a refused last attempt (cut to 2,000 characters). */
  answer?: string
}

/** A delivery as the log keeps it (webhooks with `store_log: Enable`). */
export type DeliveryLogEntry = DeliveryResult & { time: string; body: string }

export interface Store {
  webhooks: Map<string, StoredWebhook>
  logs: Map<string, DeliveryLogEntry[]>
  /** Write the webhooks (and keys) to the data file, if there is one. */
  persist(): void
}

/** Webhooks in memory, loaded from and saved to `dataFile` (atomically) when one is given. */
export function openStore(dataFile?: string): Store {
  const webhooks = new Map<string, StoredWebhook>()
  if (dataFile && existsSync(dataFile)) {
    let saved: { webhooks?: StoredWebhook[] }
    try {
      saved = JSON.parse(readFileSync(dataFile, 'utf8'))
    } catch {
      // Not JSON.parse's message: it quotes the file, which holds every webhook's key.
      throw new Error(
        `the data file ${dataFile} is not valid JSON: fix it, or remove it to start afresh`,
      )
    }
    for (const webhook of saved.webhooks ?? []) webhooks.set(webhook.webhook_id, webhook)
  }
  return {
    webhooks,
    logs: new Map(),
    persist() {
      if (!dataFile) return
      const tmp = `${dataFile}.tmp`
      // It holds every webhook's key: readable by its owner only (a stale tmp keeps its mode).
      writeFileSync(tmp, JSON.stringify({ webhooks: [...webhooks.values()] }, null, 2), {
        mode: 0o600,
      })
      chmodSync(tmp, 0o600)
      renameSync(tmp, dataFile)
    },
  }
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)

/** An answer in SendClean's error envelope (`status: "error"`, HTTP 200). */
export class ApiError extends Error {
  constructor(
    /** SendClean's error names; `NotFound` is the emulator's own (404 on its endpoints). */
    readonly kind: 'ValidationError' | 'GeneralError' | 'AuthenticationError' | 'NotFound',
    message: string,
  ) {
    super(message)
  }
}

/** How the emulator makes HTTP requests (handshakes, deliveries). */
export type Requester = (
  url: string,
  init: RequestInit,
) => Promise<{ status: number; text: string }>

/** Why a fetch failed, in a word where Node gives one (`ECONNREFUSED`), else its message. */
export function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}
