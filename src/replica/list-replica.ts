/**
 * This node's replica of the list datasets: the LWW state of every entry, held in memory as the
 * store's encoded buckets ({@link EntryBuckets}) and written through to the {@link StateStore}
 * in one batch per change.
 *
 * Two kinds of change reach it: a scan of the settings files (the operator edited a list) and a
 * merge of entries from elsewhere (an archive, a peer). A scan is diffed against the *file view*
 * (what the file held when last read or written), never against the replica, so an entry that
 * was merged but not yet written to the file can never be mistaken for a local delete.
 */
import { clampStamp, HybridClock } from '../crdt/hlc.js'
import type { Entry } from '../crdt/lww-set.js'
import type { EntryColumns } from '../crdt/entry-columns.js'
import { encodeColumns, type EncodedList } from '../archive/list-codec.js'
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import type { ParsedListFile } from '../settings/list-file.js'
import { type StateStore, type StoredEntry } from '../store/state-store.js'
import { mergeByBucket, type BucketMerge, type MergeOptions } from './bucket-merge.js'
import { byLseq, EntryBuckets, presentInKeyOrder, type DecodedBuckets, type LoadOptions } from './entry-buckets.js'
import { FileView } from './file-view.js'
import { FileViews } from './file-views.js'
import { AppendJournal } from './append-journal.js'
import type { ReplicaTxn } from './replica-txn.js'
import { stampScan, stampTextEdit } from './stamp-edit.js'
import { finishPaced, pacer, type Pause } from '../pace.js'
import { changesNothing, editBetween, type TextEditOf } from '../settings/text-edit.js'
export type { MergeOptions } from './bucket-merge.js'
export type { LoadOptions } from './entry-buckets.js'

/** How ListReplica.load reads the entries, and how its long steps pause. */
export interface ReplicaOptions extends LoadOptions {
  /** Awaited between the steps of a scan's parse and stamping and of a merge (pace.ts). */
  pause?: Pause
  /** How long a large file view's text is held after its last use (file-views.ts; default VIEW_HOLD_MS). */
  viewHoldMs?: number
}

/** Meta keys this module owns. */
const META_CLOCK = 'clock'
const META_LSEQ = 'lseq'
/** Unwritten keys past which, if also more than half the entries (an initial sync), they count as unknown: rendering every present entry costs less than a lookup per key. */
const RENDER_ALL_FROM = 4096

/** The list datasets of one node. */
export class ListReplica {
  private lseq: number
  /** No stored stamp has a later wall time: lets {@link clampFuture} skip its scan. */
  private newestWall: number

  private constructor (
    private readonly store: StateStore,
    readonly clock: HybridClock,
    private readonly data: Map<ListDataset, EntryBuckets>,
    /**
     * Per dataset, what its settings file held when last read or written. Kept apart from the
     * entries so a failed file write can never look like a local delete on the next scan.
     */
    private readonly views: FileViews,
    lseq: number,
    newestWall: number,
    /** Awaited between the steps of long work, so the node keeps beaconing (pace.ts). */
    private readonly pause: Pause,
    /** Appends to the list files under way (write-ahead records): cleared with the file view stored after them. */
    readonly appends: AppendJournal
  ) {
    this.lseq = lseq
    this.newestWall = newestWall
  }

  /**
   * Per dataset, the keys whose present value may differ from the file view's (merged, not yet
   * written); no set while that is unknown (after load). Lets a write render only those keys.
   */
  private readonly unwritten = new Map<ListDataset, Set<string>>()

  /** Called after each commit with every entry it changed and what the replica held before (the master's change summaries). */
  onCommit: ((dataset: ListDataset, changes: Array<{ before: StoredEntry | undefined, after: StoredEntry }>) => void) | null = null

