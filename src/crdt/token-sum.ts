/**
 * The sum of Bayes token tables (crdt/bayes-counters.ts: the cluster's DB is the sum of every
 * node's contribution), in one linear merge of sorted columns per pair of tables.
 */
import type { Pause } from '../pace.js'
import { allocTokens, MAX_COUNT, trimTokens, type TokenTable } from './token-table.js'

/** Rows of the largest table per slice of {@link sumTokensPaced}: some 10 ms of work on a quiet machine. */
export const SUM_SLICE_ROWS = 65_536

/**
 * The sum of tables: counts add up (capped at MAX_COUNT), atime is the newest. Tables are added
 * two at a time, smallest first, down to three, which are added in one three-way merge: both are
 * straight-line code (a generic k-way merge, two loops over the tables per row, took a second
 * and a half for three 1M tables), and the last step allocates no intermediate table (a cluster
 * of three nodes: no 1.5M-row table of 30 MB between). Capping and the newest atime do not
 * depend on the grouping. A token whose counts sum to 0 is left out unless `keepZero`.
 */
export function sumTokens (tables: readonly TokenTable[], keepZero = false): TokenTable {
  const rest = tables.filter(t => t.keys.length > 0).sort((a, b) => a.keys.length - b.keys.length)
  if (rest.length === 0) return allocTokens(0)
  // One table is its own sum: no copy of a million rows (a first scan adds to an empty contribution).
  if (rest.length === 1) return keepZero || !hasZeroRow(rest[0]) ? rest[0] : sumTwo(rest[0], allocTokens(0), false)
  while (rest.length > 3) {
    const [a, b] = rest.splice(0, 2)
    const sum = sumTwo(a, b, true)
    const at = rest.findIndex(t => t.keys.length > sum.keys.length)
    rest.splice(at < 0 ? rest.length : at, 0, sum)
  }
  if (rest.length === 2) return sumTwo(rest[0], rest[1], keepZero)
  const out = allocTokens(sumThree(rest[0], rest[1], rest[2], keepZero, null))
  sumThree(rest[0], rest[1], rest[2], keepZero, out)
  return out
}

/**
 * {@link sumTokens} cut into slices of the token range, `pause` awaited between them: the sum of
 * three 5M-token contributions takes seconds, which must not stop the event loop (pace.ts).
 * Counted slice by slice, then written slice by slice into one table of the exact size.
 */
export async function sumTokensPaced (tables: readonly TokenTable[], keepZero: boolean, pause: Pause, sliceRows = SUM_SLICE_ROWS): Promise<TokenTable> {
  const rest = tables.filter(t => t.keys.length > 0).sort((a, b) => a.keys.length - b.keys.length)
  if (rest.length <= 1) return sumTokens(rest, keepZero)
  while (rest.length > 3) {
    const [a, b] = rest.splice(0, 2)
    const sum = sumTwo(a, b, true)
    const at = rest.findIndex(t => t.keys.length > sum.keys.length)
    rest.splice(at < 0 ? rest.length : at, 0, sum)
    await pause()
  }
  const empty = allocTokens(0)
  const [a, b, c] = rest.length === 3 ? rest : [empty, rest[0], rest[1]]
  // Slice edges: every sliceRows-th key of the largest table, found by binary search in the others.
  const edges: number[] = []
  for (let r = sliceRows; r < c.keys.length; r += sliceRows) edges.push(c.keys[r])
  const slices = [...edges, Infinity].map((edge, s) => {
    const from = s === 0 ? -Infinity : edges[s - 1]
    return [a, b, c].map(t => rowsOf(t, lowerBound(t.keys, from), lowerBound(t.keys, edge)))
  })
  const counts: number[] = []
  for (const [x, y, z] of slices) {
    counts.push(sumThree(x, y, z, keepZero, null))
    await pause()
  }
  const out = allocTokens(counts.reduce((n, k) => n + k, 0))
  let at = 0
  for (let s = 0; s < slices.length; s++) {
    const [x, y, z] = slices[s]
    sumThree(x, y, z, keepZero, rowsOf(out, at, at + counts[s]))
    at += counts[s]
    await pause()
  }
  return out
}

/**
 * {@link sumTokens} of up to three tables (zero sums left out) written into `out`, which has room
 * for all their rows: one pass and no allocation, for a caller that sums slice after slice into
 * one buffer (replica/bayes-stream.ts). Returns the rows written.
 */
export function sumInto (tables: readonly TokenTable[], out: TokenTable): number {
  if (tables.length > 3) throw new RangeError(`sumInto adds up to 3 tables, not ${tables.length}`)
  const empty = allocTokens(0)
  return sumThree(tables[0] ?? empty, tables[1] ?? empty, tables[2] ?? empty, false, out)
}

// Rows [from, to) of a table, as views (no copy).
function rowsOf (t: TokenTable, from: number, to: number): TokenTable {
  return { keys: t.keys.subarray(from, to), spam: t.spam.subarray(from, to), ham: t.ham.subarray(from, to), atime: t.atime.subarray(from, to) }
}

