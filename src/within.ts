/**
 * Settle like `work`, or reject with `timeoutError()` once `ms` have passed; the timer is
 * cleared either way, and a late rejection of `work` is swallowed (it lost the race).
 */
export async function within<T>(
  work: Promise<T>,
  ms: number,
  timeoutError: () => unknown,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms)
  })
  work.catch(() => {})
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
