/** Small helpers about time, shared by the core, the client, queue mode and the emulator. */

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

/**
 * Settle like `work`, or reject with `timeoutError()` once `ms` have passed; the timer is
 * cleared either way, and a late rejection of `work` is swallowed (it lost the race).
 */
export function within<T>(work: Promise<T>, ms: number, timeoutError: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), ms)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