// The first row whose key is not below `key`.
function lowerBound (keys: Float64Array, key: number): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid] < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

// The sum of three tables, written into `out` when given (it has exactly the rows); returns the
// number of rows. Called once to count, once to write.
function sumThree (a: TokenTable, b: TokenTable, c: TokenTable, keepZero: boolean, out: TokenTable | null): number {
  const { keys: ak, spam: as, ham: ah, atime: at } = a
  const { keys: bk, spam: bs, ham: bh, atime: bt } = b
  const { keys: ck, spam: cs, ham: ch, atime: ct } = c
  const na = ak.length
  const nb = bk.length
  const nc = ck.length
  // Past its last row a table reads as this key, above every token.
  const END = 2 ** 41
  let i = 0
  let j = 0
  let l = 0
  let n = 0
  let ka = na > 0 ? ak[0] : END
  let kb = nb > 0 ? bk[0] : END
  let kc = nc > 0 ? ck[0] : END
  while (ka !== END || kb !== END || kc !== END) {
    const k = ka < kb ? (ka < kc ? ka : kc) : (kb < kc ? kb : kc)
    let s = 0
    let h = 0
    let t = 0
    if (ka === k) {
      s += as[i]
      h += ah[i]
      t = at[i]
      ka = ++i < na ? ak[i] : END
    }
    if (kb === k) {
      s += bs[j]
      h += bh[j]
      if (bt[j] > t) t = bt[j]
      kb = ++j < nb ? bk[j] : END
    }
    if (kc === k) {
      s += cs[l]
      h += ch[l]
      if (ct[l] > t) t = ct[l]
      kc = ++l < nc ? ck[l] : END
    }
    if (!keepZero && s === 0 && h === 0) continue
    if (out !== null) {
      out.keys[n] = k
      out.spam[n] = s > MAX_COUNT ? MAX_COUNT : s
      out.ham[n] = h > MAX_COUNT ? MAX_COUNT : h
      out.atime[n] = t
    }
    n++
  }
  return n
}

// The sum of two tables (see sumTokens); zero sums are kept with `keepZero`. The result is
// allocated at its exact size, counted first: sized na + nb and trimmed, three 1M tables took
// 150 MB of short-lived columns to sum, and the memory stays with the process.
function sumTwo (a: TokenTable, b: TokenTable, keepZero: boolean): TokenTable {
  const na = a.keys.length
  const nb = b.keys.length
  const out = allocTokens(sumSize(a, b, keepZero))
  const { keys, spam, ham, atime } = out
  let i = 0
  let j = 0
  let n = 0
  while (i < na || j < nb) {
    const ka = i < na ? a.keys[i] : Infinity
    const kb = j < nb ? b.keys[j] : Infinity
    let s: number
    let h: number
    let t: number
    if (ka < kb) {
      s = a.spam[i]
      h = a.ham[i]
      t = a.atime[i]
      i++
    } else if (kb < ka) {
      s = b.spam[j]
      h = b.ham[j]
      t = b.atime[j]
      j++
    } else {
      s = a.spam[i] + b.spam[j]
      h = a.ham[i] + b.ham[j]
      t = a.atime[i] > b.atime[j] ? a.atime[i] : b.atime[j]
      i++
      j++
    }
    if (!keepZero && s === 0 && h === 0) continue
    keys[n] = ka < kb ? ka : kb
    spam[n] = s > MAX_COUNT ? MAX_COUNT : s
    ham[n] = h > MAX_COUNT ? MAX_COUNT : h
    atime[n] = t
    n++
  }
  return trimTokens(out, n)
}

// Rows of the sum of two tables (see sumTwo).
function sumSize (a: TokenTable, b: TokenTable, keepZero: boolean): number {
  const na = a.keys.length
  const nb = b.keys.length
  let i = 0
  let j = 0
  let n = 0
  while (i < na && j < nb) {
    const ka = a.keys[i]
    const kb = b.keys[j]
    if (ka < kb) {
      if (keepZero || a.spam[i] !== 0 || a.ham[i] !== 0) n++
      i++
    } else if (kb < ka) {
      if (keepZero || b.spam[j] !== 0 || b.ham[j] !== 0) n++
      j++
    } else {
      if (keepZero || a.spam[i] !== 0 || a.ham[i] !== 0 || b.spam[j] !== 0 || b.ham[j] !== 0) n++
      i++
      j++
    }
  }
  for (; i < na; i++) if (keepZero || a.spam[i] !== 0 || a.ham[i] !== 0) n++
  for (; j < nb; j++) if (keepZero || b.spam[j] !== 0 || b.ham[j] !== 0) n++
  return n
}

function hasZeroRow (t: TokenTable): boolean {
  for (let i = 0; i < t.keys.length; i++) if (t.spam[i] === 0 && t.ham[i] === 0) return true
  return false
}
