/**
 * The master's central versions: numbering and recording a new one, pruning the kept history to
 * its bound, keeping each kept version's list content as a (delta) snapshot, and reading that
 * content back for a rollback. It owns the `centralVersion` meta key and the `history!` blobs.
 */
import { inflateRaw } from 'node:zlib'
import { promisify } from 'node:util'
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { UnknownVersionError } from '../errors.js'
import { compareVersions, formatVersion, ZERO_VERSION, type Version } from '../version.js'
import { decodeEntries } from '../archive/list-codec.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { StateStore, VersionRecord } from '../store/state-store.js'
import type { Entry } from '../crdt/lww-set.js'
import { bayesChange, ChangeTracker, type BayesCounts, type ChangeSummary } from '../archive/change-summary.js'
import { encodeHistory, type HistoryRecord } from '../archive/history-record.js'
import { contentToDrop, DEFAULT_HISTORY_BOUND, startsNewChain, type HistoryBound, type StoredVersion } from './history-bound.js'
import { trace } from '../trace.js'

/** Meta key of the newest central version this node cut. */
const META_CENTRAL = 'centralVersion'

const inflateRawAsync = promisify(inflateRaw)

const hex8 = (n: number): string => n.toString(16).padStart(8, '0')

/** Blob name of a kept version's snapshot of one list dataset. */
const historyBlob = (term: number, seq: number, dataset: ListDataset): string => `history!${hex8(term)}!${hex8(seq)}!${dataset}`

/**
 * A kept version's snapshot holds only what changed since the version before it, except every
 * this many versions: a full snapshot of a 1M-entry list took 5 s of the master's event loop per
 * version. A rollback then reads one full snapshot and at most 15 deltas, and at most 15 versions
 * beyond historyVersions are kept as the bases of kept ones. Past the byte bound a chain may end
 * sooner (history-bound.ts, startsNewChain).
 */
export const FULL_SNAPSHOT_EVERY = 16

/** One kept central version, as `GET /history` lists it. */
export interface HistoryItem {
  version: Version
  /** ISO time the version was cut. */
  time: string
  origin: string
  /** The origin node's name, when known. */
  name?: string
  counts: Record<string, number>
  sizes: Record<string, number>
  /** What the version changed (absent in versions cut before summaries were kept). */
  changes?: ChangeSummary
  bayes?: BayesCounts
  /** Its content is kept here, so a rollback to it can run on this node. */
  restorable: boolean
  /** Its content was dropped to keep the history within its byte bound (sync/history-bound.ts). */
  contentDropped?: true
}

/** A version just recorded by {@link VersionHistory.cut}, whose snapshot is still to be kept. */
export interface CutVersion {
  version: Version
  record: VersionRecord
}

/** A kept version's list content, read one dataset at a time (a list may hold a million entries). */
export interface VersionContent {
  entries: (dataset: ListDataset) => Promise<Entry[]>
}

/** What the history reads and writes. */
export interface VersionHistoryParts {
  store: StateStore
  replica: ListReplica
  /** The Bayes replica, when Bayes is synced: its token count and change sequence go in the record. */
  bayes?: BayesReplica
  /** Central versions kept (records and list snapshots) for history and rollback. */
  historyVersions: number
  /** Bytes of list content the kept versions may hold (default DEFAULT_HISTORY_BOUND). */
  bound?: HistoryBound
  now: () => number
  /** A node's name by its id, for the records (none: names are not kept). */
  nameOf?: (nodeId: string) => string | undefined
}

/** The central versions of one node. Callers serialise cut/snapshot with the changes they record. */
export class VersionHistory {
  private central: Version = ZERO_VERSION
  /** The list changes committed since the last cut, while this node is master. */
  private readonly tracker = new ChangeTracker()

  constructor (private readonly parts: VersionHistoryParts) {}

  /** Entries one replica commit changed (ListReplica.onCommit); `master`: this node cuts the next version. */
  committed (master: boolean, dataset: ListDataset, changes: ReadonlyArray<{ before: Entry | undefined, after: Entry }>): void {
    if (!master) {
      this.tracker.clear()
      return
    }
    this.tracker.recordCommit(dataset, changes)
  }

  /** Reads the newest cut version; call once before anything else. */
  async load (): Promise<void> {
    this.central = (await this.parts.store.getMeta<Version>(META_CENTRAL)) ?? ZERO_VERSION
  }

