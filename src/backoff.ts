/** Wait `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Exponential backoff with jitter: `baseMs × 2^retry` scaled by a random factor between
 * `floor` and 1 (0: "full jitter", for clients that must spread out; 0.5: never retry at once).
 */
export function backoffMs(baseMs: number, retry: number, floor = 0): number {
  return baseMs * 2 ** retry * (floor + (1 - floor) * Math.random())
}
