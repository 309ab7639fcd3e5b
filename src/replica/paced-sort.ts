/**
 * Entries sorted by key a step at a time (pace.ts): a change to one bucket may bring a whole
 * list (the first scan of a 1M-line file goes into the one empty bucket of an empty dataset),
 * and a sort of 1M entries in one piece held the event loop for seconds. Each entry gets a sort
 * code, its key's first {@link CODE_UNITS} UTF-16 units above its index in one 64-bit number;
 * the codes are sorted natively (no comparator: ~90 ms at 1M entries, the one piece), and only
 * entries whose codes' keys agree are compared as strings. Comparing strings was most of it: a
 * merge sort of the 1M entries in JavaScript took 4-5 s CPU, the codes 0.7-1.1 s (in process,
 * the agent's V8 flags, load 6-9). Runs of `step` entries a step; a run of more than `step`
 * entries alike in their first units, and a list past {@link MAX_CODED} entries, are sorted and
 * merged pairwise, `step` entries a step.
 */
import type { StoredEntry } from '../store/state-store.js'
import { sortedByKey } from '../store/bucket-codec.js'
import { compareKeys } from '../store/bucket-layout.js'

const byKey = (a: StoredEntry, b: StoredEntry): number => compareKeys(a.key, b.key)

/** UTF-16 units of a key its sort code holds, 7 bits each: 42 bits above {@link INDEX_BITS}. */
const CODE_UNITS = 6
/** Bits of a sort code that hold the entry's index. */
const INDEX_BITS = 22
/** Entries the codes can index. */
const MAX_CODED = 2 ** INDEX_BITS
/** A sort code's word order in memory: BigUint64Array holds it in the platform's. */
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1

/** `list` in increasing key order (itself when it is already: keys each once). */
export function * sortedPaced (list: StoredEntry[], step: number): Generator<void, StoredEntry[]> {
  if (sortedByKey(list)) return list
  if (list.length <= step) return list.sort(byKey)
  if (list.length > MAX_CODED) return yield * mergeSorted(list, step)
  const codes = new BigUint64Array(list.length)
  const words = new Uint32Array(codes.buffer)
  for (let from = 0; from < list.length; from += step) {
    if (from > 0) yield
    putCodes(list, from, Math.min(list.length, from + step), words)
  }
  yield
  codes.sort()
  const out = new Array<StoredEntry>(list.length)
  for (let from = 0; from < list.length; from += step) {
    yield
    placeSome(list, words, from, Math.min(list.length, from + step), out)
  }
  // Entries alike in their first units are next to each other: each such run is sorted by key.
  let since = 0
  for (let lo = 0; lo < list.length;) {
    let hi = runEnd(words, lo, Math.min(list.length, lo + step + 1))
    if (hi - lo > step) hi = runEnd(words, lo, list.length)
    if (hi - lo > 1) {
      const run = out.slice(lo, hi)
      const sorted = hi - lo <= step ? run.sort(byKey) : yield * mergeSorted(run, step)
      for (let i = 0; i < sorted.length; i++) out[lo + i] = sorted[i]
    }
    since += hi - lo
    lo = hi
    if (since >= step) {
      since = 0
      yield
    }
  }
  return out
}

/**
 * A key's unit `i` as 7 bits of its sort code, in the units' order: 0 past the key's end, a unit
 * below 126 as itself + 1, any other as 127, after which the code holds nothing more (0), so two
 * keys whose codes differ are in the codes' order, and keys whose codes agree are compared.
 */
function unit (key: string, i: number): number {
  if (i >= key.length) return 0
  const u = key.charCodeAt(i)
  return u < 126 ? u + 1 : 127
}

/** Writes the sort codes of list[from..to): its key's first units in the high 42 bits, its index in the low 22. */
function putCodes (list: readonly StoredEntry[], from: number, to: number, words: Uint32Array): void {
  const u = [0, 0, 0, 0, 0, 0]
  for (let i = from; i < to; i++) {
    const key = list[i].key
    let cut = false
    for (let j = 0; j < CODE_UNITS; j++) {
      u[j] = cut ? 0 : unit(key, j)
      if (u[j] === 127) cut = true
    }
    words[2 * i + 1 - LOW] = (u[0] << 25 | u[1] << 18 | u[2] << 11 | u[3] << 4 | u[4] >>> 3) >>> 0
    words[2 * i + LOW] = (((u[4] & 7) << 7 | u[5]) << INDEX_BITS | i) >>> 0
  }
}

/** Puts the entries of sorted codes [from, to) into `out` in that order. */
function placeSome (list: readonly StoredEntry[], words: Uint32Array, from: number, to: number, out: StoredEntry[]): void {
  for (let i = from; i < to; i++) out[i] = list[words[2 * i + LOW] & (MAX_CODED - 1)]
}

/** The end of the run of codes from `lo` on whose units agree with lo's, looked for up to `limit`. */
function runEnd (words: Uint32Array, lo: number, limit: number): number {
  const high = words[2 * lo + 1 - LOW]
  const low = words[2 * lo + LOW] >>> INDEX_BITS
  let hi = lo + 1
  while (hi < limit && words[2 * hi + 1 - LOW] === high && words[2 * hi + LOW] >>> INDEX_BITS === low) hi++
  return hi
}

/** `list` sorted in runs of `step` entries, merged pairwise, `step` entries a step. */
function * mergeSorted (list: StoredEntry[], step: number): Generator<void, StoredEntry[]> {
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