  /** The newest central version this node cut (zero when it never was master). */
  get current (): Version {
    return this.central
  }

  /**
   * Numbers and records a new central version of the replicas' present state in `term`, and drops
   * the versions past the kept bound (except the bases their snapshots build on). Its snapshot is
   * kept by {@link snapshot}, which the caller runs after announcing the version.
   */
  async cut (term: number, origin: string): Promise<CutVersion> {
    const next = { term, seq: this.central.term === term ? this.central.seq + 1 : 1 }
    const counts = this.presentCounts()
    const bayes = this.bayesCounts()
    if (bayes !== undefined) counts.bayes = bayes.tokens
    const changes: ChangeSummary = { lists: this.tracker.take() }
    const bayesMoved = bayesChange((await this.parts.store.listVersions(1))[0]?.record.bayes, bayes)
    if (bayesMoved !== undefined) changes.bayes = bayesMoved
    const record: VersionRecord = { lseq: this.parts.replica.changeSeq, bseq: this.parts.bayes?.changeSeq, time: this.parts.now(), origin, counts, changes }
    const name = this.parts.nameOf?.(origin)
    if (name !== undefined) record.name = name
    if (bayes !== undefined) record.bayes = bayes
    const dropped = await this.prunable(1)
    await this.parts.store.write({
      meta: { [META_CENTRAL]: next },
      versions: [{ term: next.term, seq: next.seq, record }],
      dropVersions: dropped,
      blobs: blobsOf(dropped)
    })
    this.central = next
    trace('cut', formatVersion(next))
    return { version: next, record }
  }

  /**
   * The versions to drop when a new one is added: all but the newest N - 1, except the versions
   * their snapshots build on.
   */
  private async prunable (adding: number): Promise<Array<{ term: number, seq: number }>> {
    const all = await this.parts.store.listVersions(Infinity)
    const byName = new Map(all.map(v => [formatVersion(v), v.record]))
    const keep = new Set<string>()
    for (const v of all.slice(0, Math.max(0, this.parts.historyVersions - adding))) {
      keep.add(formatVersion(v))
      for (let r = v.record.deltaOf; r !== undefined; r = byName.get(formatVersion(r))?.deltaOf) keep.add(formatVersion(r))
    }
    return all.filter(v => !keep.has(formatVersion(v))).map(({ term, seq }) => ({ term, seq }))
  }

  /**
   * Keeps the content of a version for rollback, deflated: the list entries (tombstones too)
   * changed since the newest kept version before it, or every one (a 121k-entry list is ~4.6 MB
   * encoded, ~1.2 MB deflated) when there is none or every {@link FULL_SNAPSHOT_EVERY} versions.
   * Run after the announcement, so no slave waits for it; a crash before it only makes that
   * version impossible to roll back to (and the next one a full snapshot).
   */
  async snapshot ({ version, record }: CutVersion): Promise<void> {
    // The base is the newest version whose content is kept here: a record received without content has none.
    const stored = await this.parts.store.listVersions(this.parts.historyVersions + FULL_SNAPSHOT_EVERY)
    const previous = stored.find(v => (v.term !== version.term || v.seq !== version.seq) && compareVersions(v, version) < 0 && v.record.sizes !== undefined)
    // A snapshot of what changed since the previous one that holds every entry (the first version
    // after a list came into an empty cluster) is a full one, of the same bytes: kept as a delta,
    // the next version began a new chain (startsNewChain: the delta outweighed its small base) and
    // encoded all 1M entries on the event loop while the first change's fetches waited (3 s).
    const chain = previous?.record.sizes === undefined || startsNewChain(previous, stored, this.bound) || await this.parts.replica.allChangedSince(previous.record.lseq) ? 0 : (previous.record.chain ?? 0) + 1
    const base = chain > 0 && chain < FULL_SNAPSHOT_EVERY ? previous : undefined
    const sizes: Record<string, number> = {}
    const blobs = []
    for (const ds of LIST_DATASETS) {
      // Encoded once for the snapshot and the fetchers' archives, deflated on the zlib thread pool
      // (the event loop keeps serving the fetches the announcement started), or as received.
      const data = await this.parts.replica.deflated(ds, base === undefined ? undefined : { lseq: base.record.lseq, ownOnly: false })
      sizes[ds] = data.byteLength
      blobs.push({ name: historyBlob(version.term, version.seq, ds), value: data })
    }
    const kept: VersionRecord = base === undefined
      ? { ...record, sizes }
      : { ...record, sizes, deltaOf: { term: base.term, seq: base.seq }, chain }
    const withKept = stored.map(v => v.term === version.term && v.seq === version.seq ? { ...v, record: kept } : v)
    const dropped = contentToDrop(withKept, this.bound)
    await this.parts.store.write({ versions: [{ term: version.term, seq: version.seq, record: kept }, ...contentDropped(withKept, dropped)], blobs: [...blobs, ...blobsOf(dropped)] })
    trace('snapshot-done', formatVersion(version))
  }

