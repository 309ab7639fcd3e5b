/**
 * The entries of one list dataset as this node holds them in memory: the store's encoded
 * buckets (bucket-codec.ts), the very bytes LevelDB holds, not one object per entry. The
 * 121,570-line blacklist held as a Map of entry objects was about 20 MB of heap and most of
 * what grew the young generation at load; as buckets it is about 4 MB. An entry is decoded when
 * asked for, one bucket at a time, and a change re-encodes only the buckets it touched, which
 * are also what the store writes. A bucket is a range of keys (store/bucket-layout.ts): held in
 * key order, so every read of them all is in key order too, and cut in pieces by the change that
 * takes it past 512 entries. A bucket a drop empties is deleted (its range joins the one before);
 * small buckets are not merged back: a list that shrinks keeps small buckets, a few hundred bytes each.
 */
import { promisify } from 'node:util'
import { deflateRaw } from 'node:zlib'
import type { ListDataset } from '../constants.js'
import { EntryColumns } from '../crdt/entry-columns.js'
import { encodeColumns, type EncodedList } from '../archive/list-codec.js'
import { BucketCursor, bucketStats, decodeBucket, decodeBucketColumns, encodeBucket, findInBucket } from '../store/bucket-codec.js'
import { decodeBucketPresent, type PresentEntries } from '../store/bucket-present.js'
import { compareKeys, pieceEnds, rangeOf } from '../store/bucket-layout.js'
import type { StateStore, StoredEntry } from '../store/state-store.js'
import { StoreFormatError } from '../errors.js'
import { letGo } from '../large-garbage.js'
import { putOver, sortedPaced } from './paced-sort.js'
import { ownCopy } from '../settings/key-column.js'
import { noChange, type BucketChange } from './bucket-change.js'

export { byLseq, presentInKeyOrder } from './entry-order.js'

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

/** Decoded buckets by lower bound: what a transaction has read, before its change. */
export type DecodedBuckets = Map<string, Map<string, StoredEntry>>

/** How ListReplica.load reads the entries. */
export interface LoadOptions {
  /** 'now' (default): every dataset at load; 'onDemand': a dataset at its first change. */
  entries?: 'now' | 'onDemand'
}

/** One dataset's entries as encoded buckets. */
export class EntryBuckets {
  /** The buckets' lower bounds, increasing, the first ''; the arrays below go by the same index. */
  private readonly bounds: string[] = ['']
  /** Each bucket's bytes; only the first may hold nothing (undefined). */
  private readonly bytes: Array<Uint8Array | undefined> = [undefined]
  /**
   * Per bucket, no entry in it has a later local change sequence: what changed since a point is
   * read from those buckets only, without the store's change log or a lookup per key.
   */
  private readonly newestLseq: number[] = [0]
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
    const stored = await store.loadBuckets(dataset)
    // The store's order is UTF-8's, the buckets' JavaScript's: they differ past U+FFFF.
    stored.sort((a, b) => compareKeys(a.bound, b.bound))
    for (let i = 0; i < stored.length; i++) {
      const { bound, bytes, where } = stored[i]
      const stats = bucketStats(bytes, where)
      // Each bucket's keys lie in its range: else a key could be held twice, or looked for in the wrong bucket.
      const next = stored[i + 1]?.bound
      if (stats.entries === 0 || stats.firstKey < bound || (next !== undefined && stats.lastKey >= next)) {
        throw new StoreFormatError(`${where}: keys ${JSON.stringify(stats.firstKey)} to ${JSON.stringify(stats.lastKey)} out of its range (up to ${JSON.stringify(next ?? null)})`)
      }
      if (bound !== '') held.bounds.push(bound)
      held.bytes[held.bounds.length - 1] = bytes
      held.newestLseq[held.bounds.length - 1] = stats.newestLseq
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
    const b = this.indexOf(key)
    const bytes = this.bytes[b]
    return bytes === undefined ? undefined : findInBucket(bytes, key, this.where(b))
  }

  /** The index of the bucket of `key` (`hint`: the index to try first). */
  indexOf (key: string, hint = 0): number {
    return rangeOf(this.bounds, key, hint)
  }

  /** How many buckets there are (indexes from 0). */
  get buckets (): number {
    return this.bounds.length
  }

  /** The entry of `key` held, or undefined, its bucket decoded once per `decoded`. */
  find (key: string, decoded: DecodedBuckets): StoredEntry | undefined {
    return this.bucket(this.indexOf(key), decoded).get(key)
  }

