/**
 * Tombstone collection (protocol/sync-v1.md, "Tombstones"): the master raises a floor as every
 * member it waits for applies its versions and announces it in its beacon; every node drops the
 * tombstones stamped before the floor it knows; entries from elsewhere are screened against the
 * floor under which this node dropped tombstones, so a deleted entry never comes back; and a
 * node that applies the master's full state drops what it holds from before the floor that the
 * master no longer has (it was away while the entry was deleted). The rule itself is pure, in
 * crdt/tombstone-floor.ts; this module feeds it and carries out what it decides.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { collectable, DEFAULT_TOMBSTONE_OPTIONS, floorCandidate, oldestWaited, screenIncoming, sortStale, type FloorInputs, type KnownMember, type TombstoneOptions } from '../crdt/tombstone-floor.js'
import { compareVersions, ZERO_VERSION, type Version } from '../version.js'
import { StaleEntriesError } from '../errors.js'
import type { Entry } from '../crdt/lww-set.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { StateStore, StoredEntry } from '../store/state-store.js'
import type { SerialQueue } from './serial-queue.js'
import type { EngineParts } from './engine-types.js'
import type { Uploader } from './uploader.js'
import type { VersionHistory } from './version-history.js'

/** Meta key of the floor under which this node dropped tombstones (its screen of incoming entries). */
const META_DROPPED_UNDER = 'tombstoneFloor'
/** Meta key of when this slave last knew it had applied the master's newest version (ms). */
const META_CURRENT_AT = 'tombstoneCurrentAt'
/** How often that time is stored: a crash loses at most this much, which only makes a full fetch come sooner. */
const CURRENT_AT_WRITE_MS = 60_000

/** What the collector works with. */
export interface TombstoneParts {
  store: StateStore
  replica: ListReplica
  queue: SerialQueue
  /** This node is master now, and its term and newest version. */
  master: () => { term: number, current: Version } | null
  /** The other members this node knows; none: the master waits for no one (a lone node). */
  members: () => readonly KnownMember[]
  /** Members whose full state the master merged in its term. */
  fullSeen: (nodeId: string) => boolean
  /** This node's upload acknowledged up to this local change sequence (-1: never). */
  ackedLseq: () => number
  /** Own edits were stamped anew, or uploads were held and may go: an upload is due. */
  uploadDue: () => void
  /** This slave has applied the newest version its master announced. */
  upToDate: () => boolean
  options: TombstoneOptions
  now: () => number
  report: (what: string, err: unknown) => void
}

/** Collects tombstones on one node. */
export class TombstoneCollector {
  /** Highest floor known: the one this master computed, or the one its master announced. */
  private known = 0
  /** The floor under which this node dropped tombstones: incoming entries are screened with it. */
  private droppedUnder = 0
  /** Oldest stamp of a tombstone held (ms); -Infinity while unknown, Infinity when there is none. */
  private oldestTombstone = -Infinity
  private lastRun = -Infinity
  private running = false
  /** Cut time of each version of the master's term, by seq (only while it is master). */
  private readonly cutTimes = new Map<number, number>()
  /** The term of those versions, and when this node cut its first one of it. */
  private cutTerm = { term: -1, since: 0 }
  /** A fetch from before this version missed dropped tombstones: it gets the full state. */
  private fullBefore: Version = ZERO_VERSION
  /** When this slave last knew it had applied its master's newest version (ms; 0: never), and when that was stored. */
  private currentAt = { ms: 0, stored: 0 }
  /**
   * True while this slave must take the master's full state before it uploads: the floor passed
   * the last time it was up to date, so it was away while tombstones it never saw were dropped.
   */
  private away = false

  constructor (private readonly parts: TombstoneParts) {}

  /** Reads the floor this node dropped under; call once before anything else. */
  async load (): Promise<void> {
    this.droppedUnder = (await this.parts.store.getMeta<number>(META_DROPPED_UNDER)) ?? 0
    this.known = this.droppedUnder
    const at = (await this.parts.store.getMeta<number>(META_CURRENT_AT)) ?? 0
    this.currentAt = { ms: at, stored: at }
  }

  /** True while this slave must fetch the master's full state and hold its uploads (see `away`). */
  get mustTakeFullState (): boolean {
    return this.away
  }

  /** The floor this node announces (as master) or follows (as slave); 0: none. */
  get floor (): number {
    return this.known
  }

