/**
 * Durable agent state in LevelDB. Every write that belongs together goes in one batch, so a
 * crash leaves the old or the new state, never a mix.
 *
 * Key layout (one LevelDB, string keys, '!' separates the parts; a dataset name never has '!';
 * bucket values are laid out in bucket-codec.ts):
 *
 * | key                          | value                         | why                                   |
 * |------------------------------|-------------------------------|---------------------------------------|
 * | `m!<name>`                   | JSON                          | node meta: identity, clock, versions  |
 * | `e!<dataset>!<bucket:hex2>`  | bytes: node ids, records      | the replica's entries, by key hash    |
 * | `v!<term:hex8>!<seq:hex8>`   | JSON {lseq, ...}              | central version -> change sequence    |
 * | `x!<name>` (binary values)   | bytes                         | Bayes snapshot, change log, baseline; |
 * |                              |                               | `history!<term>!<seq>!<dataset>` list |
 * |                              |                               | snapshots of kept central versions    |
 *
 * `lseq` is this node's local change sequence: every change to the replica (a local edit or a
 * merged remote entry) takes the next number, stored with the entry; "all changes since X" reads
 * only the buckets whose newest lseq is after X (replica/entry-buckets.ts), so no change log is
 * kept (it grew by every key ever changed). Entries are grouped into {@link ENTRY_BUCKETS} buckets by a
 * hash of their key, and a commit rewrites only the buckets it touched: one value per key made
 * the first scan of that list 243k LevelDB operations; buckets make it 256, and a one-line
 * change still rewrites one small value. The file view of each dataset (what its settings file held when
 * last read or written) is one binary value, `x!fileview!<dataset>`: the file's text as it was
 * (UTF-8), written in the same batch as the entries, so an unchanged file is known without
 * parsing it. A small change to a big file's view is stored as a patch of it instead,
 * `x!fileview!<dataset>!patch!<n:hex8>` (replica/view-patch.ts): at most 16, applied in order.
 *
 * Formats: 6 (this one); 5 kept a change log (`c!<dataset>!<lseq>` records, the keys of each
 * commit), and is migrated to 6 by deleting it with the new format number (an agent of format 5
 * would read the missing log as "nothing changed" and miss changes, so it refuses 6);
 * 4 also had no file view patches, and is migrated the same way (an agent of format 4 would read
 * a patched view without its patches);
 * 3 kept each bucket as JSON (decoding it was a third of an export of a 121k-entry list), and is
 * migrated to 6 when opened; 2 also kept the file view as `key TAB value` lines and a node id in
 * every entry record, and is migrated to 6 when opened (its views become
 * files of those entries, which parse to the same entries; the next scan diffs the real file
 * against them as before). Any other format is refused.
 */
import { Level } from 'level'
import { DataDirInUseError, StoreFormatError } from '../errors.js'
import { EntryColumns } from '../crdt/entry-columns.js'
import type { BayesCounts, ChangeSummary } from '../archive/change-summary.js'
import { decodeBucket, decodeBucketColumns, decodeBucketV2, decodeBucketV3, encodeBucket, type StoredEntry } from './bucket-codec.js'

export type { StoredEntry } from './bucket-codec.js'

/** Layout version of this store; a data folder of another layout is migrated (2, 3, 4, 5) or refused, not misread. */
export const STORE_FORMAT = 6

/** Blob name of a dataset's file view (its full text). */
export const fileViewName = (dataset: string): string => `fileview!${dataset}`

/** Blob name of the `n`th patch (from 0) on a dataset's stored file view. */
export const fileViewPatchName = (dataset: string, n: number): string => `fileview!${dataset}!patch!${hex(n, 8)}`


