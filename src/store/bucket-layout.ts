/**
 * How a dataset's entries are cut into buckets (store format 7): a bucket is a range of keys,
 * from its lower bound (its name in the store, `e!<dataset>!<bound>`; the first bucket's is '')
 * up to the next bucket's, in JavaScript's string order (the order of keyOrder and the archives).
 * The bucket of a key is found by binary search over the bounds; reading a whole dataset in key
 * order puts its buckets one after the other (no merge of runs); a change rewrites one bucket of
 * at most {@link MAX_BUCKET_ENTRIES} entries whatever the list's size, cut in pieces when it grows
 * past that. With 256 buckets by key hash (format 6) a change to a 1M-line list re-encoded one of
 * ~3,900 entries (25-36 ms in the agents' interpreter) at its origin, the master and each receiver.
 * Pure: no LevelDB here.
 */

/** Entries a bucket holds at most after a change: past it, the bucket is cut in pieces. */
export const MAX_BUCKET_ENTRIES = 512

/**
 * Entries a piece holds at most when a bucket is cut: a bucket just past the maximum is cut at its
 * median, and a large sorted input (an initial sync, a migration) into pieces of up to this many,
 * which leaves room to grow before the next cut.
 */
export const FILL_BUCKET_ENTRIES = 384

/** Where `n` entries in key order are cut: the end of each piece, near-equal pieces (one when `n` fits a bucket). */
export function pieceEnds (n: number): number[] {
  const pieces = n <= MAX_BUCKET_ENTRIES ? 1 : Math.ceil(n / FILL_BUCKET_ENTRIES)
  const ends: number[] = []
  for (let i = 1; i <= pieces; i++) ends.push(Math.floor(i * n / pieces))
  return ends
}

/**
 * The index of the bucket holding `key`: the last of `bounds` (increasing, the first '') that is
 * not after it. `hint`: the index to try first (the previous key's, for keys that come in order).
 */
export function rangeOf (bounds: readonly string[], key: string, hint = 0): number {
  if (hint < bounds.length && bounds[hint] <= key && (hint + 1 === bounds.length || key < bounds[hint + 1])) return hint
  let lo = 0
  let hi = bounds.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (bounds[mid] <= key) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** JavaScript's order of strings (UTF-16 code units), for sort. */
export function compareKeys (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