  /**
   * Loads the replica of `nodeId` from the store. With `entries: 'onDemand'` a dataset's entries
   * are read only when a change needs them: a command that only reads (export) then reads them
   * as columns straight from the store.
   */
  static async load (store: StateStore, nodeId: string, wallClock: () => number, maxSkewMs: number, opts: ReplicaOptions = {}): Promise<ListReplica> {
    const data = new Map<ListDataset, EntryBuckets>()
    if (opts.entries !== 'onDemand') for (const ds of LIST_DATASETS) data.set(ds, await EntryBuckets.load(store, ds))
    const views = await FileViews.load(store, opts.viewHoldMs, opts.pause)
    const clock = new HybridClock(nodeId, wallClock, maxSkewMs, await store.getMeta(META_CLOCK))
    // Entries not read yet may hold any stamp: Infinity keeps clampFuture from skipping them.
    const newestWall = opts.entries === 'onDemand' ? Infinity : Math.max(0, ...[...data.values()].map(held => held.newestWall))
    return new ListReplica(store, clock, data, views, (await store.getMeta<number>(META_LSEQ)) ?? 0, newestWall, opts.pause ?? pacer(), await AppendJournal.load(store))
  }

  /** Every entry of a dataset (tombstones included) as columns; read from the store when not loaded, without loading them. */
  async columns (dataset: ListDataset): Promise<EntryColumns> {
    const held = this.data.get(dataset)
    return held === undefined ? await this.store.loadEntryColumns(dataset) : held.columns()
  }

  /** {@link columns} (`since`: those {@link changedSince} names) encoded as an archive's list file; one encoding serves every asker while the dataset is unchanged. */
  async encoded (dataset: ListDataset, since?: { lseq: number, ownOnly: boolean }): Promise<EncodedList> {
    if (since === undefined && !this.data.has(dataset)) return encodeColumns(await this.store.loadEntryColumns(dataset))
    return this.held(dataset).encoded(since?.lseq, since?.ownOnly)
  }

  /** {@link encoded} as a raw deflate stream (a version snapshot): the bytes received, when the dataset holds exactly those (MergeOptions.received). */
  async deflated (dataset: ListDataset, since?: { lseq: number, ownOnly: boolean }): Promise<Uint8Array> {
    return await (await this.loaded(dataset)).deflated(since?.lseq, since?.ownOnly)
  }

  /**
   * Whether the entries changed after local change sequence `lseq` are every entry, and there is at
   * least one: a snapshot of what changed since then is then the whole state.
   */
  async allChangedSince (lseq: number): Promise<boolean> {
    let any = false
    for (const ds of LIST_DATASETS) {
      const held = await this.loaded(ds)
      if (!held.allChangedSince(lseq)) return false
      if (held.size > 0) any = true
    }
    return any
  }

  /** The newest local change sequence. */
  get changeSeq (): number { return this.lseq }

  /** Every entry of a dataset, tombstones included. */
  entries (dataset: ListDataset): IterableIterator<StoredEntry> {
    return this.held(dataset).values()
  }

  /** One entry, or undefined. */
  get (dataset: ListDataset, key: string): StoredEntry | undefined { return this.held(dataset).get(key) }

  /** The value the settings file held for `key` when last read or written, or null. */
  async fileValue (dataset: ListDataset, key: string): Promise<string | null> {
    return (await this.views.loaded(dataset)).parsed.entries.get(key) ?? null
  }

  /** What the dataset's settings file held when last read or written ('' before the first time), its text read back if it was let go. */
  async fileView (dataset: ListDataset): Promise<FileView> {
    return await this.views.loaded(dataset)
  }

  /** {@link fileView} as held: its text may be let go (FileView.released); the object stays the same until the view changes. */
  currentFileView (dataset: ListDataset): FileView {
    return this.views.current(dataset)
  }

  /** Runs `task`, which uses the file views: none is let go before it settled (file-views.ts). */
  async holdingFileViews<T> (task: () => Promise<T>): Promise<T> {
    return await this.views.hold(task)
  }

  /**
   * The keys whose present value may differ from the file view's, each with its present value (undefined: not present); undefined when
   * unknown: until the first {@link recordFileView}, or when they were most of many entries. Every other key has the file view's value.
   */
  unwrittenChanges (dataset: ListDataset): Map<string, string | undefined> | undefined {
    const keys = this.unwritten.get(dataset)
    if (keys === undefined) return undefined
    const found = this.held(dataset).lookup(keys)
    const out = new Map<string, string | undefined>()
    for (const key of keys) {
      const e = found.get(key)
      out.set(key, e?.present === true ? e.value : undefined)
    }
    return out
  }

