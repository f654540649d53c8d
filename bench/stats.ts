/** The value at quantile `q` (0–1) of `xs`: the lower one where it falls between two. */
export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) * q)] as number
}
