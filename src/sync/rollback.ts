/**
 * What a rollback changes: the entries to stamp anew so a dataset's content equals a snapshot's.
 * Pure, so the rule is tested apart from the store and the network.
 */
import type { Stamp } from '../crdt/hlc.js'
import type { Entry } from '../crdt/lww-set.js'

/**
 * New entries (stamped by `stamp`) that turn `current` into `snapshot`'s content: a key present in
 * the snapshot with another value (or absent now) comes back with the snapshot's value; a key
 * present now but absent or deleted in the snapshot becomes a tombstone. Keys that already agree
 * are left alone, so a rollback to the current content changes nothing.
 */
export function rollbackEntries (current: Iterable<Entry>, snapshot: Iterable<Entry>, stamp: () => Stamp): Entry[] {
  const want = new Map<string, string>()
  for (const e of snapshot) if (e.present) want.set(e.key, e.value)
  const out: Entry[] = []
  const seen = new Set<string>()
  for (const e of current) {
    seen.add(e.key)
    const value = want.get(e.key)
    if (value === undefined) {
      if (e.present) out.push({ key: e.key, value: '', present: false, stamp: stamp() })
    } else if (!e.present || e.value !== value) {
      out.push({ key: e.key, value, present: true, stamp: stamp() })
    }
  }
  for (const [key, value] of want) if (!seen.has(key)) out.push({ key, value, present: true, stamp: stamp() })
  return out
}