  /** The byte bound of the kept content. */
  private get bound (): HistoryBound {
    return this.parts.bound ?? DEFAULT_HISTORY_BOUND
  }

  /** The kept central versions, newest first (on a slave: those it cut while it was master). */
  async list (): Promise<HistoryItem[]> {
    const kept = await this.parts.store.listVersions(this.parts.historyVersions)
    return kept.map(({ term, seq, record }) => historyItem({ term, seq }, record))
  }

  /** One kept version's item, or undefined when it is not kept here. */
  async item (v: Version): Promise<HistoryItem | undefined> {
    const record = await this.record(v)
    return record === undefined ? undefined : historyItem(v, record)
  }

  /**
   * The records of the kept versions after `since` up to `upTo`, newest first, encoded for a
   * fetch answer: every node stores them, so the history outlives this node.
   */
  async recordsFor (since: Version, upTo: Version): Promise<Uint8Array<ArrayBuffer>> {
    const kept = await this.parts.store.listVersions(this.parts.historyVersions)
    return encodeHistory(kept.filter(v => compareVersions(v, since) > 0 && compareVersions(v, upTo) <= 0).map(({ term, seq, record }) => wireRecord({ term, seq }, record)))
  }

  /**
   * After this node applied central version `applied` from the master: stores the history
   * records that came with it (those it does not hold and not past `applied`), records `applied`
   * itself and keeps its content, so a rollback to it can run here once this node is master.
   * A version that came inside a larger delta is listed, but its content is not kept here.
   */
  async received (applied: Version, records: readonly HistoryRecord[], origin: string): Promise<void> {
    const at = { lseq: this.parts.replica.changeSeq, bseq: this.parts.bayes?.changeSeq }
    const versions: Array<{ term: number, seq: number, record: VersionRecord }> = []
    let own: VersionRecord | undefined
    for (const r of records) {
      if (compareVersions(r.version, applied) > 0 || await this.record(r.version) !== undefined) continue
      const record: VersionRecord = { ...at, time: r.time, origin: r.origin, counts: r.counts, received: true }
      if (r.name !== undefined) record.name = r.name
      if (r.changes !== undefined) record.changes = r.changes
      if (r.bayes !== undefined) record.bayes = r.bayes
      if (compareVersions(r.version, applied) === 0) own = record
      else versions.push({ ...r.version, record })
    }
    if (own === undefined && await this.record(applied) === undefined) own = { ...at, time: this.parts.now(), origin, counts: this.presentCounts(), received: true }
    if (own === undefined) {
      if (versions.length > 0) await this.parts.store.write({ versions })
      return
    }
    versions.push({ ...applied, record: own })
    const dropped = (await this.prunable(versions.length)).filter(d => !versions.some(v => v.term === d.term && v.seq === d.seq))
    await this.parts.store.write({ versions, dropVersions: dropped, blobs: blobsOf(dropped) })
    await this.snapshot({ version: applied, record: own })
  }

