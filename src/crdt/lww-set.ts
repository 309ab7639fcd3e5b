/**
 * The last-writer-wins rule of the list datasets, for one key: each key has one entry, and the
 * entry with the newer stamp wins. A delete is a tombstone (`present: false`) with a newer stamp,
 * so an older copy of the entry can never bring it back. The set that applies this rule is
 * ListReplica (src/replica/list-replica.ts); its merge is proven commutative, associative and
 * idempotent in test/unit/replica/list-replica-laws.test.ts.
 */
import { compareStamps, type Stamp } from './hlc.js'

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

/**
 * Orders two states of one key. Stamps decide; equal stamps with different content (only a bug
 * or a forged peer can make them) are ordered by content so every replica picks the same one.
 */
function compareEntries (a: Entry, b: Entry): number {
  const byStamp = compareStamps(a.stamp, b.stamp)
  if (byStamp !== 0) return byStamp
  if (a.present !== b.present) return a.present ? 1 : -1
  if (a.value === b.value) return 0
  return a.value < b.value ? -1 : 1
}

/** The state that survives when `incoming` meets `current`: `current` unless `incoming` is greater. */
export function winner (current: Entry | undefined, incoming: Entry): Entry {
  if (current === undefined) return incoming
  return compareEntries(incoming, current) > 0 ? incoming : current
}
