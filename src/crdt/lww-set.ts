/**
 * The last-writer-wins rule of the list datasets, for one key: each key has one entry, and the
 * entry with the newer stamp wins. A delete is a tombstone (`present: false`) with a newer stamp,
 * so an older copy of the entry can never bring it back.
 *
 * {@link mergeEntries} is the one merge of list entries: ListReplica.merge (every archive, peer
 * and import) runs it. Its laws are proven on it in test/unit/crdt/lww-set.test.ts and on the
 * replica around it in test/unit/replica/list-replica-laws.test.ts.
 */
import { compareStamps, type HybridClock, type Stamp } from './hlc.js'

/** One element of a list dataset as it is stored and synced. */
export interface Entry {
  /** Normalised key (address, domain, wildcard, IP, CIDR). */
  key: string
  /** Free text after the key, kept as the operator wrote it; '' when there is none. */
  value: string
  /** False for a tombstone. */
  present: boolean
  /** When and where this state of the entry was written. */
  stamp: Stamp
}

/** Where a merge reads and stages the states of keys (a replica's transaction). */
export interface EntryStates<E extends Entry> {
  /** The state held for `key`, or undefined. */
  get: (key: string) => E | undefined
  /** Replaces the state of `entry.key`. */
  put: (entry: E) => void
}

/** Builds the stored form of a state that won a merge: the holder adds its own bookkeeping. */
export type MakeEntry<E extends Entry> = (key: string, value: string, present: boolean, stamp: Stamp) => E

/**
 * Joins entries from elsewhere into `states`, per key by the last-writer-wins rule. Each stamp
 * first passes through `clock`, which clamps a stamp from too far in the future to the bound
 * (now + maxSkewMs) and observes it, so later local stamps sort after it. A tombstone's value is
 * cleared, so copies of one delete that carry different values are one state and a re-merge is a
 * no-op. While the bound stands still this is a join: the states do not depend on the order,
 * grouping or repetition of merges. A tombstone within the bound is never undone by an older
 * copy; stamps beyond it count as made at the bound, so their order among themselves is lost.
 *
 * Only a winning entry is built (`make`) and put, in arrival order. Returns how many were put.
 */
export function mergeEntries<E extends Entry> (states: EntryStates<E>, incoming: Iterable<Entry>, clock: HybridClock, make: MakeEntry<E>): number {
  let put = 0
  for (const raw of incoming) {
    const stamp = clock.observe(raw.stamp)
    const value = raw.present ? raw.value : ''
    const current = states.get(raw.key)
    if (current !== undefined && !newer(stamp, raw.present, value, current)) continue
    states.put(make(raw.key, value, raw.present, stamp))
    put++
  }
  return put
}

/**
 * True when the state (stamp, present, value) sorts after `current`. Stamps decide; equal stamps
 * with different content (only a bug or a forged peer can make them) are ordered by content, a
 * present entry after a tombstone and a greater value after a smaller, so every replica picks
 * the same one. Takes the fields, not an entry: a merge builds an object only for a winner.
 */
function newer (stamp: Stamp, present: boolean, value: string, current: Entry): boolean {
  const byStamp = compareStamps(stamp, current.stamp)
  if (byStamp !== 0) return byStamp > 0
  if (present !== current.present) return present
  return value > current.value
}
