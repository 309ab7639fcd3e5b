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
 * | `e!<dataset>!<lower bound>`  | bytes: node ids, records      | the replica's entries, by key range   |
 * | `v!<term:hex8>!<seq:hex8>`   | JSON {lseq, ...}              | central version -> change sequence    |
 * | `x!<name>` (binary values)   | bytes                         | Bayes snapshot, change log, baseline; |
 * |                              |                               | `history!<term>!<seq>!<dataset>` list |
 * |                              |                               | snapshots of kept central versions    |
 *
 * `lseq` is this node's local change sequence: every change to the replica (a local edit or a
 * merged remote entry) takes the next number, stored with the entry; "all changes since X" reads
 * only the buckets whose newest lseq is after X (replica/entry-buckets.ts), so no change log is
 * kept (it grew by every key ever changed). Entries are grouped into buckets of contiguous keys
 * (bucket-layout.ts: at most 512 entries after a change, a bucket past it is cut in pieces in the
 * same batch), and a commit rewrites only the buckets it touched: one value per key made the
 * first scan of the 121k-line list 243k LevelDB operations; buckets make it ~320, and a one-line
 * change still rewrites one small value. Which buckets there are is the set of their keys: no
 * index record, so a cut (the old bucket rewritten, the new ones put) is one batch like any other. The file view of each dataset (what its settings file held when
 * last read or written) is one binary value, `x!fileview!<dataset>`: the file's text as it was
 * (UTF-8), written in the same batch as the entries, so an unchanged file is known without
 * parsing it. A small change to a big file's view is stored as a patch of it instead,
 * `x!fileview!<dataset>!patch!<n:hex8>` (replica/view-patch.ts): at most 16, applied in order.
 *
 * Formats: 7 (this one); 6 kept 256 buckets by a hash of the key (`e!<dataset>!<hex2>`), and is
 * migrated to 7 when opened: every entry read and cut into key ranges, written in one batch with
 * the new format number that also deletes the old buckets (a 1M-line list: its entries are held
 * as objects once, during the open); 5 kept a change log (`c!<dataset>!<lseq>` records, the keys of each
 * commit), and is migrated to 6 by deleting it with the new format number (an agent of format 5
 * would read the missing log as "nothing changed" and miss changes, so it refuses 6), and is
 * migrated by deleting it, then as 6; 4 also had no file view patches, and is migrated the same
 * way (an agent of format 4 would read a patched view without its patches);
 * 3 kept each bucket as JSON (decoding it was a third of an export of a 121k-entry list), and is
 * migrated as 6 is; 2 also kept the file view as `key TAB value` lines and a node id in
 * every entry record, and is migrated in the same batch (its views become
 * files of those entries, which parse to the same entries; the next scan diffs the real file
 * against them as before). Any other format is refused.
 */
import { Level } from 'level'
import { DataDirInUseError, StoreFormatError } from '../errors.js'
import { EntryColumns } from '../crdt/entry-columns.js'
import type { BayesCounts, ChangeSummary } from '../archive/change-summary.js'
import { decodeBucket, decodeBucketColumns, encodeBucket, type StoredEntry } from './bucket-codec.js'
import { decodeBucketV2, decodeBucketV3 } from './bucket-codec-json.js'
import { pieceEnds } from './bucket-layout.js'
import { keyOrder } from '../archive/list-codec.js'

export type { StoredEntry } from './bucket-codec.js'

/** Layout version of this store; a data folder of another layout is migrated (2 to 6) or refused, not misread. */
export const STORE_FORMAT = 7

/** Blob name of a dataset's file view (its full text). */
export const fileViewName = (dataset: string): string => `fileview!${dataset}`

/** Blob name of the `n`th patch (from 0) on a dataset's stored file view. */
export const fileViewPatchName = (dataset: string, n: number): string => `fileview!${dataset}!patch!${hex(n, 8)}`


