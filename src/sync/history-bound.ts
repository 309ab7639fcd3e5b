/**
 * The byte bound of the kept history (README, "History and rollback"): which kept versions' list
 * content to drop, oldest first, so the snapshots and deltas stay within the larger of a floor
 * and a multiple of the newest full snapshot. Pure: it reads version records, not the store.
 */
import type { VersionRecord } from '../store/state-store.js'

/** How many bytes of list content the history may keep. */
export interface HistoryBound {
  /** Bytes kept whatever the lists' size, so small lists keep their full rollback depth. */
  floorBytes: number
  /** Times the newest full snapshot's bytes that may be kept; 0 turns the byte bound off. */
  factor: number
}

/**
 * The bound unless configured: 256 KiB, or 3 times the newest full snapshot when that is larger.
 * 3, so a large list with little change keeps its newest chain and the one before (at least 16
 * versions) while a churned one keeps about 3 times its own size.
 */
export const DEFAULT_HISTORY_BOUND: HistoryBound = { floorBytes: 256 * 1024, factor: 3 }

/** Restorable versions always kept, however large: a rollback of the last change stays possible. */
export const MIN_RESTORABLE = 2

/** A stored version as `StateStore.listVersions` returns it. */
export interface StoredVersion {
  term: number
  seq: number
  record: VersionRecord
}

const key = (v: { term: number, seq: number }): string => `${v.term}.${v.seq}`

/** Bytes of a version's snapshot blobs, as stored. */
export function contentBytes (record: VersionRecord): number {
  let n = 0
  for (const size of Object.values(record.sizes ?? {})) n += size
  return n
}

/** The byte budget for `versions` (newest first): Infinity when the bound is off. */
export function historyBudget (versions: readonly StoredVersion[], bound: HistoryBound): number {
  if (bound.factor === 0) return Infinity
  const full = versions.find(v => v.record.sizes !== undefined && v.record.deltaOf === undefined)
  return Math.max(bound.floorBytes, bound.factor * (full === undefined ? 0 : contentBytes(full.record)))
}

/**
 * The versions (among `versions`, newest first) whose content to drop to keep the rest within the
 * budget. Newest first, each version is kept with the snapshots it builds on while they fit, and
 * always until {@link MIN_RESTORABLE} are; the first that does not fit ends the walk, so what is
 * dropped is everything older: whole chains back to a full snapshot, and every kept version
 * stays restorable.
 */
export function contentToDrop (versions: readonly StoredVersion[], bound: HistoryBound): Array<{ term: number, seq: number }> {
  const budget = historyBudget(versions, bound)
  const byKey = new Map(versions.map(v => [key(v), v]))
  const kept = new Set<string>()
  let bytes = 0
  let restorable = 0
  for (const v of versions) {
    if (v.record.sizes === undefined) continue
    if (kept.has(key(v))) {
      restorable++
      continue
    }
    const needed: StoredVersion[] = []
    for (let r: StoredVersion | undefined = v; r !== undefined && !kept.has(key(r)); r = r.record.deltaOf === undefined ? undefined : byKey.get(key(r.record.deltaOf))) needed.push(r)
    const cost = needed.reduce((n, r) => n + contentBytes(r.record), 0)
    if (restorable >= MIN_RESTORABLE && bytes + cost > budget) break
    for (const r of needed) kept.add(key(r))
    bytes += cost
    restorable++
  }
  return versions.filter(v => v.record.sizes !== undefined && !kept.has(key(v))).map(({ term, seq }) => ({ term, seq }))
}

/**
 * Whether the next snapshot after `previous` (a kept version with content) should be a full one
 * although its chain is short: the kept content is past half the budget and the deltas since the
 * chain's full snapshot add up to at least that snapshot's bytes. A full one then costs no more
 * than the deltas already did, and it lets the bound drop the older chain (under churn a chain of
 * 16 deltas alone could be 16 times the list). Half, because the older chain stays until the new
 * one holds 2 versions: started at the budget, the store went past it (bench/churn.ts: 560 KB
 * kept for a 336 KB budget). Below half the budget chains stay as long as they were.
 */
export function startsNewChain (previous: StoredVersion, versions: readonly StoredVersion[], bound: HistoryBound): boolean {
  const total = versions.reduce((n, v) => n + contentBytes(v.record), 0)
  if (total <= historyBudget(versions, bound) / 2) return false
  const byKey = new Map(versions.map(v => [key(v), v]))
  let deltas = 0
  let r: StoredVersion | undefined = previous
  while (r?.record.deltaOf !== undefined) {
    deltas += contentBytes(r.record)
    r = byKey.get(key(r.record.deltaOf))
  }
  return r !== undefined && r !== previous && deltas >= contentBytes(r.record)
}
