/**
 * The entries of one list dataset as this node holds them in memory: the store's encoded
 * buckets (bucket-codec.ts), the very bytes LevelDB holds, not one object per entry. The
 * 121,570-line blacklist held as a Map of entry objects was about 20 MB of heap and most of
 * what grew the young generation at load; as buckets it is about 4 MB. An entry is decoded when
 * asked for, one bucket at a time, and a change re-encodes only the buckets it touched, which
 * are also what the store writes.
 */
import { promisify } from 'node:util'
import { deflateRaw } from 'node:zlib'
import type { ListDataset } from '../constants.js'
import { EntryColumns } from '../crdt/entry-columns.js'
import { encodeColumns, keyOrder, type EncodedList } from '../archive/list-codec.js'
import type { SortedEntries } from '../settings/list-render.js'
import { BucketCursor, bucketStats, decodeBucket, decodeBucketColumns, encodeBucket, findInBucket } from '../store/bucket-codec.js'
import { bucketOf, ENTRY_BUCKETS, type StateStore, type StoredEntry } from '../store/state-store.js'
import { letGo } from '../large-garbage.js'

/**
 * How long an encoding of the entries ({@link EntryBuckets.encoded}) is kept for the next asker
 * while they do not change: the master's version snapshot and each slave's fetch of that version
 * come within seconds; idle, the bytes (4.6 MB at 121k entries) are not held.
 */
const ENCODING_HOLD_MS = 30_000

// On the zlib thread pool: the event loop keeps serving while a snapshot is deflated.
const deflateRawAsync = promisify(deflateRaw)

/** Entries a step of a long loop goes through (pace.ts): a few ms of work. */
export const ENTRIES_PER_STEP = 2048

/** Decoded buckets by number: what a transaction has read, before its change. */
export type DecodedBuckets = Map<number, Map<string, StoredEntry>>

/** A change to the held buckets, encoded and not yet visible: the store writes `writes` first. */
export interface BucketChange {
  /** Each touched bucket with its new bytes (null: now empty) and, when entries were put in it, their newest and oldest change sequence and newest wall time. */
  writes: Array<{ bucket: number, bytes: Uint8Array | null, put?: { newestLseq: number, oldestLseq: number, newestWall: number } }>
  /** Change of the present count, of the entry count and of the count of entries from the central state. */
  presentDelta: number
  sizeDelta: number
  syncedDelta: number
}

/** How ListReplica.load reads the entries. */
export interface LoadOptions {
  /** 'now' (default): every dataset at load; 'onDemand': a dataset at its first change. */
  entries?: 'now' | 'onDemand'
}

/** One dataset's entries as encoded buckets. */
export class EntryBuckets {
  private readonly bytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(ENTRY_BUCKETS)
  /**
   * Per bucket, no entry in it has a later local change sequence (an upper bound: a drop leaves
   * it): what changed since a point is read from those buckets only, without the store's change
   * log or a lookup per key.
   */
  private readonly newestLseq = new Float64Array(ENTRY_BUCKETS)
  /** No entry has an earlier local change sequence (a lower bound: a change or drop may raise the true one). */
  private oldestLseq = Infinity
  /** The last encoding {@link encoded} made, until the next change or {@link ENCODING_HOLD_MS}. */
  private lastEncoding: { since: number, ownOnly: boolean, list: EncodedList } | null = null
  /** The whole list's encoding as a raw deflate stream, as received ({@link keepReceived}), for as long. */
  private received: { deflated: Uint8Array } | null = null
  /** Entries present (not tombstones). */
  presentCount = 0
  /** Entries, tombstones included. */
  size = 0
  /** Entries from the central state (an upload leaves them out). */
  private syncedCount = 0
  /** The latest stamp wall time of any entry (0 for none). */
  newestWall = 0

  constructor (readonly dataset: ListDataset) {}

  /** A dataset's buckets as the store holds them. */
  static async load (store: StateStore, dataset: ListDataset): Promise<EntryBuckets> {
    const held = new EntryBuckets(dataset)
    for (const { bucket, bytes, where } of await store.loadBuckets(dataset)) {
      const stats = bucketStats(bytes, where)
      held.bytes[bucket] = bytes
      held.newestLseq[bucket] = stats.newestLseq
      held.oldestLseq = Math.min(held.oldestLseq, stats.oldestLseq)
      held.presentCount += stats.present
      held.size += stats.entries
      held.syncedCount += stats.synced
      if (stats.newestWall > held.newestWall) held.newestWall = stats.newestWall
    }
    return held
  }

  /** One entry, or undefined (decodes only up to it, in its bucket). */
  get (key: string): StoredEntry | undefined {
    const b = bucketOf(key)
    const bytes = this.bytes[b]
    return bytes === undefined ? undefined : findInBucket(bytes, key, this.where(b))
  }

