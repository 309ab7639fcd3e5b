/**
 * This node's replica of the list datasets: the LWW state of every entry, kept in memory for
 * speed and written through to the {@link StateStore} in one batch per change.
 *
 * Two kinds of change reach it: a scan of the settings files (the operator edited a list) and a
 * merge of entries from elsewhere (an archive, a peer). A scan is diffed against the *file view*
 * (what the file held when last read or written), never against the replica, so an entry that
 * was merged but not yet written to the file can never be mistaken for a local delete.
 */
import { HybridClock } from '../crdt/hlc.js'
import { winner, type Entry } from '../crdt/lww-set.js'
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import type { StateStore, StoredEntry, StoreBatch } from '../store/state-store.js'

/** Meta keys this module owns. */
const META_CLOCK = 'clock'
const META_LSEQ = 'lseq'

/** How a merge marks what it writes. */
export interface MergeOptions {
  /** True when the entries are the central state (applied from the master): nothing to upload. */
  synced: boolean
}

/** The list datasets of one node. */
export class ListReplica {
  private lseq: number

  private constructor (
    private readonly store: StateStore,
    readonly clock: HybridClock,
    private readonly data: Map<ListDataset, Map<string, StoredEntry>>,
    lseq: number
  ) {
    this.lseq = lseq
  }

  /** Loads the replica of `nodeId` from the store. */
  static async load (store: StateStore, nodeId: string, wallClock: () => number, maxSkewMs: number): Promise<ListReplica> {
    const data = new Map<ListDataset, Map<string, StoredEntry>>()
    for (const ds of LIST_DATASETS) {
      const map = new Map<string, StoredEntry>()
      for (const e of await store.loadEntries(ds)) map.set(e.key, e)
      data.set(ds, map)
    }
    const clock = new HybridClock(nodeId, wallClock, maxSkewMs, await store.getMeta(META_CLOCK))
    return new ListReplica(store, clock, data, (await store.getMeta<number>(META_LSEQ)) ?? 0)
  }

  /** The newest local change sequence. */
  get changeSeq (): number {
    return this.lseq
  }

  /** Every entry of a dataset, tombstones included. */
  entries (dataset: ListDataset): IterableIterator<StoredEntry> {
    return this.map(dataset).values()
  }

  /** One entry, or undefined. */
  get (dataset: ListDataset, key: string): StoredEntry | undefined {
    return this.map(dataset).get(key)
  }

  /** The present entries as key -> value: what the settings file should list. */
  desired (dataset: ListDataset): Map<string, string> {
    const out = new Map<string, string>()
    for (const e of this.map(dataset).values()) if (e.present) out.set(e.key, e.value)
    return out
  }

  /** Number of present entries. */
  presentCount (dataset: ListDataset): number {
    let n = 0
    for (const e of this.map(dataset).values()) if (e.present) n++
    return n
  }

  /**
   * Takes the entries a scan found in the settings file and stamps what the operator changed
   * since the file was last read or written: new or changed lines, and removed lines as
   * tombstones. Returns the entries that changed the replica.
   */
  async applyScan (dataset: ListDataset, fileEntries: ReadonlyMap<string, string>): Promise<StoredEntry[]> {
    const txn = this.begin(dataset)
    for (const [key, value] of fileEntries) {
      const current = txn.get(key)
      if (current?.fileValue === value) continue
      if (current?.present === true && current.value === value) {
        txn.put({ ...current, fileValue: value }, current, false)
      } else {
        txn.put({ key, value, present: true, stamp: this.clock.now(), lseq: txn.nextLseq(), synced: false, fileValue: value }, current, true)
      }
    }
    for (const current of txn.base.values()) {
      if (current.fileValue === null || fileEntries.has(current.key)) continue
      if (current.present) {
        txn.put({ key: current.key, value: '', present: false, stamp: this.clock.now(), lseq: txn.nextLseq(), synced: false, fileValue: null }, current, true)
      } else {
        txn.put({ ...current, fileValue: null }, current, false)
      }
    }
    return await txn.commit()
  }