  private presentCounts (): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const ds of LIST_DATASETS) counts[ds] = this.parts.replica.presentCount(ds)
    return counts
  }

  private bayesCounts (): BayesCounts | undefined {
    return this.parts.bayes?.counts()
  }

  /** The record of a version this node cut and still keeps. */
  async record (v: Version): Promise<VersionRecord | undefined> {
    return await this.parts.store.getVersion(v.term, v.seq)
  }

  /** Whether a delta can be made from `v`: it was cut in the current term and its record is still kept. */
  async isDeltaBase (v: Version): Promise<boolean> {
    const central = this.central
    if (v.term !== central.term || compareVersions(v, central) > 0) return false
    return compareVersions(v, central) === 0 || await this.record(v) !== undefined
  }

  /**
   * The list content of a kept version, for a rollback to it; UnknownVersionError when it is not
   * among the listed versions or a snapshot it builds on is gone.
   */
  async contentAt (target: Version): Promise<VersionContent> {
    const kept = await this.parts.store.listVersions(this.parts.historyVersions)
    const record = kept.find(v => v.term === target.term && v.seq === target.seq)?.record
    if (record?.contentDropped === true) throw new UnknownVersionError(`version ${formatVersion(target)} is listed, but its content was dropped to keep the history within its size bound (historyFloorBytes, historyFactor); roll back to a version 'spamsync history' marks as restorable`)
    if (record?.received === true && record.sizes === undefined) throw new UnknownVersionError(`version ${formatVersion(target)} came to this node inside a larger update, so its content is not kept here; roll back to a version 'spamsync history' marks as restorable`)
    if (record?.sizes === undefined) throw new UnknownVersionError(`version ${formatVersion(target)} is not in the master's history`)
    const chain = await this.snapshotChain(target, record)
    return { entries: async (ds) => await this.snapshotEntries(chain, ds) }
  }

  /** The versions whose snapshots make up `target`'s content: a full one first, then its deltas in order. */
  private async snapshotChain (target: Version, record: VersionRecord): Promise<Version[]> {
    const chain: Version[] = [target]
    for (let r = record; r.deltaOf !== undefined;) {
      const base = r.deltaOf
      const next = await this.parts.store.getVersion(base.term, base.seq)
      if (next?.sizes === undefined) throw new UnknownVersionError(`version ${formatVersion(target)} builds on version ${formatVersion(base)}, which is no longer kept`)
      chain.unshift(base)
      r = next
    }
    return chain
  }

  /** A dataset's entries at the last version of `chain` (see snapshotChain). */
  private async snapshotEntries (chain: Version[], ds: ListDataset): Promise<Entry[]> {
    const entries = new Map<string, Entry>()
    for (const v of chain) {
      const blob = await this.parts.store.getBlob(historyBlob(v.term, v.seq, ds))
      if (blob === undefined) continue
      // Inflated on the zlib thread pool, like the snapshot was deflated: the caller waits, the event loop does not.
      for (const e of decodeEntries(await inflateRawAsync(blob), { name: `history ${formatVersion(v)} ${ds}` })) entries.set(e.key, e)
    }
    return [...entries.values()]
  }
}

/**
 * The records of the `dropped` versions, whose content the byte bound drops: still listed (the
 * history outlives the content), no longer restorable, and marked so a rollback to one says why.
 */
function contentDropped (versions: readonly StoredVersion[], dropped: ReadonlyArray<{ term: number, seq: number }>): StoredVersion[] {
  return versions.filter(v => dropped.some(d => d.term === v.term && d.seq === v.seq)).map(({ term, seq, record }) => {
    const listed: VersionRecord = { ...record, contentDropped: true }
    delete listed.sizes
    delete listed.deltaOf
    delete listed.chain
    return { term, seq, record: listed }
  })
}

/** The blobs of dropped versions, to delete with them. */
function blobsOf (dropped: Array<{ term: number, seq: number }>): Array<{ name: string, value: null }> {
  return dropped.flatMap(({ term, seq }) => LIST_DATASETS.map(ds => ({ name: historyBlob(term, seq, ds), value: null })))
}

function historyItem (version: Version, record: VersionRecord): HistoryItem {
  const item: HistoryItem = { version, time: new Date(record.time).toISOString(), origin: record.origin, counts: record.counts, sizes: record.sizes ?? {}, restorable: record.sizes !== undefined }
  if (record.name !== undefined) item.name = record.name
  if (record.changes !== undefined) item.changes = record.changes
  if (record.bayes !== undefined) item.bayes = record.bayes
  if (record.contentDropped === true) item.contentDropped = true
  return item
}

/** A stored record as it travels: this node's sequences and snapshot sizes stay here. */
function wireRecord (version: Version, record: VersionRecord): HistoryRecord {
  const out: HistoryRecord = { version, time: record.time, origin: record.origin, counts: record.counts }
  if (record.name !== undefined) out.name = record.name
  if (record.changes !== undefined) out.changes = record.changes
  if (record.bayes !== undefined) out.bayes = record.bayes
  return out
}
