import type { Batch } from './decode-batch.js'
import { WebhookError } from './errors.js'
import { type Config, normalizeKeys } from './options.js'
import { matchesAnyKey } from './signature.js'
import type { MaybePromise, RequestInfo, WebhookRequest } from './types.js'
import { alternativeUrls, forwardedUrl } from './url.js'

/** Bodies up to this size get the URL-mismatch diagnosis after a failed check. */
const DIAGNOSE_MAX_BYTES = 64 * 1024

async function resolve<T>(what: string, run: () => MaybePromise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    throw new WebhookError('INTERNAL_ERROR', `the ${what} resolver failed`, { cause: cause })
  }
}

/**
 * Resolve the keys and the signed URL, and check the signature against every key.
 * Throws a {@link WebhookError} that says what to fix: no key, no header, or a mismatch
 * naming the URL that was signed (and the URL that would have matched, when one does).
 */
export async function verifyRequest<C>(
  config: Config<C>,
  request: WebhookRequest<C>,
  batch: Batch,
): Promise<void> {
  const seen = config.trustProxy ? forwardedUrl(request.url, request.headers) : request.url
  const source = config.keys
  const option = config.url
  const info: RequestInfo<C> = { url: seen, headers: request.headers, context: request.context }
  const keys =
    config.keyList ??
    normalizeKeys(typeof source === 'function' ? await resolve('keys', () => source(info)) : source)
  const signature = signatureFor(config, request, keys)
  const url =
    typeof option === 'function' ? await resolve('url', () => option(info)) : (option ?? seen)
  if (!(await matchesAnyKey(keys, batch.signed(url), signature))) {
    await mismatch(request, batch, keys, url, signature)
  }
}

/** The request's signature, once there is a key to check it with; else what is missing. */
function signatureFor<C>(
  config: Config<C>,
  request: WebhookRequest<C>,
  keys: readonly string[],
): string {
  if (keys.length === 0) {
    throw new WebhookError(
      'NO_KEY',
      typeof config.keys === 'function'
        ? 'the `keys` resolver returned no key for this request, so its events cannot be verified and are refused (the handshake is still answered); check what it reads (on @hono/node-server, c.env is not process.env: use env(c) from hono/adapter)'
        : 'no webhook key is configured, so events cannot be verified and are refused (the handshake is still answered); set `keys` to the key SendClean shows for this webhook',
    )
  }
  const signature = request.headers.get(config.header)?.trim()
  if (!signature) {
    throw new WebhookError('MISSING_SIGNATURE', `the ${config.header} header is missing`)
  }
  return signature
}

/**
 * No key matched. Only for small bodies (an anonymous body may be large): find out whether the
 * key is right and the URL is not. Bounded: a few candidates over ≤ 64 KiB.
 */
async function mismatch<C>(
  request: WebhookRequest<C>,
  batch: Batch,
  keys: readonly string[],
  url: string,
  signature: string,
): Promise<never> {
  const diagnose = batch.bytes <= DIAGNOSE_MAX_BYTES
  const candidates = diagnose ? alternativeUrls(url, request.url, request.headers) : []
  for (const candidate of candidates) {
    if (await matchesAnyKey(keys, batch.signed(candidate), signature)) {
      throw new WebhookError(
        'URL_MISMATCH',
        `the signature was made for ${candidate}, but ${url} was used to check it; set \`url\` to the URL registered with SendClean`,
        { signedUrl: url },
      )
    }
  }
  throw new WebhookError(
    'SIGNATURE_MISMATCH',
    `no key matches the signature (signed URL: ${url}${diagnose ? '' : '; other likely URLs were not tried, the body is over 64 KiB'}); if SendClean has another URL registered (proxy, load balancer), set \`url\` to it; if the key was reset, add the new key to \`keys\``,
    { signedUrl: url },
  )
}
