/**
 * The master's central versions: numbering and recording a new one, pruning the kept history to
 * its bound, keeping each kept version's list content as a (delta) snapshot, and reading that
 * content back for a rollback. It owns the `centralVersion` meta key and the `history!` blobs.
 */
import { deflateRaw, inflateRaw } from 'node:zlib'
import { promisify } from 'node:util'
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { UnknownVersionError } from '../errors.js'
import { compareVersions, formatVersion, ZERO_VERSION, type Version } from '../version.js'
import { decodeEntries, encodeEntries } from '../archive/list-codec.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { StateStore, VersionRecord } from '../store/state-store.js'
import type { Entry } from '../crdt/lww-set.js'

/** Meta key of the newest central version this node cut. */
const META_CENTRAL = 'centralVersion'

const deflateRawAsync = promisify(deflateRaw)
const inflateRawAsync = promisify(inflateRaw)

const hex8 = (n: number): string => n.toString(16).padStart(8, '0')

/** Blob name of a kept version's snapshot of one list dataset. */
const historyBlob = (term: number, seq: number, dataset: ListDataset): string => `history!${hex8(term)}!${hex8(seq)}!${dataset}`

/**
 * A kept version's snapshot holds only what changed since the version before it, except every
 * this many versions: a full snapshot of a 1M-entry list took 5 s of the master's event loop per
 * version. A rollback then reads one full snapshot and at most 15 deltas, and at most 15 versions
 * beyond historyVersions are kept as the bases of kept ones.
 */
export const FULL_SNAPSHOT_EVERY = 16

/** One kept central version, as `GET /history` lists it. */
export interface HistoryItem {
  version: Version
  /** ISO time the version was cut. */
  time: string
  origin: string
  counts: Record<string, number>
  sizes: Record<string, number>
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
  now: () => number
}

/** The central versions of one node. Callers serialise cut/snapshot with the changes they record. */
export class VersionHistory {
  private central: Version = ZERO_VERSION

  constructor (private readonly parts: VersionHistoryParts) {}

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
    const counts: Record<string, number> = {}
    for (const ds of LIST_DATASETS) counts[ds] = this.parts.replica.presentCount(ds)
    const bayes = this.parts.bayes
    if (bayes !== undefined) counts.bayes = bayes.tokenCount
    const record: VersionRecord = { lseq: this.parts.replica.changeSeq, bseq: bayes?.changeSeq, time: this.parts.now(), origin, counts }
    const dropped = await this.prunable()
    await this.parts.store.write({
      meta: { [META_CENTRAL]: next },
      versions: [{ term: next.term, seq: next.seq, record }],
      dropVersions: dropped,
      blobs: dropped.flatMap(({ term, seq }) => LIST_DATASETS.map(ds => ({ name: historyBlob(term, seq, ds), value: null })))
    })
    this.central = next
    return { version: next, record }
  }

  /**
   * The versions to drop when a new one is added: all but the newest N - 1, except the versions
   * their snapshots build on.
   */
  private async prunable (): Promise<Array<{ term: number, seq: number }>> {
    const all = await this.parts.store.listVersions(Infinity)
    const byName = new Map(all.map(v => [formatVersion(v), v.record]))
    const keep = new Set<string>()
    for (const v of all.slice(0, this.parts.historyVersions - 1)) {
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
    const previous = (await this.parts.store.listVersions(2)).find(v => v.term !== version.term || v.seq !== version.seq)
    const chain = previous?.record.sizes === undefined ? 0 : (previous.record.chain ?? 0) + 1
    const base = chain > 0 && chain < FULL_SNAPSHOT_EVERY ? previous : undefined
    const sizes: Record<string, number> = {}
    const blobs = []
    for (const ds of LIST_DATASETS) {
      const entries = base === undefined ? this.parts.replica.entries(ds) : await this.parts.replica.changedSince(ds, base.record.lseq)
      // Deflate on the zlib thread pool: the event loop keeps serving the fetches the announcement started.
      const data = await deflateRawAsync(encodeEntries(entries).data, { level: 1 })
      sizes[ds] = data.byteLength
      blobs.push({ name: historyBlob(version.term, version.seq, ds), value: data })
    }
    const kept: VersionRecord = base === undefined
      ? { ...record, sizes }
      : { ...record, sizes, deltaOf: { term: base.term, seq: base.seq }, chain }
    await this.parts.store.write({ versions: [{ term: version.term, seq: version.seq, record: kept }], blobs })
  }

  /** The kept central versions, newest first (on a slave: those it cut while it was master). */
  async list (): Promise<HistoryItem[]> {
    const kept = await this.parts.store.listVersions(this.parts.historyVersions)
    return kept.map(({ term, seq, record }) => ({
      version: { term, seq }, time: new Date(record.time).toISOString(), origin: record.origin, counts: record.counts, sizes: record.sizes ?? {}
    }))
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
