/**
 * How far two texts agree from their start and from their end, compared a chunk at a time (one
 * native string comparison per chunk), so finding a one-line edit in a 40 MB file is not forty
 * million character comparisons in JavaScript.
 */

/** Characters compared at once. */
const CHUNK = 4096

/** Length of the longest common start of `a` and `b`. */
export function commonPrefix (a: string, b: string): number {
  const max = Math.min(a.length, b.length)
  let n = 0
  while (n + CHUNK <= max && a.slice(n, n + CHUNK) === b.slice(n, n + CHUNK)) n += CHUNK
  while (n < max && a.charCodeAt(n) === b.charCodeAt(n)) n++
  return n
}

/** Length of the longest common end of `a` and `b`, at most `max`. */
export function commonSuffix (a: string, b: string, max: number): number {
  const limit = Math.min(max, a.length, b.length)
  let n = 0
  while (n + CHUNK <= limit && a.slice(a.length - n - CHUNK, a.length - n) === b.slice(b.length - n - CHUNK, b.length - n)) n += CHUNK
  while (n < limit && a.charCodeAt(a.length - n - 1) === b.charCodeAt(b.length - n - 1)) n++
  return n
}
