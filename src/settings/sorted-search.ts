/** Binary search over increasing offsets (line starts, piece starts, chunk firsts). Pure. */

/**
 * The last index in [0, last] whose value in `sorted` (non-decreasing) is at most `at`; 0 when
 * none is (callers keep `sorted[0]` at or below every `at` they ask for).
 */
export function lastAtMost (sorted: ArrayLike<number>, last: number, at: number): number {
  let lo = 0
  let hi = last
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (sorted[mid] <= at) lo = mid
    else hi = mid - 1
  }
  return lo
}