  /** The present entries as key -> value: what the settings file should list. */
  desired (dataset: ListDataset): Map<string, string> {
    const out = new Map<string, string>()
    // As columns: no entry and stamp objects to build and drop for every key.
    const cols = this.held(dataset).columns()
    for (let i = 0; i < cols.length; i++) if (cols.present[i] === 1) out.set(cols.keys[i], cols.values[i])
    return out
  }

  /** The present entries in key order (what a file without entries gets: renderIntoEntryless): read from the records, or ordered from the columns when a bucket's records are out of order. */
  presentInKeyOrder (dataset: ListDataset): ReturnType<typeof presentInKeyOrder> {
    const held = this.held(dataset)
    return held.presentInKeyOrder() ?? presentInKeyOrder(held.columns())
  }

  /** Number of present entries. */
  presentCount (dataset: ListDataset): number { return this.held(dataset).presentCount }

  /** A list file of `entries`, each held as it is in the file (own-uploads.ts), is the dataset's whole content unless it holds more: its snapshot is then those bytes. */
  keepFile (dataset: ListDataset, file: { deflated: Uint8Array, entries: number }): void {
    if (this.data.get(dataset)?.size === file.entries) this.held(dataset).keepReceived({ deflated: file.deflated })
  }

  /**
   * Takes the text a scan found in the settings file and stamps what the operator changed since
   * the file was last read or written: new or changed lines, and removed lines as tombstones.
   * `parsed` is `text` parsed, when the caller has it. Returns the entries that changed the
   * replica. Only the keys on changed lines are compared, and an unchanged text is not parsed.
   *
   * `base`, when given, is what the file held before the operator's edit instead of the file
   * view: a write raced with an edit, so the file on disk is not the one the view describes
   * (see SettingsFolder.write). Keys where the view and `base` differ are then left to be
   * written, as the file may now lack what the view had. `edit`: where `text` differs from the text it names (the caller compared them).
   */
  async applyScan (dataset: ListDataset, text: string, parsed?: ParsedListFile, base?: string, edit?: TextEditOf): Promise<StoredEntry[]> {
    return await this.views.hold(async () => {
      const view = await this.views.loaded(dataset)
      if (base === undefined && view.text === text) return []
      const from = base === undefined || base === view.text ? view : new FileView(dataset, base)
      const txn = await this.begin(dataset)
      const { next, stale } = await finishPaced(stampScan(txn, this.clock, view, from, text, parsed, edit?.from === from.text ? edit : undefined), this.pause)
      const changed = await txn.commit(next)
      const unwritten = this.unwritten.get(dataset)
      if (stale !== undefined && unwritten !== undefined) for (const key of stale) unwritten.add(key)
      return changed
    })
  }

  /**
   * Stamps an operator's edit that changed a file from `from` to `to` when that file is no
   * longer the settings file (it was replaced by a sync write, and a program that held it open
   * wrote to it afterwards): the changed entries are stamped as in applyScan, the file view
   * stays, and the keys are left to be written. Returns the entries that changed the replica.
   */
  async applyEdit (dataset: ListDataset, from: string, to: string): Promise<StoredEntry[]> {
    if (from === to) return []
    const txn = await this.begin(dataset)
    await finishPaced(stampTextEdit(txn, this.clock, dataset, from, to), this.pause)
    return await txn.commit(null)
  }

  /**
   * Joins entries from elsewhere by the last-writer-wins rule (mergeEntries, a bucket at a time: bucket-merge.ts) on this replica's
   * clock, which clamps stamps beyond now + maxSkewMs. Each entry that wins gets the next local change sequence. Returns the entries that changed the replica.
   */
  async merge (dataset: ListDataset, incoming: Iterable<Entry>, opts: MergeOptions): Promise<StoredEntry[]> {
    const held = await this.loaded(dataset)
    const startLseq = this.lseq
    // Into an empty dataset, every entry won and none was clamped (a clamped stamp is at or past this limit): it now holds exactly what was received.
    const [received, limit] = [held.size === 0 ? opts.received : undefined, this.clock.limit()]
    const merged = await finishPaced(mergeByBucket(held, incoming, this.clock, startLseq, opts.synced, this.onCommit !== null), this.pause)
    if (merged.changed.length > 0) await this.commitChange(dataset, held, startLseq, merged, null)
    if (received?.entries === merged.changed.length && merged.changed.every(e => e.stamp.wallMs < limit)) held.keepReceived(received)
    return merged.changed
  }

