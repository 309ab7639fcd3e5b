/**
 * "Did you mean": the valid name nearest to a mistyped one, so a typo in a flag, command or
 * config key is answered with the fix rather than a list to search.
 */

/** Levenshtein distance (insert, delete, substitute one character), case-insensitive. */
export function editDistance (a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const row = [i]
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[y.length]
}

/**
 * The candidate nearest to `word`, or null when none is near enough to be a typo of it (more
 * than a third of the word's characters wrong, at least 2 allowed).
 */
export function nearest (word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const c of candidates) {
    const d = editDistance(word, c)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** ` (did you mean X?)` for the nearest candidate, or '' when there is none. */
export function didYouMean (word: string, candidates: Iterable<string>, format: (name: string) => string = n => n): string {
  const n = nearest(word, candidates)
  return n === null ? '' : ` (did you mean ${format(n)}?)`
}