  /** The master cut `version` at `time`. */
  versionCut (version: Version, time: number): void {
    if (version.term !== this.cutTerm.term) {
      this.cutTimes.clear()
      this.cutTerm = { term: version.term, since: time }
    }
    this.cutTimes.set(version.seq, time)
  }

  /** Entries changed the replica: a new tombstone may be older than the oldest one known. */
  committed (changes: ReadonlyArray<{ after: StoredEntry }>): void {
    for (const { after } of changes) {
      if (!after.present && after.stamp.wallMs < this.oldestTombstone) this.oldestTombstone = after.stamp.wallMs
    }
  }

  /** Called every heartbeat: the master raises the floor, and any node collects when there is work. */
  tick (): void {
    const master = this.parts.master()
    if (master !== null) {
      // A master holds the central state: should it step down, it was never away.
      this.noteCurrent(this.parts.now())
      this.raise(master)
    }
    this.collectDue()
  }

  /**
   * The master's beacon announced `floor`: a slave follows it, never past its own clock. When the
   * floor is past the last time this slave was up to date, it was away: it holds its uploads and
   * takes the master's full state first (afterFullState).
   */
  announced (floor: number): void {
    if (this.parts.master() !== null) return
    const now = this.parts.now()
    const bounded = Math.min(floor, now)
    if (bounded > this.known) this.known = bounded
    if (!this.away && this.known > this.currentAt.ms) this.away = true
    if (!this.away && this.parts.upToDate()) this.noteCurrent(now)
    this.collectDue()
  }

  /** True when a fetch since `since` must get the full state: it predates tombstones dropped here. */
  needsFull (since: Version): boolean {
    return compareVersions(since, this.fullBefore) < 0
  }

  /**
   * Screens the entries of an upload or an archive before they are merged
   * (crdt/tombstone-floor.ts, screenIncoming); returns how many were refused.
   */
  screen (lists: Map<ListDataset, Entry[]>, from: string): number {
    let refused = 0
    for (const [dataset, entries] of lists) {
      const screened = screenIncoming(entries, this.droppedUnder, key => this.parts.replica.get(dataset, key), this.parts.now())
      lists.set(dataset, screened.entries)
      refused += screened.refused
    }
    if (refused > 0) this.parts.report(`upload from ${from}`, new StaleEntriesError(`${refused} entries stamped before the tombstone floor ${new Date(this.droppedUnder).toISOString()} were not taken: their keys may have been deleted while that node was away`))
    return refused
  }

  /**
   * After this node applied the master's full state (`carried`): drops what it holds from before
   * the floor that the master no longer has, and stamps anew its own edits the master never got.
   * Returns the datasets whose present entries changed (their files are due a write).
   */
  async afterFullState (carried: ReadonlyMap<ListDataset, readonly Entry[]>): Promise<ListDataset[]> {
    const floor = this.known
    if (floor <= 0) return []
    const acked = this.parts.ackedLseq()
    const changed: ListDataset[] = []
    if (this.away) {
      this.away = false
      this.noteCurrent(this.parts.now())
      this.parts.uploadDue()
    }
    for (const ds of LIST_DATASETS) {
      const keys = new Set((carried.get(ds) ?? []).map(e => e.key))
      const stale = sortStale([...this.parts.replica.entries(ds)], k => keys.has(k), floor, e => !e.synced && e.lseq > acked)
      const present = stale.drop.flatMap(k => { const e = this.parts.replica.get(ds, k); return e?.present === true ? [e] : [] })
      // A present entry becomes a tombstone just past it first (from the central state: nothing to
      // upload), so the outputs, which follow the changes, lose its line too; it is below the
      // floor, and the next collection drops it.
      if (present.length > 0) await this.parts.replica.merge(ds, present.map(e => ({ key: e.key, value: '', present: false, stamp: { wallMs: e.stamp.wallMs + 1, counter: 0, nodeId: e.stamp.nodeId } })), { synced: true })
      const turned = new Set(present.map(e => e.key))
      await this.parts.replica.dropEntries(ds, stale.drop.filter(k => !turned.has(k)))
      if (stale.restamp.length > 0) {
        const clock = this.parts.replica.clock
        await this.parts.replica.merge(ds, stale.restamp.map(e => ({ ...e, stamp: clock.now() })), { synced: false })
        this.parts.uploadDue()
      }
      if (present.length > 0) changed.push(ds)
    }
    return changed
  }