  /** True when a stored stamp or the clock may be beyond the skew bound: {@link clampFuture} has work. */
  aheadOfBound (): boolean {
    const limit = this.clock.limit()
    return this.newestWall > limit || this.clock.peek().wallMs > limit
  }

  /**
   * Lowers every stored stamp beyond cluster now + maxSkewMs to that bound (counter and node id
   * kept), and the clock with them. Such stamps were made on a clock that runs ahead, before this
   * node knew the cluster's time (alone, or before the first beacon), or before cluster time moved
   * back (a new master with a slower clock). Lowered, they agree with what the master's merge
   * keeps, so a later honest edit wins here too once the bound has passed. Nothing newer is lost:
   * only stamps beyond the bound change, only down to the bound, which is above every stamp an
   * honest clock made so far, and the next local stamp still sorts after all of them. Values
   * and presence are unchanged, so no file needs writing. Returns how many entries were lowered.
   */
  async clampFuture (): Promise<number> {
    if (!this.aheadOfBound()) return 0
    const limit = this.clock.limit()
    const lowered = new Map<ListDataset, StoredEntry[]>()
    for (const ds of LIST_DATASETS) {
      const entries: StoredEntry[] = []
      for (const e of (await this.loaded(ds)).values()) {
        if (e.stamp.wallMs > limit) entries.push({ ...e, stamp: clampStamp(e.stamp, limit, 0) })
      }
      if (entries.length > 0) lowered.set(ds, entries)
    }
    let n = 0
    for (const [ds, entries] of lowered) {
      const txn = await this.begin(ds)
      for (const e of entries) txn.put({ ...e, lseq: txn.nextLseq() })
      n += (await txn.commit(null)).length
    }
    // The clock goes back only once the entries are down: a failed write leaves both as they were.
    this.clock.rewind(limit, [...lowered.values()].flatMap(list => list.map(e => e.stamp)))
    await this.store.write({ meta: { [META_CLOCK]: this.clock.peek() } })
    this.newestWall = Math.min(this.newestWall, limit)
    return n
  }

  /**
   * Records that the settings file now holds exactly `text` (after a successful write), which
   * lists exactly the present entries; `parsed` is `text` parsed, when the caller has it.
   */
  async recordFileView (dataset: ListDataset, text: string, parsed?: ParsedListFile): Promise<void> {
    await this.views.hold(async () => {
      const view = await this.views.loaded(dataset)
      // A parse made from the view's knows whether the texts differ: 15 MB are not compared for it.
      const edit = editBetween(view.parsedIfMade, parsed)
      if (edit === undefined ? view.text !== text : !changesNothing(edit)) await (await this.begin(dataset)).commit(new FileView(dataset, text, parsed))
    })
    this.unwritten.set(dataset, new Set())
  }

  /** Entries changed after local change sequence `lseq` (`ownOnly`: not from the central state), oldest first; only buckets holding such changes are read. */
  async changedSince (dataset: ListDataset, lseq: number, ownOnly = false): Promise<StoredEntry[]> {
    if (lseq >= this.lseq) return []
    return byLseq(this.held(dataset).changedSince(lseq, ownOnly), lseq, this.lseq)
  }

  /** Forgets `keys` (dropped tombstones, stale copies: crdt/tombstone-floor.ts) in store, then memory; no lseq, no onCommit. A dropped present one is left to be written. */
  async dropEntries (dataset: ListDataset, keys: Iterable<string>): Promise<number> {
    const held = await this.loaded(dataset)
    const dropped = held.lookup(keys)
    if (dropped.size === 0) return 0
    const change = held.prepareDrop(dropped.keys(), new Map())
    await this.store.write({ encodedBuckets: change.writes.map(w => ({ dataset, ...w })) })
    held.apply(change)
    for (const e of dropped.values()) if (e.present) this.unwritten.get(dataset)?.add(e.key)
    return dropped.size
  }