  /** The entries of `keys` that are held, each bucket decoded once. */
  lookup (keys: Iterable<string>): Map<string, StoredEntry> {
    const decoded: DecodedBuckets = new Map()
    const out = new Map<string, StoredEntry>()
    for (const key of keys) {
      const e = this.find(key, decoded)
      if (e !== undefined) out.set(key, e)
    }
    return out
  }

  /** Bucket `b`'s entries by key, decoded once per `decoded` (a transaction's or a lookup's). */
  bucket (b: number, decoded: DecodedBuckets): Map<string, StoredEntry> {
    let map = decoded.get(this.bounds[b])
    if (map === undefined) {
      map = new Map()
      const bytes = this.bytes[b]
      if (bytes !== undefined) {
        const list: StoredEntry[] = []
        decodeBucket(bytes, list, this.where(b))
        for (const e of list) map.set(e.key, e)
      }
      decoded.set(this.bounds[b], map)
    }
    return map
  }

  /** A cursor over bucket `b`'s records, for comparing without building them. */
  cursor (b: number): BucketCursor {
    return new BucketCursor(this.bytes[b], this.where(b))
  }

  /** Every entry, tombstones included, a bucket at a time, in key order. */
  * values (): Generator<StoredEntry, void, undefined> {
    for (let b = 0; b < this.bytes.length; b++) {
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
    for (let b = 0; b < this.bytes.length; b++) {
      const bytes = this.bytes[b]
      if (bytes !== undefined && this.newestLseq[b] > lseq) decodeBucket(bytes, out, this.where(b), lseq, ownOnly)
    }
    return out
  }

  /**
   * Every entry as columns, one run per bucket, in key order; with `lseq`, only those changed after it
   * (`ownOnly`: not from the central state), read from the buckets holding such changes only.
   */
  columns (lseq = -1, ownOnly = false): EntryColumns {
    const out = new EntryColumns()
    for (let b = 0; b < this.bytes.length; b++) {
      const bytes = this.bytes[b]
      if (bytes !== undefined && this.newestLseq[b] > lseq) decodeBucketColumns(bytes, out, this.where(b), lseq, ownOnly)
    }
    return out
  }

  /** The present entries in key order (a list file's write), from the records with no columns, stamps or sort; null when a bucket's are out of order. */
  presentInKeyOrder (): PresentEntries | null {
    const out: PresentEntries = { keys: [], values: [] }
    return this.bytes.every((bytes, b) => bytes === undefined || decodeBucketPresent(bytes, out, this.where(b))) ? out : null
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

  /** Whether every entry changed after local change sequence `lseq` (none held: true), so the entries changed since are all of them. */
  allChangedSince (lseq: number): boolean {
    return lseq < this.oldestLseq
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
    while (bySomeBucket(this, entries, touched)) yield
    const change = noChange()
    for (const [b, entries] of touched) {
      yield * this.prepareBucket(b, this.bucket(b, decoded), entries, change)
      yield
    }
    return change
  }

  /**
   * Adds to `change` bucket `b` (holding `before`) with `entries` (each key once, in its range;
   * `sorted`: in increasing key order) put over it, cut in pieces past MAX_BUCKET_ENTRIES
   * (bucket-layout.ts). A step per piece: an initial sync cuts 1M entries.
   */
  * prepareBucket (b: number, before: ReadonlyMap<string, StoredEntry>, entries: readonly StoredEntry[], change: BucketChange, sorted = false): Generator<void, void> {
    for (let from = 0; from < entries.length; from += ENTRIES_PER_STEP) {
      if (from > 0) yield
      countPut(before, entries, from, change)
    }
    const put = sorted ? entries : yield * sortedPaced([...entries], ENTRIES_PER_STEP)
    // Nor a copy to make when the bucket held nothing: it is the entries put alone.
    const after = before.size === 0 ? put : putOver(yield * sortedPaced([...before.values()], ENTRIES_PER_STEP), put)
    const ends = pieceEnds(after.length)
    let from = 0
    for (const end of ends) {
      const piece = ends.length === 1 ? after : after.slice(from, end)
      change.writes.push({ bucket: from === 0 ? this.bounds[b] : piece[0].key, bytes: encodeBucket(piece, true), newestLseq: newestLseq(piece) })
      from = end
      if (ends.length > 1) yield
    }
  }

  /** Encodes the buckets of `keys` without them (a drop: no new stamp), changing nothing held; {@link apply} does. */
  prepareDrop (keys: Iterable<string>, decoded: DecodedBuckets): BucketChange {
    const after = new Map<number, Map<string, StoredEntry>>()
    const change = noChange()
    for (const key of keys) {
      const b = this.indexOf(key)
      let entries = after.get(b)
      if (entries === undefined) after.set(b, entries = new Map(this.bucket(b, decoded)))
      const old = entries.get(key)
      if (old === undefined) continue
      change.sizeDelta--
      change.presentDelta -= old.present ? 1 : 0
      change.syncedDelta -= old.synced ? 1 : 0
      entries.delete(key)
    }
    for (const [b, entries] of after) {
      const left = [...entries.values()]
      change.writes.push({ bucket: this.bounds[b], bytes: encodeBucket(left), newestLseq: newestLseq(left) })
    }
    return change
  }

  /** Makes a prepared change held: each write's bucket found by its bound, or added (a piece of a cut), or deleted. */
  apply (change: BucketChange): void {
    for (const { bucket, bytes, newestLseq } of change.writes) {
      const last = this.bounds.length - 1
      // A cut's pieces come in key order: mostly after the last bound (an initial sync).
      const b = bucket > this.bounds[last] ? last : this.indexOf(bucket)
      if (this.bounds[b] !== bucket) {
        if (bytes === null) continue
        // A piece's bound is its first key, a slice of the text it was read from (the whole list
        // file at a first scan): a copy, or the bounds would hold that text for the agent's life.
        this.bounds.splice(b + 1, 0, ownCopy(bucket))
        this.bytes.splice(b + 1, 0, bytes)
        this.newestLseq.splice(b + 1, 0, newestLseq)
      } else if (bytes === null && b > 0) {
        this.bounds.splice(b, 1)
        this.bytes.splice(b, 1)
        this.newestLseq.splice(b, 1)
      } else {
        this.bytes[b] = bytes ?? undefined
        this.newestLseq[b] = newestLseq
      }
    }
    if (change.oldestLseq < this.oldestLseq) this.oldestLseq = change.oldestLseq
    if (change.newestWall > this.newestWall) this.newestWall = change.newestWall
    this.presentCount += change.presentDelta
    this.size += change.sizeDelta
    this.syncedCount += change.syncedDelta
    // A commit of the file view alone changes no entry: what was encoded still holds.
    if (change.writes.length > 0) [this.lastEncoding, this.received] = [null, null]
  }

  private where (b: number): string {
    return `held ${this.dataset} bucket ${JSON.stringify(this.bounds[b])}`
  }
}

/** Groups up to {@link ENTRIES_PER_STEP} more of `entries` by bucket of `held`; false once they are done (a plain function: V8 optimises it, not a long loop in a generator run once). */
function bySomeBucket (held: EntryBuckets, entries: Iterator<StoredEntry>, touched: Map<number, StoredEntry[]>): boolean {
  let b = 0
  for (let n = 0; n < ENTRIES_PER_STEP; n++) {
    const next = entries.next()
    if (next.done === true) return false
    b = held.indexOf(next.value.key, b)
    let list = touched.get(b)
    if (list === undefined) touched.set(b, list = [])
    list.push(next.value)
  }
  return true
}

/** Counts into `change` up to {@link ENTRIES_PER_STEP} of `entries` from `from` on, put over `before`. */
function countPut (before: ReadonlyMap<string, StoredEntry>, entries: readonly StoredEntry[], from: number, change: BucketChange): void {
  for (let i = from; i < Math.min(entries.length, from + ENTRIES_PER_STEP); i++) {
    const e = entries[i]
    // A bucket that held nothing (an initial sync) has no entry to look up.
    const old = before.size === 0 ? undefined : before.get(e.key)
    if (old === undefined) change.sizeDelta++
    change.presentDelta += (e.present ? 1 : 0) - (old?.present === true ? 1 : 0)
    change.syncedDelta += (e.synced ? 1 : 0) - (old?.synced === true ? 1 : 0)
    if (e.lseq < change.oldestLseq) change.oldestLseq = e.lseq
    if (e.stamp.wallMs > change.newestWall) change.newestWall = e.stamp.wallMs
  }
}

/** The newest change sequence of `entries` (0 for none). */
function newestLseq (entries: readonly StoredEntry[]): number {
  let newest = 0
  for (const e of entries) if (e.lseq > newest) newest = e.lseq
  return newest
}

