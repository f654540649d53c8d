import type { HeaderReader } from './types.js'

/** Split `scheme://authority/rest` without normalising anything: the signed URL is compared byte for byte. */
function split(url: string): { scheme: string; authority: string; rest: string } | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(url)
  if (!match) return undefined
  return { scheme: match[1] as string, authority: match[2] as string, rest: match[3] as string }
}

function first(value: string | null | undefined): string | undefined {
  const head = value?.split(',')[0]?.trim()
  return head ? head : undefined
}

/** The URL rebuilt from `X-Forwarded-Proto` and `X-Forwarded-Host` (first values), when present. */
export function forwardedUrl(url: string, headers: HeaderReader): string {
  const parts = split(url)
  if (!parts) return url
  const scheme = first(headers.get('x-forwarded-proto'))?.toLowerCase() ?? parts.scheme
  const authority = first(headers.get('x-forwarded-host')) ?? parts.authority
  return `${scheme}://${authority}${parts.rest}`
}

/**
 * URLs that a signature made for the right key but another URL would match, to turn a bare
 * "mismatch" into "set `url` to X". Tried only after verification failed.
 */
export function alternativeUrls(signed: string, seen: string, headers: HeaderReader): string[] {
  const candidates = new Set<string>([seen, forwardedUrl(seen, headers)])
  const parts = split(signed)
  if (parts) {
    const other = parts.scheme.toLowerCase() === 'https' ? 'http' : 'https'
    candidates.add(`${other}://${parts.authority}${parts.rest}`)
    const queryAt = parts.rest.search(/[?#]/)
    const path = queryAt === -1 ? parts.rest : parts.rest.slice(0, queryAt)
    const tail = queryAt === -1 ? '' : parts.rest.slice(queryAt)
    const toggled = path.endsWith('/') ? path.slice(0, -1) : `${path}/`
    candidates.add(`${parts.scheme}://${parts.authority}${toggled}${tail}`)
  }
  candidates.delete(signed)
  return [...candidates]
}