  // Remembers that this slave was up to date at `now`, stored now and then.
  private noteCurrent (now: number): void {
    this.currentAt.ms = now
    if (now - this.currentAt.stored < CURRENT_AT_WRITE_MS) return
    this.currentAt.stored = now
    this.parts.store.write({ meta: { [META_CURRENT_AT]: now } }).catch((err) => { this.parts.report('store', err) })
  }

  // The master's floor moves up to what every member it waits for allows.
  private raise (master: { term: number, current: Version }): void {
    // A new master first hears its members and merges their full states: meanwhile it knows too little.
    if (this.cutTerm.term !== master.term || this.parts.now() - this.cutTerm.since < this.parts.options.graceMs) return
    const inputs: FloorInputs = {
      now: this.parts.now(),
      term: master.term,
      current: master.current,
      cutTime: seq => this.cutTimes.get(seq),
      members: this.parts.members().map(m => ({ ...m, fullSeen: this.parts.fullSeen(m.nodeId) })),
      keepMs: this.parts.options.keepMs,
      graceMs: this.parts.options.graceMs
    }
    const candidate = floorCandidate(inputs)
    if (candidate === null || candidate <= this.known) return
    this.known = candidate
    const oldest = oldestWaited(inputs)
    if (compareVersions(oldest, this.fullBefore) > 0) this.fullBefore = oldest
    for (const seq of this.cutTimes.keys()) if (seq < oldest.seq && oldest.term === master.term) this.cutTimes.delete(seq)
  }

  // Collects when a tombstone may be below the floor, at most once per interval.
  private collectDue (): void {
    const now = this.parts.now()
    if (this.running || this.known <= 0 || this.known <= this.oldestTombstone || now - this.lastRun < this.parts.options.intervalMs) return
    this.running = true
    this.lastRun = now
    this.parts.queue.run(async () => { await this.collect(this.known) })
      .catch((err) => { this.parts.report('drop tombstones', err) })
      .finally(() => { this.running = false })
  }

  /**
   * Drops the tombstones stamped before `floor`, except this node's own deletes the master has
   * not acknowledged (they still have to reach it). The floor is stored first: a crash between
   * the two leaves a screen that is stricter, never looser, than what was dropped.
   */
  private async collect (floor: number): Promise<void> {
    if (floor > this.droppedUnder) {
      // With the time this node was last up to date, so a restart does not take it for away.
      await this.parts.store.write({ meta: { [META_DROPPED_UNDER]: floor, [META_CURRENT_AT]: this.currentAt.ms } })
      this.droppedUnder = floor
      this.currentAt.stored = this.currentAt.ms
    }
    const acked = this.parts.ackedLseq()
    let oldest = Infinity
    for (const ds of LIST_DATASETS) {
      const drop: string[] = []
      for (const e of this.parts.replica.entries(ds)) {
        if (collectable(e, floor) && (e.synced || e.lseq <= acked)) drop.push(e.key)
        else if (!e.present && e.stamp.wallMs < oldest) oldest = e.stamp.wallMs
      }
      await this.parts.replica.dropEntries(ds, drop)
    }
    this.oldestTombstone = oldest
  }
}

/** The engine's parts a collector reads. */
export interface EngineInside {
  queue: SerialQueue
  now: () => number
  versions: Pick<VersionHistory, 'current'>
  fullSeen: ReadonlySet<string>
  uploader: () => Pick<Uploader, 'acknowledged' | 'request'>
  /** The slave has applied the newest version its master announced. */
  upToDate: () => boolean
  report: (what: string, err: unknown) => void
}

/** The collector of a sync engine. */
export function engineCollector (parts: EngineParts, inside: EngineInside): TombstoneCollector {
  const isMaster = (): boolean => parts.roles.role === 'master'
  return new TombstoneCollector({
    store: parts.store,
    replica: parts.replica,
    queue: inside.queue,
    master: () => isMaster() ? { term: parts.roles.term, current: inside.versions.current } : null,
    members: parts.members ?? (() => []),
    fullSeen: (nodeId) => inside.fullSeen.has(nodeId),
    // The master's own edits are central at once; a slave's once its upload is acknowledged.
    ackedLseq: () => isMaster() ? Infinity : inside.uploader().acknowledged?.lseq ?? -1,
    uploadDue: () => { inside.uploader().request() },
    upToDate: inside.upToDate,
    options: { ...DEFAULT_TOMBSTONE_OPTIONS, ...parts.tombstones },
    now: inside.now,
    report: inside.report
  })
}
