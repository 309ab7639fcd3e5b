/**
 * A merge of entries from elsewhere into a dataset's held buckets, one bucket at a time: the
 * incoming entries are grouped by bucket, and each bucket is decoded, merged by
 * {@link mergeEntries} and encoded before the next, so an archive of the whole list (an initial
 * sync) never has every held entry decoded and staged at once: what a bucket's merge builds
 * dies young, and what stays until the store has the change is its encoded bytes and the
 * entries that won. Changes nothing held: ListReplica writes the result, then applies it.
 */
import type { HybridClock } from '../crdt/hlc.js'
import { mergeEntries, type Entry } from '../crdt/lww-set.js'
import { bucketOf, ENTRY_BUCKETS, type StoredEntry } from '../store/state-store.js'
import type { BucketChange, EntryBuckets } from './entry-buckets.js'

/** How a merge marks what it writes. */
export interface MergeOptions {
  /** True when the entries are the central state (applied from the master): nothing to upload. */
  synced: boolean
  /**
   * The entries' list file as received, as a raw deflate stream, and how many entries it holds:
   * when they become the dataset's whole content unchanged (an initial sync), the version
   * snapshot keeps these bytes instead of encoding and deflating the list again.
   */
  received?: { deflated: Uint8Array, entries: number }
}

/** An entry a merge changed, with what was held before. */
export interface MergedChange {
  before: StoredEntry | undefined
  after: StoredEntry
}

/** What a bucketwise merge would change. */
export interface BucketMerge {
  change: BucketChange
  /** The entries that won, each with the next local change sequence. */
  changed: StoredEntry[]
  /** Each with what it replaced, when asked for (the replica's onCommit); else null. */
  observed: MergedChange[] | null
  /** The last local change sequence handed out. */
  lseq: number
}

/**
 * Merges `incoming` into `held` by the last-writer-wins rule ({@link mergeEntries}, on `clock`),
 * handing out change sequences after `lseq`; `synced` marks the winners as the central state.
 */
export function mergeByBucket (held: EntryBuckets, incoming: Iterable<Entry>, clock: HybridClock, lseq: number, synced: boolean, observe: boolean): BucketMerge {
  const groups = new Array<Entry[] | undefined>(ENTRY_BUCKETS)
  for (const e of incoming) (groups[bucketOf(e.key)] ??= []).push(e)
  const out: BucketMerge = { change: { writes: [], presentDelta: 0, sizeDelta: 0, syncedDelta: 0 }, changed: [], observed: observe ? [] : null, lseq }
  for (let b = 0; b < ENTRY_BUCKETS; b++) {
    const group = groups[b]
    if (group === undefined) continue
    groups[b] = undefined
    const before = held.bucket(b, new Map())
    const staged = new Map<string, StoredEntry>()
    const states = { get: (key: string) => staged.get(key) ?? before.get(key), put: (e: StoredEntry) => { staged.set(e.key, e) } }
    mergeEntries(states, group, clock, (key, value, present, stamp) => ({ key, value, present, stamp, lseq: ++out.lseq, synced }))
    if (staged.size === 0) continue
    const entries = [...staged.values()]
    held.prepareBucket(b, before, entries, out.change)
    for (const after of entries) {
      out.changed.push(after)
      out.observed?.push({ before: before.get(after.key), after })
    }
  }
  return out
}