/** One atomic change to the store. */
export interface StoreBatch {
  /** Entry buckets to rewrite, each with every entry it now holds. */
  buckets?: Array<{ dataset: string; bucket: number; entries: Iterable<StoredEntry> }>
  /** Entry buckets to rewrite, already encoded (encodeBucket; null: the bucket is now empty). */
  encodedBuckets?: Array<{ dataset: string; bucket: number; bytes: Uint8Array | null }>
  /** Meta keys to set. */
  meta?: Record<string, unknown>
  /** Central version -> record (written by the master). */
  versions?: Array<{ term: number; seq: number; record: VersionRecord }>
  /** Central version records to delete (history beyond the kept count). */
  dropVersions?: Array<{ term: number; seq: number }>
  /** Binary values to put (bytes) or delete (null), by name. */
  blobs?: Array<{ name: string; value: Uint8Array | null }>
  /** On disk (fsynced) before the write returns, not only handed to the OS: a write-ahead record a power loss must not lose. */
  sync?: boolean
}

/** What the master remembers of one central version it published. */
export interface VersionRecord {
  /** Local change sequence at the moment the version was cut. */
  lseq: number
  /** Bayes change sequence at that moment (absent in versions cut before Bayes sync). */
  bseq?: number
  /** Milliseconds since the epoch. */
  time: number
  /** Node whose change made the version. */
  origin: string
  /** Present entries per dataset at that version (`bayes`: token records of all contributions). */
  counts: Record<string, number>
  /** Bytes of each list dataset's snapshot blob (absent in versions cut before history was kept). */
  sizes?: Record<string, number>
  /**
   * The kept version whose content the snapshots add to: they hold only the entries changed since
   * it. Absent: they hold every entry.
   */
  deltaOf?: { term: number; seq: number }
  /** Versions in a row kept as a delta, this one included (0 or absent for a full snapshot). */
  chain?: number
  /** The origin node's name when known (absent in versions cut before names were kept). */
  name?: string
  /** What the version changed (absent in versions cut before summaries were kept). */
  changes?: ChangeSummary
  /** The Bayes DB's counts at the version, when Bayes is synced. */
  bayes?: BayesCounts
  /** Received from the master with a fetch: its lseq and bseq are this node's at the time it was stored. */
  received?: true
  /** Its snapshot was dropped to keep the history within its byte bound (sync/history-bound.ts): listed, not restorable. */
  contentDropped?: true
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0')

const bucketKey = (dataset: string, bucket: number): string => `e!${dataset}!${hex(bucket, 2)}`

/** Number of entry buckets per dataset. */
export const ENTRY_BUCKETS = 256

/** The bucket of a key (FNV-1a), stable across versions: it is part of the store format. */
export function bucketOf (key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % ENTRY_BUCKETS
}
const versionKey = (term: number, seq: number): string => `v!${hex(term, 8)}!${hex(seq, 8)}`

/**
 * LevelDB's cache of uncompressed blocks (its default is 8 MB): the agent reads its store at start
 * and for a rollback or a kept version, and holds what it works on itself, so the cache only held
 * an idle agent's memory (with the next, -2 MB idle RSS with the 121k-line list, one run).
 */
const BLOCK_CACHE_BYTES = 1024 * 1024

/** LevelDB's in-memory write buffer before it writes a table file (its default is 4 MB, kept until full). */
const WRITE_BUFFER_BYTES = 1024 * 1024

/** The LevelDB of one data folder. */
export class StateStore {
  /** Binary values live in a sublevel of their own encoding, written in the same batches. */
  private readonly blobs

  private constructor (private readonly db: Level<string, string>) {
    this.blobs = db.sublevel<string, Uint8Array>('x', { valueEncoding: 'view' })
  }