  /**
   * Joins entries from elsewhere. Remote stamps pass through the clock first, which clamps
   * stamps from too far in the future. Returns the entries that changed the replica.
   */
  async merge (dataset: ListDataset, incoming: Iterable<Entry>, opts: MergeOptions): Promise<StoredEntry[]> {
    const txn = this.begin(dataset)
    for (const raw of incoming) {
      // A tombstone carries no value; clearing it before comparing keeps a re-merge a no-op.
      const entry: Entry = { ...raw, value: raw.present ? raw.value : '', stamp: this.clock.observe(raw.stamp) }
      const current = txn.get(entry.key)
      if (winner(current, entry) === current) continue
      txn.put({
        key: entry.key,
        value: entry.value,
        present: entry.present,
        stamp: entry.stamp,
        lseq: txn.nextLseq(),
        synced: opts.synced,
        fileValue: current?.fileValue ?? null
      }, current, true)
    }
    return await txn.commit()
  }

  /** Records that the settings file now holds exactly `written` (after a successful write). */
  async recordFileView (dataset: ListDataset, written: ReadonlyMap<string, string>): Promise<void> {
    const txn = this.begin(dataset)
    for (const current of txn.base.values()) {
      const fileValue = written.get(current.key) ?? null
      if (current.fileValue !== fileValue) txn.put({ ...current, fileValue }, current, false)
    }
    await txn.commit()
  }

  /** Entries changed after local change sequence `lseq`, oldest change first. */
  async changedSince (dataset: ListDataset, lseq: number): Promise<StoredEntry[]> {
    if (lseq >= this.lseq) return []
    const map = this.map(dataset)
    const out: StoredEntry[] = []
    for (const key of await this.store.changedKeysSince(dataset, lseq)) {
      const e = map.get(key)
      if (e !== undefined) out.push(e)
    }
    return out
  }

  private map (dataset: ListDataset): Map<string, StoredEntry> {
    const map = this.data.get(dataset)
    if (map === undefined) throw new Error(`unknown dataset ${dataset}`)
    return map
  }

  /**
   * Starts a change to one dataset. Changes are staged and reach memory only after the store
   * has written them, so a failed write (a full disk) leaves memory and disk agreeing.
   */
  private begin (dataset: ListDataset): ReplicaTxn {
    const base = this.map(dataset)
    const staged = new Map<string, StoredEntry>()
    const writes: NonNullable<StoreBatch['entries']> = []
    const changed: StoredEntry[] = []
    const startLseq = this.lseq
    let lseq = this.lseq
    return {
      base,
      get: (key) => staged.get(key) ?? base.get(key),
      nextLseq: () => ++lseq,
      put: (next, previous, isChange) => {
        staged.set(next.key, next)
        writes.push({ dataset, entry: next, previousLseq: previous?.lseq })
        if (isChange) changed.push(next)
      },
      commit: async () => {
        if (writes.length === 0) return changed
        // Callers serialise changes; overlapping ones would hand out one lseq twice.
        if (this.lseq !== startLseq) throw new Error('overlapping replica transactions')
        await this.store.write({ entries: writes, meta: { [META_CLOCK]: this.clock.peek(), [META_LSEQ]: lseq } })
        for (const [key, entry] of staged) base.set(key, entry)
        this.lseq = lseq
        return changed
      }
    }
  }
}

/** A staged change to one dataset of the replica. */
interface ReplicaTxn {
  /** The committed entries. */
  base: ReadonlyMap<string, StoredEntry>
  /** An entry as the transaction sees it (staged first). */
  get: (key: string) => StoredEntry | undefined
  /** The next local change sequence number. */
  nextLseq: () => number
  /** Stages an entry; `isChange` when it changes the CRDT state rather than bookkeeping. */
  put: (next: StoredEntry, previous: StoredEntry | undefined, isChange: boolean) => void
  /** Writes the staged entries in one batch, then makes them visible. */
  commit: () => Promise<StoredEntry[]>
}