  /** The entries of `keys` that are held, each bucket decoded once. */
  lookup (keys: Iterable<string>): Map<string, StoredEntry> {
    const decoded: DecodedBuckets = new Map()
    const out = new Map<string, StoredEntry>()
    for (const key of keys) {
      const e = this.bucket(bucketOf(key), decoded).get(key)
      if (e !== undefined) out.set(key, e)
    }
    return out
  }

  /** A bucket's entries by key, decoded once per `decoded` (a transaction's or a lookup's). */
  bucket (b: number, decoded: DecodedBuckets): Map<string, StoredEntry> {
    let map = decoded.get(b)
    if (map === undefined) {
      map = new Map()
      const bytes = this.bytes[b]
      if (bytes !== undefined) {
        const list: StoredEntry[] = []
        decodeBucket(bytes, list, this.where(b))
        for (const e of list) map.set(e.key, e)
      }
      decoded.set(b, map)
    }
    return map
  }

  /** A cursor over bucket `b`'s records, for comparing without building them. */
  cursor (b: number): BucketCursor {
    return new BucketCursor(this.bytes[b], this.where(b))
  }

  /** Every entry, tombstones included, a bucket at a time. */
  * values (): Generator<StoredEntry, void, undefined> {
    for (let b = 0; b < ENTRY_BUCKETS; b++) {
      const bytes = this.bytes[b]
      if (bytes === undefined) continue
      const list: StoredEntry[] = []
      decodeBucket(bytes, list, this.where(b))
      yield * list
    }
  }

  /** The entries changed after local change sequence `lseq` (`ownOnly`: not from the central state), in no particular order. */
  changedSince (lseq: number, ownOnly = false): StoredEntry[] {
    const out: StoredEntry[] = []
    for (let b = 0; b < ENTRY_BUCKETS; b++) {
      const bytes = this.bytes[b]
      if (bytes !== undefined && this.newestLseq[b] > lseq) decodeBucket(bytes, out, this.where(b), lseq, ownOnly)
    }
    return out
  }

  /**
   * Every entry as columns, one run per bucket; with `lseq`, only those changed after it
   * (`ownOnly`: not from the central state), read from the buckets holding such changes only.
   */
  columns (lseq = -1, ownOnly = false): EntryColumns {
    const out = new EntryColumns()
    for (let b = 0; b < ENTRY_BUCKETS; b++) {
      const bytes = this.bytes[b]
      if (bytes !== undefined && this.newestLseq[b] > lseq) decodeBucketColumns(bytes, out, this.where(b), lseq, ownOnly)
    }
    return out
  }

  /**
   * {@link columns} encoded as an archive's list file, made once while the entries do not change:
   * after an initial sync the master's version snapshot and every fetcher's delta are the whole
   * list (121k entries: ~0.6 s of CPU each). A change after a point older than every entry is
   * every entry, and this node's own changes are every change while none came from the central
   * state (a slave's upload of a list dropped in, then its snapshot), so those share one encoding.
   */
  encoded (lseq = -1, own = false): EncodedList {
    const since = lseq < this.oldestLseq ? -1 : lseq
    const ownOnly = own && this.syncedCount > 0
    const last = this.lastEncoding
    if (last !== null && last.since === since && last.ownOnly === ownOnly) return last.list
    return this.keepEncoding(since, ownOnly, encodeColumns(this.columns(since, ownOnly)))
  }

  // Holds `list` as the encoding of the entries changed since `since` for ENCODING_HOLD_MS, or until the next change.
  private keepEncoding (since: number, ownOnly: boolean, list: EncodedList): EncodedList {
    const kept = { since, ownOnly, list }
    this.lastEncoding = kept
    setTimeout(() => {
      if (this.lastEncoding !== kept) return
      this.lastEncoding = null
      letGo(kept.list.data.byteLength)
    }, ENCODING_HOLD_MS).unref()
    return list
  }

  /** {@link encoded} as a raw deflate stream (level 1: a version snapshot), or the bytes received for the whole list. */
  async deflated (lseq = -1, ownOnly = false): Promise<Uint8Array> {
    const received = this.received
    if (received !== null && !ownOnly && lseq < this.oldestLseq) return received.deflated
    return await deflateRawAsync(this.encoded(lseq, ownOnly).data, { level: 1 })
  }

  /**
   * Records that the entries are exactly those of a list file received as `deflated` (a raw
   * deflate stream), which {@link deflated} then hands out for the whole list until the next
   * change: a slave's version snapshot after an initial sync is the archive it applied. The file
   * itself, when it is this agent's encoding of them (`encoded`), is {@link encoded} of every
   * entry until then: the master's delta after it merged an upload into an empty dataset is that
   * upload's list file, passed on without encoding, hashing or deflating it again.
   */
  keepReceived (received: { deflated?: Uint8Array, encoded?: EncodedList }): void {
    const { deflated, encoded } = received
    if (encoded !== undefined && encoded.entries === this.size) this.keepEncoding(-1, false, encoded)
    if (deflated === undefined) return
    const kept = { deflated }
    this.received = kept
    setTimeout(() => { if (this.received === kept) this.received = null }, ENCODING_HOLD_MS).unref()
  }