  /** Opens (or creates) the store in `dir`; refuses a folder another process holds. */
  static async open (dir: string): Promise<StateStore> {
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8', cacheSize: BLOCK_CACHE_BYTES, writeBufferSize: WRITE_BUFFER_BYTES })
    try {
      await db.open()
    } catch (err: any) {
      if (err?.cause?.code === 'LEVEL_LOCKED') {
        throw new DataDirInUseError(`the data folder ${dir} is in use by another spamsync process (stop the agent first, or use its HTTP control port)`, { cause: err })
      }
      throw err
    }
    const store = new StateStore(db)
    const format = await store.getMeta<number>('storeFormat')
    if (format === undefined) {
      await store.write({ meta: { storeFormat: STORE_FORMAT } })
    } else if (format === 2) {
      await store.dropChangeLog()
      await store.migrateFrom2()
    } else if (format === 3) {
      await store.dropChangeLog()
      await store.migrateFrom3()
    } else if (format === 4 || format === 5) {
      await store.dropChangeLog()
      await store.write({ meta: { storeFormat: STORE_FORMAT } })
    } else if (format !== STORE_FORMAT) {
      await db.close()
      throw new StoreFormatError(`the data folder ${dir} has store format ${format}; this agent reads format ${STORE_FORMAT}`)
    }
    return store
  }

  // Formats 2 to 5 kept a change log (`c!` records). It goes before the new format number is
  // written: a crash in between leaves the old format, whose next opening deletes the rest.
  private async dropChangeLog (): Promise<void> {
    await this.db.clear({ gt: 'c!', lt: 'c!\xff' })
  }

  // Format 2 -> 6, in one batch with the new format number: entry buckets become binary, and
  // each file view goes from `key TAB value` lines to the text of a file holding those entries
  // (`key value` lines).
  private async migrateFrom2 (): Promise<void> {
    const buckets = await this.oldBuckets(decodeBucketV2)
    const blobs: Array<{ name: string; value: Uint8Array }> = []
    for (const [name, old] of await this.blobsWithPrefix(fileViewName(''))) {
      const text = Buffer.from(old.buffer, old.byteOffset, old.byteLength).toString('utf8')
      const lines = text === '' ? [] : text.split('\n').map(line => line.endsWith('\t') ? line.slice(0, -1) : line.replace('\t', ' '))
      blobs.push({ name, value: Buffer.from(lines.map(line => line + '\n').join('')) })
    }
    await this.write({ meta: { storeFormat: STORE_FORMAT }, buckets, blobs })
  }

  // Format 3 -> 6, in one batch with the new format number: entry buckets go from JSON to binary.
  private async migrateFrom3 (): Promise<void> {
    await this.write({ meta: { storeFormat: STORE_FORMAT }, buckets: await this.oldBuckets(decodeBucketV3) })
  }

  // Every entry bucket, read as the JSON text of an older format.
  private async oldBuckets (decode: (raw: string) => StoredEntry[]): Promise<NonNullable<StoreBatch['buckets']>> {
    const buckets: NonNullable<StoreBatch['buckets']> = []
    for await (const [key, v] of this.db.iterator({ gt: 'e!', lt: 'e!\xff' })) {
      const [, dataset, bucket] = key.split('!')
      buckets.push({ dataset, bucket: parseInt(bucket, 16), entries: decode(v) })
    }
    return buckets
  }

  async close (): Promise<void> {
    await this.db.close()
  }

  /** A meta value, or undefined when it was never set. */
  async getMeta<T> (name: string): Promise<T | undefined> {
    const raw = await this.db.get(`m!${name}`)
    return raw === undefined ? undefined : JSON.parse(raw) as T
  }

  /** Every stored entry of a dataset, tombstones included. */
  async loadEntries (dataset: string): Promise<StoredEntry[]> {
    const out: StoredEntry[] = []
    const prefix = `e!${dataset}!`
    for await (const [key, v] of this.db.iterator<string, Uint8Array>({ gt: prefix, lt: prefix + '\xff', valueEncoding: 'view' })) decodeBucket(v, out, key)
    return out
  }

  /** The encoded entry buckets of a dataset (each its own copy), by bucket number. */
  async loadBuckets (dataset: string): Promise<Array<{ bucket: number; bytes: Uint8Array; where: string }>> {
    const out: Array<{ bucket: number; bytes: Uint8Array; where: string }> = []
    const prefix = `e!${dataset}!`
    for await (const [key, v] of this.db.iterator<string, Uint8Array>({ gt: prefix, lt: prefix + '\xff', valueEncoding: 'view' })) {
      // A copy of the exact bytes: a view may keep a larger buffer alive.
      out.push({ bucket: parseInt(key.slice(prefix.length), 16), bytes: new Uint8Array(v), where: key })
    }
    return out
  }

