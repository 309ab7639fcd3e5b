/**
 * A merge of entries from elsewhere into a dataset's held buckets, one bucket at a time: the
 * incoming entries are grouped by bucket, and each bucket is merged by {@link mergeEntries}
 * against its records as they are read (BucketCursor), decoded into objects only when an entry
 * wins, and encoded before the next, so an archive of the whole list (an initial sync) never has
 * every held entry decoded and staged at once, and a re-merge of what the node holds (the
 * origin of a change applying the master's version of it) builds nothing: what a bucket's merge
 * builds dies young, and what stays until the store has the change is its encoded bytes and the
 * entries that won. Changes nothing held: ListReplica writes the result, then applies it.
 */
import type { HybridClock } from '../crdt/hlc.js'
import type { EncodedList } from '../archive/list-codec.js'
import { mergeEntries, type Entry, type MakeEntry } from '../crdt/lww-set.js'
import type { StoredEntry } from '../store/state-store.js'
import { ENTRIES_PER_STEP, type EntryBuckets } from './entry-buckets.js'
import { noChange, type BucketChange } from './bucket-change.js'

/** How a merge marks what it writes. */
export interface MergeOptions {
  /** True when the entries are the central state (applied from the master): nothing to upload. */
  synced: boolean
  /**
   * The entries' list file as received, as a raw deflate stream, and as encoded when it is this
   * agent's encoding of them, and how many entries it holds: when they become the dataset's whole
   * content unchanged (an initial sync), the version snapshot and the deltas keep these bytes
   * instead of encoding and deflating the list again.
   */
  received?: { deflated?: Uint8Array, encoded?: EncodedList, entries: number }
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
 * Like the merges below, a generator of its steps (pace.ts): a step a bucket, or
 * {@link ENTRIES_PER_STEP} entries of a pass over them (a merge of 1M entries was 2 s in one piece).
 */
export function * mergeByBucket (held: EntryBuckets, incoming: Iterable<Entry>, clock: HybridClock, lseq: number, synced: boolean, observe: boolean): Generator<void, BucketMerge> {
  if (held.size === 0 && Array.isArray(incoming) && (yield * keysIncrease(incoming))) return yield * mergeIntoEmpty(held, incoming, clock, lseq, synced, observe)
  return yield * mergeEachBucket(held, incoming, clock, lseq, synced, observe)
}

/** {@link mergeByBucket}'s general path: each bucket's group staged against its records by {@link mergeEntries}. */
export function * mergeEachBucket (held: EntryBuckets, incoming: Iterable<Entry>, clock: HybridClock, lseq: number, synced: boolean, observe: boolean): Generator<void, BucketMerge> {
  const groups = yield * groupByBucket(held, incoming)
  const out: BucketMerge = { change: noChange(), changed: [], observed: observe ? [] : null, lseq }
  for (let b = 0; b < groups.length; b++) {
    const group = groups[b]
    if (group === undefined) continue
    groups[b] = undefined
    yield
    const startLseq = out.lseq
    const make: MakeEntry<StoredEntry> = (key, value, present, stamp) => ({ key, value, present, stamp, lseq: ++out.lseq, synced })
    // First compared against the records as they are read, without building them: a bucket
    // where nothing wins (a re-merge of what the node holds) is never decoded into objects.
    const cursor = held.cursor(b)
    let staged = yield * stage(group, clock, make, key => cursor.find(key))
    let before: ReadonlyMap<string, StoredEntry> | undefined
    if (!cursor.finish()) {
      // Records out of key order (written before format 4 sorted them): the answers may be wrong, merge again on the decoded bucket.
      out.lseq = startLseq
      const decoded = before = held.bucket(b, new Map())
      staged = yield * stage(group, clock, make, key => decoded.get(key))
    }
    if (staged.size === 0) continue
    before ??= held.bucket(b, new Map())
    const entries = [...staged.values()]
    yield * held.prepareBucket(b, before, entries, out.change)
    recordChanged(out, entries, before)
  }
  return out
}

/** The entries of `group` that win over what `held` finds (mergeEntries, {@link ENTRIES_PER_STEP} a step: the group of an empty bucket may be a whole list), by key. */
function * stage (group: readonly Entry[], clock: HybridClock, make: MakeEntry<StoredEntry>, held: (key: string) => StoredEntry | undefined): Generator<void, Map<string, StoredEntry>> {
  const staged = new Map<string, StoredEntry>()
  const states = { get: (key: string) => staged.get(key) ?? held(key), put: (e: StoredEntry) => { staged.set(e.key, e) } }
  for (let i = 0; i < group.length; i += ENTRIES_PER_STEP) {
    if (i > 0) yield
    mergeEntries(states, group.length <= ENTRIES_PER_STEP ? group : group.slice(i, i + ENTRIES_PER_STEP), clock, make)
  }
  return staged
}

/**
 * {@link mergeByBucket} of entries with strictly increasing keys (an archive's list: its decode
 * checks that) into a dataset that holds nothing (an initial sync): every entry wins, so each is
 * made a stored entry at once, with no lookup, staging map or comparison (the general path spent
 * ~0.6-0.85 s CPU on these at 121k entries), and the sorted entries are cut into buckets as they
 * come. Same result as {@link mergeEachBucket}: buckets in order, each stamp observed (clamped) by
 * the clock in that order, lseqs handed out in that order.
 */
export function * mergeIntoEmpty (held: EntryBuckets, incoming: readonly Entry[], clock: HybridClock, lseq: number, synced: boolean, observe: boolean): Generator<void, BucketMerge> {
  if (held.size !== 0 || !(yield * keysIncrease(incoming))) throw new Error('mergeIntoEmpty needs an empty dataset and strictly increasing keys')
  const groups = yield * groupByBucket(held, incoming)
  const out: BucketMerge = { change: noChange(), changed: [], observed: observe ? [] : null, lseq }
  const before: ReadonlyMap<string, StoredEntry> = new Map()
  for (let b = 0; b < groups.length; b++) {
    const group = groups[b]
    if (group === undefined) continue
    groups[b] = undefined
    yield
    const entries = new Array<StoredEntry>(group.length)
    for (let from = 0; from < group.length; from += ENTRIES_PER_STEP) {
      if (from > 0) yield
      makeStored(group, from, entries, clock, out, synced)
    }
    // A bucket's share of increasing keys increases: the encoder need not compare them again.
    yield * held.prepareBucket(b, before, entries, out.change, true)
    recordChanged(out, entries, before)
  }
  return out
}

// The loops over entries are plain functions a step long, not the generators' own: V8 optimises
// those, and a long loop inside a generator run once (a merge) ran much slower.

/** Makes up to {@link ENTRIES_PER_STEP} of `group`'s entries from `from` on stored entries (mergeIntoEmpty), into `entries`. */
function makeStored (group: readonly Entry[], from: number, entries: StoredEntry[], clock: HybridClock, out: BucketMerge, synced: boolean): void {
  for (let i = from; i < Math.min(group.length, from + ENTRIES_PER_STEP); i++) {
    const raw = group[i]
    const stamp = clock.observe(raw.stamp)
    entries[i] = { key: raw.key, value: raw.present ? raw.value : '', present: raw.present, stamp, lseq: ++out.lseq, synced }
  }
}

/** Adds a bucket's winners to `out`, each observed with what `before` held. */
function recordChanged (out: BucketMerge, entries: readonly StoredEntry[], before: ReadonlyMap<string, StoredEntry>): void {
  for (const after of entries) {
    out.changed.push(after)
    out.observed?.push({ before: before.size === 0 ? undefined : before.get(after.key), after })
  }
}

/** The entries by bucket of `held`, in their order. */
function * groupByBucket (held: EntryBuckets, incoming: Iterable<Entry>): Generator<void, Array<Entry[] | undefined>> {
  const groups = new Array<Entry[] | undefined>(held.buckets)
  const it = incoming[Symbol.iterator]()
  const at = { b: 0 }
  while (groupSome(held, it, groups, at)) yield
  return groups
}

/** Groups up to {@link ENTRIES_PER_STEP} more entries of `it`; false once it is done. `at.b`: the last entry's bucket, tried first for the next (an archive's keys come in order). */
function groupSome (held: EntryBuckets, it: Iterator<Entry>, groups: Array<Entry[] | undefined>, at: { b: number }): boolean {
  for (let n = 0; n < ENTRIES_PER_STEP; n++) {
    const next = it.next()
    if (next.done === true) return false
    const e = next.value
    at.b = held.indexOf(e.key, at.b);
    (groups[at.b] ??= []).push(e)
  }
  return true
}

/** True when each entry's key sorts after the one before it (so no key is repeated). */
function * keysIncrease (entries: readonly Entry[]): Generator<void, boolean> {
  for (let from = 1; from < entries.length; from += ENTRIES_PER_STEP) {
    if (from > 1) yield
    if (!keysIncreaseFrom(entries, from)) return false
  }
  return true
}

/** {@link keysIncrease} for up to {@link ENTRIES_PER_STEP} entries from `from` on. */
function keysIncreaseFrom (entries: readonly Entry[], from: number): boolean {
  for (let i = from; i < Math.min(entries.length, from + ENTRIES_PER_STEP); i++) if (!(entries[i - 1].key < entries[i].key)) return false
  return true
}