  // The entries of a dataset, read from the store first if not loaded yet (an on-demand replica).
  private async loaded (dataset: ListDataset): Promise<EntryBuckets> {
    let held = this.data.get(dataset)
    if (held === undefined) {
      held = await EntryBuckets.load(this.store, dataset)
      this.data.set(dataset, held)
    }
    return held
  }

  private held (dataset: ListDataset): EntryBuckets {
    const held = this.data.get(dataset)
    if (held === undefined) throw new Error(`entries of ${dataset} are not loaded (an on-demand replica reads them at its first change)`)
    return held
  }

  /**
   * Starts a change to one dataset. Changes are staged and reach memory only after the store
   * has written them, so a failed write (a full disk) leaves memory and disk agreeing.
   */
  private async begin (dataset: ListDataset): Promise<ReplicaTxn> {
    const held = await this.loaded(dataset)
    // The buckets this change has read, as they were before it; an empty dataset (a new list file) has none to read.
    const decoded: DecodedBuckets = new Map()
    const before = held.size === 0 ? () => undefined : (key: string): StoredEntry | undefined => held.find(key, decoded)
    const staged = new Map<string, StoredEntry>()
    const startLseq = this.lseq
    let lseq = this.lseq
    return {
      get: (key) => staged.get(key) ?? before(key),
      heldNothing: held.size === 0,
      nextLseq: () => ++lseq,
      put: (next) => { staged.set(next.key, next) },
      commit: async (fileView) => {
        if (staged.size === 0 && fileView === null) return []
        const changed = [...staged.values()]
        const observed = this.onCommit === null ? null : changed.map(after => ({ before: before(after.key), after }))
        const change = await finishPaced(held.prepare(staged, decoded), this.pause)
        await this.commitChange(dataset, held, startLseq, { change, changed, observed, lseq }, fileView)
        return changed
      }
    }
  }

  // Writes a change prepared from change sequence `startLseq` (and the file view, unless null) in one batch, then shows it.
  private async commitChange (dataset: ListDataset, held: EntryBuckets, startLseq: number, merged: BucketMerge, fileView: FileView | null): Promise<void> {
    const { change, changed, observed, lseq } = merged
    // Callers serialise changes; overlapping ones would hand out one lseq twice.
    if (this.lseq !== startLseq) throw new Error('overlapping replica transactions')
    const view = fileView === null ? undefined : this.views.storedAs(dataset, fileView)
    const clearing = view === undefined ? undefined : this.appends.clearing(dataset) // a new view says what the file holds: the append's record goes
    await this.store.write({
      encodedBuckets: change.writes.map(w => ({ dataset, ...w })),
      meta: changed.length > 0 ? { [META_CLOCK]: this.clock.peek(), [META_LSEQ]: lseq, ...clearing } : clearing,
      blobs: view?.blobs
    })
    if (clearing !== undefined) this.appends.cleared(dataset)
    if (view !== undefined) this.views.patches.set(dataset, view.patches)
    held.apply(change)
    this.publish(dataset, changed, fileView)
    this.lseq = lseq
    if (observed !== null) this.onCommit?.(dataset, observed)
  }

  // Makes a written change visible in memory besides the entries: the newest stamp, the file
  // view or the keys it leaves unwritten.
  private publish (dataset: ListDataset, changed: readonly StoredEntry[], fileView: FileView | null): void {
    for (const entry of changed) if (entry.stamp.wallMs > this.newestWall) this.newestWall = entry.stamp.wallMs
    if (fileView !== null) {
      // A scan's changes agree with the new view (they were stamped from it).
      this.views.set(dataset, fileView)
    } else {
      const unwritten = this.unwritten.get(dataset)
      // Forgotten, not to hold a whole list's keys until the file is written; a commit that alone is that many (it changes each key once) is not added first.
      const forget = (keys: number): boolean => keys >= RENDER_ALL_FROM && keys * 2 > this.held(dataset).size
      if (unwritten !== undefined && !forget(changed.length)) for (const e of changed) unwritten.add(e.key)
      if (unwritten !== undefined && forget(Math.max(changed.length, unwritten.size))) this.unwritten.delete(dataset)
    }
  }
}