/** One atomic change to the store. */
export interface StoreBatch {
  /** Entry buckets to rewrite, by lower bound, encoded (encodeBucket; null: the bucket is deleted), in this order. */
  encodedBuckets?: Array<{ dataset: string; bucket: string; bytes: Uint8Array | null }>
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

const bucketKey = (dataset: string, bound: string): string => `e!${dataset}!${bound}`

/** The store keys of a dataset's buckets: `e!<dataset>!` and after, before `e!<dataset>"` ('!' + 1; a dataset name has no '!'). */
const bucketRange = (dataset: string): { gte: string, lt: string } => ({ gte: `e!${dataset}!`, lt: `e!${dataset}"` })
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
    } else if (format >= 2 && format <= 6) {
      if (format <= 5) await store.dropChangeLog()
      try {
        await store.migrate(format)
      } catch (err) {
        await db.close()
        throw err
      }
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

  // Formats 2 to 6 -> 7, in one batch with the new format number: every dataset's entries cut
  // into key ranges (the old buckets deleted), and format 2's file views rewritten. A bucket
  // that does not decode, or a key held twice, is a StoreFormatError before anything is written.
  private async migrate (format: number): Promise<void> {
    const byDataset = new Map<string, { entries: StoredEntry[], runEnds: number[] }>()
    const encodedBuckets: NonNullable<StoreBatch['encodedBuckets']> = []
    for await (const [key, v] of this.db.iterator<string, Uint8Array>({ gt: 'e!', lt: 'e"', valueEncoding: 'view' })) {
      const [, dataset, bucket] = key.split('!')
      let held = byDataset.get(dataset)
      if (held === undefined) byDataset.set(dataset, held = { entries: [], runEnds: [] })
      if (format >= 4) decodeBucket(v, held.entries, key)
      else for (const e of (format === 3 ? decodeBucketV3 : decodeBucketV2)(Buffer.from(v).toString('utf8'))) held.entries.push(e)
      held.runEnds.push(held.entries.length)
      encodedBuckets.push({ dataset, bucket, bytes: null })
    }
    for (const [dataset, held] of byDataset) {
      // Each old bucket is a sorted run (format 4 on): merged, not sorted by a comparator (1M entries: seconds less).
      const order = keyOrder(held.entries.map(e => e.key), held.runEnds)
      const entries = Array.from(order, i => held.entries[i])
      held.entries.length = 0
      for (let i = 1; i < entries.length; i++) {
        if (entries[i - 1].key === entries[i].key) throw new StoreFormatError(`store format ${format}: ${dataset} holds ${JSON.stringify(entries[i].key)} in two buckets`)
      }
      let from = 0
      for (const end of pieceEnds(entries.length)) {
        encodedBuckets.push({ dataset, bucket: from === 0 ? '' : entries[from].key, bytes: encodeBucket(entries.slice(from, end), true) })
        from = end
      }
    }
    await this.write({ meta: { storeFormat: STORE_FORMAT }, encodedBuckets, blobs: format === 2 ? await this.viewsFrom2() : [] })
  }

  // Format 2 kept a file view as `key TAB value` lines; it becomes the text of a file holding
  // those entries (`key value` lines).
  private async viewsFrom2 (): Promise<Array<{ name: string; value: Uint8Array }>> {
    const blobs: Array<{ name: string; value: Uint8Array }> = []
    for (const [name, old] of await this.blobsWithPrefix(fileViewName(''))) {
      const text = Buffer.from(old.buffer, old.byteOffset, old.byteLength).toString('utf8')
      const lines = text === '' ? [] : text.split('\n').map(line => line.endsWith('\t') ? line.slice(0, -1) : line.replace('\t', ' '))
      blobs.push({ name, value: Buffer.from(lines.map(line => line + '\n').join('')) })
    }
    return blobs
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
    for await (const [key, v] of this.db.iterator<string, Uint8Array>({ ...bucketRange(dataset), valueEncoding: 'view' })) decodeBucket(v, out, key)
    return out
  }

  /** The encoded entry buckets of a dataset (each its own copy), each with its lower bound, in the store's order (UTF-8 bytes). */
  async loadBuckets (dataset: string): Promise<Array<{ bound: string; bytes: Uint8Array; where: string }>> {
    const out: Array<{ bound: string; bytes: Uint8Array; where: string }> = []
    const range = bucketRange(dataset)
    for await (const [key, v] of this.db.iterator<string, Uint8Array>({ ...range, valueEncoding: 'view' })) {
      // A copy of the exact bytes: a view may keep a larger buffer alive.
      out.push({ bound: key.slice(range.gte.length), bytes: new Uint8Array(v), where: key })
    }
    return out
  }

  /** Every stored entry of a dataset as columns, one run per bucket (for reading all of it fast: the runs follow each other in key order). */
  async loadEntryColumns (dataset: string): Promise<EntryColumns> {
    const out = new EntryColumns()
    for await (const [key, v] of this.db.iterator<string, Uint8Array>({ ...bucketRange(dataset), valueEncoding: 'view' })) decodeBucketColumns(v, out, key)
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
