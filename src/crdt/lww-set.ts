/**
 * Last-writer-wins element set: the model of every list dataset. Each key has one entry; the
 * entry with the newer stamp wins. A delete is a tombstone (`present: false`) with a newer stamp,
 * so an older copy of the entry can never bring it back. Merging is commutative, associative
 * and idempotent, so replicas that have seen the same entries agree whatever the order.
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
export function compareEntries (a: Entry, b: Entry): number {
  const byStamp = compareStamps(a.stamp, b.stamp)
  if (byStamp !== 0) return byStamp
  if (a.present !== b.present) return a.present ? 1 : -1
  if (a.value === b.value) return 0
  return a.value < b.value ? -1 : 1
}

/** The state that survives when `incoming` meets `current`. */
export function winner (current: Entry | undefined, incoming: Entry): Entry {
  if (current === undefined) return incoming
  return compareEntries(incoming, current) > 0 ? incoming : current
}

/** A replica of one list dataset. */
export class LwwSet {
  private readonly entries = new Map<string, Entry>()

  constructor (entries: Iterable<Entry> = []) {
    for (const entry of entries) this.entries.set(entry.key, entry)
  }

  get (key: string): Entry | undefined {
    return this.entries.get(key)
  }

  /** Number of entries, tombstones included. */
  get size (): number {
    return this.entries.size
  }

  /** Entries that are present (not tombstones). */
  get presentCount (): number {
    let n = 0
    for (const e of this.entries.values()) if (e.present) n++
    return n
  }

  /** All entries, tombstones included. */
  values (): IterableIterator<Entry> {
    return this.entries.values()
  }

  /** Joins entries into this replica; returns the entries that changed it. */
  merge (incoming: Iterable<Entry>): Entry[] {
    const changed: Entry[] = []
    for (const entry of incoming) {
      const current = this.entries.get(entry.key)
      const next = winner(current, entry)
      if (next !== current) {
        this.entries.set(entry.key, next)
        changed.push(next)
      }
    }
    return changed
  }

  /** A copy holding the same entries. */
  clone (): LwwSet {
    return new LwwSet(this.entries.values())
  }
}