  /** Every stored entry of a dataset as columns, one run per bucket (for reading all of it fast). */
  async loadEntryColumns (dataset: string): Promise<EntryColumns> {
    const out = new EntryColumns()
    const prefix = `e!${dataset}!`
    for await (const [key, v] of this.db.iterator<string, Uint8Array>({ gt: prefix, lt: prefix + '\xff', valueEncoding: 'view' })) decodeBucketColumns(v, out, key)
    return out
  }

  /** The record of a central version, if this node cut it. */
  async getVersion (term: number, seq: number): Promise<VersionRecord | undefined> {
    const raw = await this.db.get(versionKey(term, seq))
    return raw === undefined ? undefined : JSON.parse(raw) as VersionRecord
  }

  /** The newest `limit` version records, newest first. */
  async listVersions (limit: number): Promise<Array<{ term: number; seq: number; record: VersionRecord }>> {
    const out: Array<{ term: number; seq: number; record: VersionRecord }> = []
    for await (const [k, v] of this.db.iterator({ gt: 'v!', lt: 'v!\xff', reverse: true, limit })) {
      const [, term, seq] = k.split('!')
      out.push({ term: parseInt(term, 16), seq: parseInt(seq, 16), record: JSON.parse(v) })
    }
    return out
  }

  /** A binary value, or undefined. */
  async getBlob (name: string): Promise<Uint8Array | undefined> {
    return await this.blobs.get(name)
  }

  /** Binary values whose names start with `prefix`, in name order. */
  async blobsWithPrefix (prefix: string): Promise<Array<[string, Uint8Array]>> {
    const out: Array<[string, Uint8Array]> = []
    for await (const [k, v] of this.blobs.iterator({ gte: prefix, lt: prefix + '\xff' })) out.push([k, v])
    return out
  }

  /** Binary values whose names sort after `after` and up to `upTo` (both included in the order), in name order. */
  async blobsBetween (after: string, upTo: string): Promise<Array<[string, Uint8Array]>> {
    const out: Array<[string, Uint8Array]> = []
    for await (const [k, v] of this.blobs.iterator({ gt: after, lte: upTo })) out.push([k, v])
    return out
  }

  /** Applies a batch atomically. */
  async write (batch: StoreBatch): Promise<void> {
    const ops: any[] = []
    for (const { dataset, bucket, entries } of batch.buckets ?? []) {
      const value = encodeBucket(entries)
      ops.push(value === null
        ? { type: 'del', key: bucketKey(dataset, bucket) }
        : { type: 'put', key: bucketKey(dataset, bucket), value, valueEncoding: 'view' })
    }
    for (const { dataset, bucket, bytes } of batch.encodedBuckets ?? []) {
      ops.push(bytes === null
        ? { type: 'del', key: bucketKey(dataset, bucket) }
        : { type: 'put', key: bucketKey(dataset, bucket), value: bytes, valueEncoding: 'view' })
    }
    for (const [name, value] of Object.entries(batch.meta ?? {})) {
      ops.push({ type: 'put', key: `m!${name}`, value: JSON.stringify(value) })
    }
    for (const { term, seq, record } of batch.versions ?? []) {
      ops.push({ type: 'put', key: versionKey(term, seq), value: JSON.stringify(record) })
    }
    for (const { term, seq } of batch.dropVersions ?? []) ops.push({ type: 'del', key: versionKey(term, seq) })
    for (const { name, value } of batch.blobs ?? []) {
      ops.push(value === null ? { type: 'del', key: name, sublevel: this.blobs } : { type: 'put', key: name, value, sublevel: this.blobs })
    }
    if (ops.length > 0) await this.db.batch(ops, { sync: batch.sync === true })
  }
}
