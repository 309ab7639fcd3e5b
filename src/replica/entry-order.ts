/** Orders of a dataset's entries: changed ones by change sequence, present ones by key. */
import type { EntryColumns } from '../crdt/entry-columns.js'
import { keyOrder } from '../archive/list-codec.js'
import type { SortedEntries } from '../settings/list-render.js'
import type { StoredEntry } from '../store/state-store.js'

/**
 * `entries` (lseqs in (from, to]) in lseq order: placed by index when they fill most of that
 * range (a whole list changed: no comparator call per pair), else sorted.
 */
export function byLseq (entries: StoredEntry[], from: number, to: number): StoredEntry[] {
  const sort = (): StoredEntry[] => entries.sort((a, b) => a.lseq - b.lseq)
  if (to - from > 2 * entries.length) return sort()
  const slots = new Array<StoredEntry | undefined>(to - from)
  for (const e of entries) {
    // A change sequence seen twice or past `to` is a damaged store's: the sort still orders it.
    if (e.lseq > to || slots[e.lseq - from - 1] !== undefined) return sort()
    slots[e.lseq - from - 1] = e
  }
  const out: StoredEntry[] = []
  for (const e of slots) if (e !== undefined) out.push(e)
  return out
}

/** The present entries of `cols` in key order, as keys and fields (no entry objects). */
export function presentInKeyOrder (cols: EntryColumns): SortedEntries {
  const order = keyOrder(cols.keys, cols.runEnds)
  const keys: string[] = []
  const values: string[] = []
  for (let i = 0; i < order.length; i++) {
    const e = order[i]
    if (cols.present[e] === 0) continue
    keys.push(cols.keys[e])
    values.push(cols.values[e])
  }
  return { keys, values }
}
