/**
 * Entries sorted by key a step at a time (pace.ts): a change to one bucket may bring a whole
 * list (the first scan of a 1M-line file goes into the one empty bucket of an empty dataset),
 * and a sort of 1M entries in one piece held the event loop for seconds. Runs of `step` entries
 * are sorted, then merged pairwise, `step` entries a step.
 */
import type { StoredEntry } from '../store/state-store.js'
import { sortedByKey } from '../store/bucket-codec.js'
import { compareKeys } from '../store/bucket-layout.js'

const byKey = (a: StoredEntry, b: StoredEntry): number => compareKeys(a.key, b.key)

/** `list` in increasing key order (itself when it is already: keys each once). */
export function * sortedPaced (list: StoredEntry[], step: number): Generator<void, StoredEntry[]> {
  if (sortedByKey(list)) return list
  if (list.length <= step) return list.sort(byKey)
  let runs: StoredEntry[][] = []
  for (let lo = 0; lo < list.length; lo += step) {
    runs.push(list.slice(lo, lo + step).sort(byKey))
    yield
  }
  while (runs.length > 1) {
    const next: StoredEntry[][] = []
    for (let r = 0; r < runs.length; r += 2) next.push(r + 1 === runs.length ? runs[r] : yield * mergePaced(runs[r], runs[r + 1], step))
    runs = next
  }
  return runs[0]
}

/** The entries of `before` and `put` (both in increasing key order) in key order, those of `put` in place of any of `before` with their key. */
export function putOver (before: readonly StoredEntry[], put: readonly StoredEntry[]): StoredEntry[] {
  const out: StoredEntry[] = []
  let a = 0
  let b = 0
  while (a < before.length || b < put.length) {
    if (b >= put.length || (a < before.length && before[a].key < put[b].key)) out.push(before[a++])
    else {
      if (a < before.length && before[a].key === put[b].key) a++
      out.push(put[b++])
    }
  }
  return out
}

function * mergePaced (a: StoredEntry[], b: StoredEntry[], step: number): Generator<void, StoredEntry[]> {
  const out = new Array<StoredEntry>(a.length + b.length)
  const at = { a: 0, b: 0, out: 0 }
  while (mergeSome(a, b, out, at, step)) yield
  return out
}

// A plain function a step long: V8 optimises it, not a long loop inside a generator.
function mergeSome (a: StoredEntry[], b: StoredEntry[], out: StoredEntry[], at: { a: number, b: number, out: number }, step: number): boolean {
  for (let n = 0; n < step && at.out < out.length; n++) {
    out[at.out++] = at.b >= b.length || (at.a < a.length && a[at.a].key < b[at.b].key) ? a[at.a++] : b[at.b++]
  }
  return at.out < out.length
}