  /**
   * Encodes the buckets `staged` touches with it put over what they hold (`decoded` has those
   * read already), changing nothing held: {@link apply} does, once the store has the writes.
   * A generator of its steps (pace.ts), one a bucket: a scan that stamped a 1M-line file encodes
   * every bucket.
   */
  * prepare (staged: ReadonlyMap<string, StoredEntry>, decoded: DecodedBuckets): Generator<void, BucketChange> {
    const touched = new Map<number, StoredEntry[]>()
    const entries = staged.values()
    while (bySomeBucket(entries, touched)) yield
    const change: BucketChange = { writes: [], presentDelta: 0, sizeDelta: 0, syncedDelta: 0 }
    for (const [b, entries] of touched) {
      this.prepareBucket(b, this.bucket(b, decoded), entries, change)
      yield
    }
    return change
  }

  /** Adds to `change` bucket `b` (holding `before`) with `entries` (each key once; `sorted`: in increasing key order) put over it. */
  prepareBucket (b: number, before: ReadonlyMap<string, StoredEntry>, entries: readonly StoredEntry[], change: BucketChange, sorted = false): void {
    const put = { newestLseq: 0, oldestLseq: Infinity, newestWall: 0 }
    for (const e of entries) {
      // A bucket that held nothing (an initial sync) has no entry to look up.
      const old = before.size === 0 ? undefined : before.get(e.key)
      if (old === undefined) change.sizeDelta++
      change.presentDelta += (e.present ? 1 : 0) - (old?.present === true ? 1 : 0)
      change.syncedDelta += (e.synced ? 1 : 0) - (old?.synced === true ? 1 : 0)
      if (e.lseq > put.newestLseq) put.newestLseq = e.lseq
      if (e.lseq < put.oldestLseq) put.oldestLseq = e.lseq
      if (e.stamp.wallMs > put.newestWall) put.newestWall = e.stamp.wallMs
    }
    // Nor a copy to make: it is the staged entries alone.
    change.writes.push({ bucket: b, bytes: before.size === 0 ? encodeBucket(entries, sorted) : encodeBucket(overlay(before, entries)), put })
  }

  /** Encodes the buckets of `keys` without them (a drop: no new stamp), changing nothing held; {@link apply} does. */
  prepareDrop (keys: Iterable<string>, decoded: DecodedBuckets): BucketChange {
    const after = new Map<number, Map<string, StoredEntry>>()
    const change: BucketChange = { writes: [], presentDelta: 0, sizeDelta: 0, syncedDelta: 0 }
    for (const key of keys) {
      const b = bucketOf(key)
      let entries = after.get(b)
      if (entries === undefined) after.set(b, entries = new Map(this.bucket(b, decoded)))
      const old = entries.get(key)
      if (old === undefined) continue
      change.sizeDelta--
      change.presentDelta -= old.present ? 1 : 0
      change.syncedDelta -= old.synced ? 1 : 0
      entries.delete(key)
    }
    for (const [b, entries] of after) change.writes.push({ bucket: b, bytes: encodeBucket(entries.values()) })
    return change
  }

  /** Makes a prepared change held. */
  apply (change: BucketChange): void {
    for (const { bucket, bytes, put } of change.writes) {
      this.bytes[bucket] = bytes ?? undefined
      if (put === undefined) continue
      if (put.newestLseq > this.newestLseq[bucket]) this.newestLseq[bucket] = put.newestLseq
      if (put.oldestLseq < this.oldestLseq) this.oldestLseq = put.oldestLseq
      if (put.newestWall > this.newestWall) this.newestWall = put.newestWall
    }
    this.presentCount += change.presentDelta
    this.size += change.sizeDelta
    this.syncedCount += change.syncedDelta
    // A commit of the file view alone changes no entry: what was encoded still holds.
    if (change.writes.length > 0) [this.lastEncoding, this.received] = [null, null]
  }

  private where (b: number): string {
    return `held ${this.dataset} bucket ${b}`
  }
}

/** Groups up to {@link ENTRIES_PER_STEP} more of `entries` by bucket; false once they are done (a plain function: V8 optimises it, not a long loop in a generator run once). */
function bySomeBucket (entries: Iterator<StoredEntry>, touched: Map<number, StoredEntry[]>): boolean {
  for (let n = 0; n < ENTRIES_PER_STEP; n++) {
    const next = entries.next()
    if (next.done === true) return false
    const b = bucketOf(next.value.key)
    let list = touched.get(b)
    if (list === undefined) touched.set(b, list = [])
    list.push(next.value)
  }
  return true
}

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

/** A bucket's entries with `entries` put over them. */
function overlay (before: ReadonlyMap<string, StoredEntry>, entries: readonly StoredEntry[]): IterableIterator<StoredEntry> {
  const after = new Map(before)
  for (const e of entries) after.set(e.key, e)
  return after.values()
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
