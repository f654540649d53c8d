// `webhooks list | add | delete | reset-key`: the management API through the package's client,
// against the local emulator (default) or, with --api-key, SendClean itself.
import { createClient, type SubscribableEvent } from '../client/index.js'

export interface WebhooksOptions {
  action: string
  args: string[]
  /** SendClean's token: talk to SendClean's API instead of the emulator. */
  apiKey?: string
  ownerId?: string
  token?: string
  baseUrl?: string
  emulator: string
  events?: string[]
  description?: string
  storeLog?: boolean
  out: (line: string) => void
}

export class WebhooksUsageError extends Error {}

/** Resolves with the exit code; API errors reject (the CLI prints them). */
export async function webhooks(options: WebhooksOptions): Promise<number> {
  const { out } = options
  const remote = options.apiKey !== undefined
  if (remote && !options.ownerId)
    throw new WebhooksUsageError('--api-key needs --owner-id (or $SENDCLEAN_OWNER_ID)')
  const client = createClient(
    remote
      ? {
          ownerId: options.ownerId as string,
          token: options.apiKey as string,
          baseUrl: options.baseUrl,
        }
      : {
          ownerId: options.ownerId ?? 'local-owner',
          token: options.token ?? 'local-token',
          baseUrl: options.baseUrl ?? options.emulator,
        },
  )
  const [target, ...extra] = options.args
  const one = (what: string) => {
    if (!target || extra.length)
      throw new WebhooksUsageError(`webhooks ${options.action} takes one ${what}`)
    return target
  }
  switch (options.action) {
    case 'list': {
      if (target) throw new WebhooksUsageError('webhooks list takes no argument')
      const list = await client.listWebhooks()
      if (list.length === 0) out('no webhooks')
      for (const w of list) out(`${w.webhookId}  ${w.url}  [${w.events.join(',')}]  key ${w.key}`)
      return 0
    }
    case 'add': {
      const url = one('URL')
      const added = await client.addWebhook({
        url,
        events: options.events as SubscribableEvent[] | undefined,
        description: options.description,
        storeLog: options.storeLog,
      })
      out(`added webhook ${added.webhookId} for ${added.url} [${added.events.join(',')}]`)
      out(`key ${added.key}`)
      return 0
    }
    case 'delete': {
      const id = one('webhook id')
      await client.deleteWebhook(id)
      out(`deleted webhook ${id}`)
      return 0
    }
    case 'reset-key': {
      const id = one('webhook id')
      const { key } = await client.resetWebhookKey(id)
      out(`new key for webhook ${id}: ${key}`)
      return 0
    }
    default:
      throw new WebhooksUsageError(
        `unknown action "${options.action}"; expected list, add, delete or reset-key`,
      )
  }
}
