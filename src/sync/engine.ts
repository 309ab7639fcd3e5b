/**
 * The sync engine of one node: decides what to upload, merges what the master receives, cuts
 * central versions, serves and applies deltas. It knows the network only through the small
 * {@link SyncNetwork} interface and the election only through {@link RoleView}, so the whole
 * flow runs in tests without libp2p.
 *
 * Every change to local state runs through one serial queue: a scan, a merge, an apply and the
 * file writes after them never interleave.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { ArchiveError, NoMasterError, SyncRefusedError, VersionAheadError, errorMessage } from '../errors.js'
import { buildSettingsArchive, readSettingsArchive, type SettingsArchive } from './settings-archive.js'
import { incompatibility, type PeerVersions } from '../protocol/compat.js'
import { compareVersions, formatVersion, ZERO_VERSION, type Version } from '../version.js'
import { VersionHistory, type HistoryItem } from './version-history.js'
import { decodeHistory, type HistoryRecord } from '../archive/history-record.js'
import { ROLLBACK_LISTED_KEYS, summarizeDataset, type RollbackOutcome } from '../archive/change-summary.js'
import { rollbackEntries } from './rollback.js'
import { ErrorLog, type SyncErrorReport } from './error-log.js'
import { Status } from '../pb/spamsync.js'
import type { FetchAsk, Served } from '../protocol/fetch-service.js'
import { ArchiveOffer, FanOutFetcher, type FanOutPeers, type HeldArchive } from './fan-out.js'
import { archiveRef, describeArchive, sameArchive, type ArchiveRef } from '../protocol/archive-ref.js'
import type { UploadOutcome } from '../protocol/upload-service.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { SettingsFolder } from '../replica/settings-folder.js'
import type { StateStore } from '../store/state-store.js'
import type { Entry } from '../crdt/lww-set.js'
import { expireTokens } from '../crdt/bayes-counters.js'
import { checkUploadContributions } from '../replica/upload-contributions.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { BayesFile } from '../settings/bayes-file.js'
import { reportInvalid, type InvalidReport } from '../settings/list-file.js'
import type { BayesContribution, EncodedBayes } from '../archive/bayes-codec.js'
import { printable, ERROR_TEXT_MAX } from '../printable.js'

/** Meta keys this module owns. */
const META_APPLIED = 'appliedVersion'
const META_UPLOAD_ACK = 'uploadAck'

export type { HistoryItem } from './version-history.js'

/** The election as the engine sees it. */
export interface RoleView {
  readonly role: 'master' | 'slave' | 'candidate'
  readonly masterId: string | null
  readonly term: number
}

/** The engine's way to the other nodes. */
export interface SyncNetwork {
  /** Uploads an archive to the master. */
  upload: (masterId: string, req: { kind: 'full' | 'delta', baseTerm: number, baseLseq: number }, zip: Uint8Array) => Promise<UploadOutcome>
  /** Fetches the central changes since `since` from `peerId`, or exactly `archive` when given. */
  fetch: FanOutPeers['fetch']
  /** Live peers whose beacon announces a full archive. */
  holders: FanOutPeers['holders']
  /** A live node that may still come to hold a full archive. */
  awaited: FanOutPeers['awaited']
  /** Tells the cluster about a new central version at once (not at the next heartbeat). */
  announce: () => void
}

/** What the master acknowledged of this node's uploads. */
interface UploadAck {
  masterId: string
  term: number
  /** Local change sequence up to which the master has everything. */
  lseq: number
  /** Bayes change sequence up to which the master has this node's contribution. */
  bseq?: number
}

/** An upload archive and what it was built for. */
interface PendingUpload {
  zip: Uint8Array
  /** Local change sequence the archive covers. */
  lseq: number
  /** Bayes change sequence the archive covers. */
  bseq: number
  /** Change sequence of this node's own Bayes contribution when the archive was built. */
  ownBseq: number
  full: boolean
  masterId: string
  term: number
}

export type { SyncErrorReport } from './error-log.js'

/** Times and sizes of the last transfers, for status. */
export interface TransferReport {
  time: string
  kind: 'full' | 'delta'
  bytes: number
  version?: Version
  peer: string
}

/** A dataset whose settings file a sync writes: a list file, or bayes.txt. */
export type WrittenDataset = ListDataset | 'bayes'

/** Hooks the engine calls; the agent wires them to logs, metrics and commands. */
export interface EngineHooks {
  /** Settings files an apply or merge changed (bayes.txt once it is written and imported). */
  onFilesChanged?: (datasets: WrittenDataset[]) => void | Promise<void>
  /** List files the operator (or a tool of theirs) edited on this node, after they were scanned in. */
  onLocalEdits?: (datasets: ListDataset[]) => void | Promise<void>
  /** An error worth showing to the operator; a repeat comes again with its count raised. */
  onError?: (report: SyncErrorReport) => void
}

/** Parts the engine works on. */
export interface EngineParts {
  nodeId: string
  store: StateStore
  replica: ListReplica
  folder: SettingsFolder
  roles: RoleView
  network: SyncNetwork
  strictVersion: boolean
  /** Central versions the master keeps (records and list snapshots) for history and rollback. */
  historyVersions: number
  hooks?: EngineHooks
  now?: () => number
  /** The Bayes dataset, when it is synced. */
  bayes?: BayesParts
  /** Full archives go from peer to peer (fan-out.ts); off: every node fetches from the master only. */
  fanOut: boolean
  /** A node's name by its id, for the history records (default: none kept). */
  nameOf?: (nodeId: string) => string | undefined
  /** A live or connected node, whose Bayes contribution no other node's upload may grow (default: none). */
  speaksForItself?: (nodeId: string) => boolean
}

/** The parts of the Bayes dataset. */
export interface BayesParts {
  replica: BayesReplica
  file: BayesFile
  /** Keep only this many newest tokens in the written DB (0 = all). */
  maxTokens: number
}

/** A single-lane queue: each task starts after the previous one settled. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T> (task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    // The next task waits for this one to settle; its error goes to this caller, through `result`.
    this.tail = Promise.allSettled([result])
    return result
  }
}

/** The sync engine. */
export class SyncEngine {
  private readonly queue = new SerialQueue()
  /** The central versions this node cut as master. */
  private readonly versions: VersionHistory
  private applied: Version = ZERO_VERSION
  private uploadAck: UploadAck | null = null
  /** Nodes whose full state the master merged in this term: their deltas can be taken. */
  private readonly fullSeen = new Set<string>()
  private uploading: Promise<void> | null = null
  private uploadAgain = false
  /** The last archive built for upload and not yet acknowledged, kept for a resume. */
  private unacked: PendingUpload | null = null
  /** The last upload failed: the next heartbeat tries again. */
  private uploadFailed = false
  /** Files whose write failed (a full disk): the next heartbeat writes them again. */
  private readonly unwritten = new Set<ListDataset>()
  /**
   * bayes.txt lags the replica: its write or import failed, or it was left to a newer change
   * already on its way (a waiting upload merge, an announced version), which writes it once for
   * both. The next heartbeat writes it when nothing newer is under way.
   */
  private bayesUnwritten = false
  /** Upload merges waiting for the queue. */
  private mergesWaiting = 0
  private fetching: Promise<void> | null = null
  /** Newest central version announced by the master. */
  private announced: Version = ZERO_VERSION
  private readonly now: () => number
  /** The full archive this node sends on (the master's own, or one it fetched). */
  private readonly offer = new ArchiveOffer()
  private readonly fetcher: FanOutFetcher
  private readonly errorLog = new ErrorLog()
  /** Tokens in the Bayes DB last written to bayes.txt. */
  bayesTokens = 0
  lastUpload: TransferReport | null = null
  lastDownload: TransferReport | null = null

  constructor (private readonly parts: EngineParts) {
    this.now = parts.now ?? Date.now
    this.versions = new VersionHistory({ store: parts.store, replica: parts.replica, bayes: parts.bayes?.replica, historyVersions: parts.historyVersions, now: this.now, nameOf: parts.nameOf })
    parts.replica.onCommit = (dataset, changes) => { this.versions.committed(this.parts.roles.role === 'master', dataset, changes) }
    const { network } = parts
    this.fetcher = new FanOutFetcher(parts.nodeId, {
      fetch: network.fetch,
      holders: network.holders,
      awaited: network.awaited,
      // The error's name (WrongArchiveError, TransferError, ...) says what the peer did wrong.
      onPeerFailed: (peer, err: any) => { this.report(`download from ${peer}`, { message: `${err?.name ?? 'Error'}: ${errorMessage(err)}` }) }
    }, this.now)
  }

  /** The full archive this node offers to peers, for its beacon; null when fan-out is off. */
  get fullArchive (): ArchiveRef | null {
    return this.parts.fanOut ? this.offer.held?.ref ?? null : null
  }

  /** The errors status shows, oldest first; a repeated one once, with its count. */
  get errors (): readonly SyncErrorReport[] {
    return this.errorLog.entries
  }

  /** False while a settings file this node must write cannot be written: it is then no fit master. */
  get canApply (): boolean {
    return this.unwritten.size === 0
  }

  /** Loads persisted versions; call once before anything else. */
  async load (): Promise<void> {
    await this.versions.load()
    this.applied = (await this.parts.store.getMeta<Version>(META_APPLIED)) ?? ZERO_VERSION
    this.uploadAck = (await this.parts.store.getMeta<UploadAck>(META_UPLOAD_ACK)) ?? null
  }

  /** Newest central version this node holds (the master's current one, or the applied one). */
  get version (): Version {
    return this.parts.roles.role === 'master' ? this.versions.current : this.applied
  }

  /** Central version this node applied to its files (on the master: the current one). */
  get appliedVersion (): Version {
    return this.parts.roles.role === 'master' ? this.versions.current : this.applied
  }

  /** Scans the settings folder; the master cuts a version, a slave uploads. */
  async localChanged (): Promise<number> {
    const changed = await this.queue.run(async () => {
      const { changed, failed } = await this.parts.folder.scan()
      for (const { dataset } of failed) this.report(`read ${dataset}`, { message: this.parts.folder.problem(dataset) })
      let n = 0
      for (const entries of changed.values()) n += entries.length
      if (n > 0 && this.parts.roles.role === 'master') {
        await this.cutVersion(this.parts.nodeId)
      }
      if (changed.size > 0) await this.parts.hooks?.onLocalEdits?.([...changed.keys()])
      return n
    })
    if (changed > 0 && this.parts.roles.role !== 'master') this.requestUpload()
    return changed
  }

  /**
   * Brings every settings file in line with the replica (at start: a file that was deleted, or
   * a write that a crash cut short, is redone; bayes.txt and its import too). An operator's
   * edit is scanned first, not lost.
   */
  async restoreFiles (): Promise<void> {
    await this.queue.run(async () => {
      const changed: WrittenDataset[] = []
      for (const ds of LIST_DATASETS) if (await this.writeFile(ds)) changed.push(ds)
      if (this.parts.bayes?.replica.writeDue === true && await this.writeBayes()) changed.push('bayes')
      if (changed.length > 0) await this.parts.hooks?.onFilesChanged?.(changed)
    })
  }

  /**
   * Runs the Bayes export command, reads bayes.txt and adds what this node learned since the
   * last scan to its contribution; the master cuts a version, a slave uploads.
   */
  async bayesChanged (): Promise<number> {
    if (this.parts.bayes === undefined) return 0
    const grew = await this.queue.run(async () => {
      const n = await this.scanBayes()
      if (n > 0 && this.parts.roles.role === 'master') await this.cutVersion(this.parts.nodeId)
      return n
    })
    if (grew > 0 && this.parts.roles.role !== 'master') this.requestUpload()
    return grew
  }

  /** The election made this node master in a new term: start the term's first version. */
  async becameMaster (): Promise<void> {
    await this.queue.run(async () => {
      this.fullSeen.clear()
      await this.cutVersion(this.parts.nodeId)
    })
  }

  /**
   * Cluster time moved (the master's clock was heard, or this node became master): stamps made
   * on a clock too far ahead come down to the skew bound (ListReplica.clampFuture).
   */
  async clockMoved (): Promise<void> {
    if (!this.parts.replica.aheadOfBound()) return
    await this.queue.run(async () => { await this.parts.replica.clampFuture() })
  }

  /** This node follows a (possibly new) master: make sure the master has all of this node's state. */
  followMaster (): void {
    this.requestUpload()
  }

  /** A beacon told the master's central version: fetch when it is newer than what was applied. */
  masterAnnounced (version: Version): void {
    // Only the master of a term cuts its versions: one past this node's term is forged, and taken
    // as the newest it would hide every honest version after it.
    if (this.aheadOfTerm(version)) return
    if (compareVersions(version, this.announced) > 0) this.announced = version
    if (this.parts.roles.role !== 'slave') return
    if (compareVersions(this.announced, this.applied) > 0) this.requestFetch()
  }

  /** A peer announced a full archive: fetch now if this node waits for one. */
  archiveAnnounced (ref: ArchiveRef): void {
    const awaiting = this.fetcher.awaiting
    if (awaiting !== null && sameArchive(awaiting, ref) && this.parts.roles.role === 'slave') this.requestFetch()
  }

  /** Uploads now if anything is pending; resolves when the upload (and any re-run) is done. */
  async syncUpload (): Promise<void> {
    this.requestUpload()
    while (this.uploading !== null) await this.uploading
  }

  /** Fetches now if the master has something newer; resolves when done. */
  async syncDownload (): Promise<void> {
    if (this.parts.roles.role === 'slave') this.requestFetch(true)
    while (this.fetching !== null) await this.fetching
  }

  /**
   * Called every heartbeat: retries what failed (an upload, a download, a file write), so a
   * passing fault heals without an operator.
   */
  tick (): void {
    if (this.uploadFailed) this.requestUpload()
    if (this.parts.roles.role === 'slave' && (compareVersions(this.announced, this.applied) > 0 || this.aheadOfTerm(this.applied))) this.requestFetch()
    if (this.bayesUnwritten && this.mergesWaiting === 0 && this.fetching === null) {
      this.queue.run(async () => {
        // A change queued before this task may have written it already.
        if (this.bayesUnwritten && await this.writeBayes()) await this.parts.hooks?.onFilesChanged?.(['bayes'])
      }).catch((err) => { this.report('write bayes', err) })
    }
    if (this.unwritten.size > 0) {
      this.queue.run(async () => {
        const changed: ListDataset[] = []
        for (const ds of [...this.unwritten]) if (await this.writeFile(ds)) changed.push(ds)
        if (changed.length > 0) await this.parts.hooks?.onFilesChanged?.(changed)
      }).catch((err) => { this.report('write files', err) })
    }
  }

  /** Waits for every queued change to finish (used at shutdown: an apply in flight completes). */
  async drain (): Promise<void> {
    await this.queue.run(async () => {})
    while (this.uploading !== null || this.fetching !== null) {
      await Promise.allSettled([this.uploading, this.fetching])
    }
  }

  // ---- master side ----

  /** Why an upload from this peer is refused now, or null. */
  uploadRefusal (hello: PeerVersions & { nodeId: string }): string | null {
    const bad = incompatibility(hello, this.parts.strictVersion)
    if (bad !== null) return `incompatible: ${bad}`
    if (this.parts.roles.role !== 'master') return `not master (master is ${this.parts.roles.masterId ?? 'unknown'})`
    return null
  }

  /** A delta can only be merged on top of a full upload from that node in this term. */
  needsFull (nodeId: string, baseTerm: number): boolean {
    return baseTerm !== this.parts.roles.term || !this.fullSeen.has(nodeId)
  }

  /** Checks and merges an uploaded archive; returns the central version that holds it. */
  async mergeUpload (nodeId: string, zip: Uint8Array, kind: 'full' | 'delta'): Promise<Version> {
    let archive: SettingsArchive
    try {
      archive = readSettingsArchive(zip)
    } catch (err) {
      // The uploader hears the reason in its reply; the operator of the master sees it in status.
      if (err instanceof ArchiveError) this.report(`upload from ${nodeId}`, err)
      throw err
    }
    this.mergesWaiting++
    let waiting = true
    const done = (): void => {
      if (waiting) this.mergesWaiting--
      waiting = false
    }
    return await this.queue.run(async () => {
      done()
      if (this.parts.roles.role !== 'master') throw new SyncRefusedError('no longer master')
      const bayes = this.parts.bayes?.replica
      if (bayes !== undefined) {
        const held = new Map(bayes.contributions().map(c => [c.nodeId, c.db]))
        const handOver = kind === 'full' && archive.manifest.kind === 'full' ? 'full' : 'delta'
        checkUploadContributions(nodeId, handOver, archive.bayes, {
          held: id => held.get(id),
          speaksForItself: id => id === this.parts.nodeId || (this.parts.speaksForItself?.(id) ?? false)
        })
      }
      const changed: ListDataset[] = []
      for (const [dataset, entries] of archive.lists) {
        if ((await this.parts.replica.merge(dataset, entries, { synced: true })).length > 0) changed.push(dataset)
      }
      const bayesGrew = await this.mergeBayes(archive.bayes)
      if (kind === 'full') this.fullSeen.add(nodeId)
      if (changed.length > 0 || bayesGrew) await this.cutVersion(nodeId, changed, bayesGrew)
      return this.versions.current
    }).catch((err) => {
      done()
      // The uploader only hears a refusal; a local failure (a full disk) belongs in this node's status.
      if (!(err instanceof SyncRefusedError)) this.report(err instanceof ArchiveError ? `upload from ${nodeId}` : `merge upload from ${nodeId}`, err)
      throw err
    })
  }

  /**
   * Builds the answer to a fetch: a delta when this node cut `since`, else the full state. It
   * reads outside the queue, so a fetch is not held up by the master writing its own files;
   * a change committed meanwhile may ride along, which the receiver's merge takes as it comes.
   * A delta leaves out the requester's own Bayes contribution: only that node writes it, so
   * it already holds all of it (a full answer carries it, for a node that lost its state).
   */
  async serveFetch (since: Version, ask: FetchAsk): Promise<Served> {
    const served = this.parts.roles.role === 'master' ? await this.serveCentral(since, ask) : this.serveHeld(ask)
    // The history of the versions it covers goes with an archive, so every node keeps it.
    if (served.status === Status.OK && served.version !== undefined) served.history = await this.versions.recordsFor(served.kind === 'delta' ? since : ZERO_VERSION, served.version)
    return served
  }

  /** The master's answer to a fetch (see serveFetch). */
  private async serveCentral (since: Version, ask: FetchAsk): Promise<Served> {
    const version = this.versions.current
    if (compareVersions(since, version) >= 0) return { status: Status.UP_TO_DATE, version }
    const record = since.term === version.term ? await this.versions.record(since) : undefined
    if (record === undefined && this.parts.fanOut) return await this.serveFull(ask)
    const lists = new Map<ListDataset, Entry[]>()
    if (record !== undefined) {
      for (const ds of LIST_DATASETS) {
        const changed = await this.parts.replica.changedSince(ds, record.lseq)
        if (changed.length > 0) lists.set(ds, changed)
      }
    } else {
      for (const ds of LIST_DATASETS) lists.set(ds, [...this.parts.replica.entries(ds)])
    }
    const bayes = this.parts.bayes?.replica
    let contribs: BayesContribution[] | EncodedBayes | null = null
    if (bayes !== undefined) {
      // Up to the version served: what a merge committed meanwhile comes with the next version, not twice.
      const upTo = record?.bseq === undefined ? undefined : (await this.versions.record(version))?.bseq
      const delta = record?.bseq === undefined ? null : await bayes.changedSinceFile(record.bseq, nodeId => nodeId !== ask.nodeId, upTo)
      contribs = delta ?? bayes.contributions()
      if ((Array.isArray(contribs) ? contribs.length : contribs.contributions) === 0) contribs = null
    }
    const kind = record === undefined ? 'full' : 'delta'
    const zip = this.built(kind, () => buildSettingsArchive({ kind, origin: this.parts.nodeId, base: record === undefined ? null : since, version }, lists, contribs))
    return { status: Status.OK, kind, base: record === undefined ? undefined : since, version, zip }
  }

  /**
   * The master's answer when only a full archive will do: the one it holds while a delta from its
   * version can still be made (so it is built once, not per fetcher), else a new one. Seeds get
   * it; other fan-out fetchers are told BUSY (take it from a peer); older agents always get it.
   */
  private async serveFull (ask: FetchAsk): Promise<Served> {
    const held = await this.masterArchive()
    const named = ask.archive !== undefined && sameArchive(ask.archive, held.ref)
    const release = ask.fanOut || named ? this.offer.take(ask.nodeId, !named) : () => {}
    if (release === null) return { status: Status.BUSY, reason: `busy: take archive ${describeArchive(held.ref)} from a peer`, archive: held.ref, sources: this.offer.sources }
    return { status: Status.OK, kind: 'full', version: held.ref.version, zip: held.zip, archive: held.ref, release }
  }

  /**
   * The full archive the master hands out: the one it holds while a delta from its version can
   * still be made (the fetcher then gets the rest as a delta), else one of the current state.
   */
  private async masterArchive (): Promise<HeldArchive> {
    const held = this.offer.held
    if (held !== null && await this.versions.isDeltaBase(held.ref.version)) return held
    // After the await: a fetch served meanwhile may have built one of the current version.
    const built = this.offer.held
    if (built !== null && built !== held && compareVersions(built.ref.version, this.versions.current) === 0) return built
    const version = this.versions.current
    const lists = new Map<ListDataset, Entry[]>()
    for (const ds of LIST_DATASETS) lists.set(ds, [...this.parts.replica.entries(ds)])
    const contribs = this.parts.bayes?.replica.contributions() ?? []
    const zip = this.built('full', () => buildSettingsArchive({ kind: 'full', origin: this.parts.nodeId, base: null, version }, lists, contribs.length === 0 ? null : contribs))
    this.offer.hold(zip, archiveRef(zip, version))
    return this.offer.held as HeldArchive
  }

  /** Runs an archive build; one that fails is an error in this master's status, not only the fetcher's. */
  private built (kind: 'full' | 'delta', build: () => Uint8Array): Uint8Array {
    try {
      return build()
    } catch (err) {
      this.report(`build ${kind} archive`, err)
      throw err
    }
  }

  /** A slave's answer: the full archive it holds when that is exactly the one asked for. */
  private serveHeld (ask: FetchAsk): Served {
    const held = this.parts.fanOut ? this.offer.held : null
    if (ask.archive === undefined || held === null || !sameArchive(ask.archive, held.ref)) {
      return { status: Status.REFUSED, reason: ask.archive === undefined ? 'not master' : `not master, and archive ${describeArchive(ask.archive)} is not held here` }
    }
    const release = this.offer.take(ask.nodeId, false)
    if (release === null) return { status: Status.BUSY, reason: 'busy: take it from another peer', archive: held.ref, sources: [] }
    return { status: Status.OK, kind: 'full', version: held.ref.version, zip: held.zip, archive: held.ref, release }
  }

  /** The kept central versions, newest first (on a slave: those it cut while it was master). */
  async history (): Promise<HistoryItem[]> {
    return await this.versions.list()
  }

  /** One kept version's item (`spamsync history --show`), or undefined when it is not kept here. */
  async historyItem (version: Version): Promise<HistoryItem | undefined> {
    return await this.versions.item(version)
  }

  /**
   * On the master: makes a new central version whose list content equals `target`'s, by stamping
   * anew every entry that differs from the kept snapshot (nothing is rewritten in place, so it
   * syncs like any other change). Bayes is not rolled back: its counters only grow. Returns the
   * keys it changed; `dryRun` changes nothing and returns the keys it would change.
   */
  async rollback (target: Version, opts: { dryRun?: boolean } = {}): Promise<RollbackOutcome> {
    return await this.queue.run(async () => {
      if (this.parts.roles.role !== 'master') throw new NoMasterError(`this node is no longer master (master is ${this.parts.roles.masterId ?? 'unknown'})`)
      const content = await this.versions.contentAt(target)
      const changed: ListDataset[] = []
      const lists: RollbackOutcome['lists'] = {}
      for (const ds of LIST_DATASETS) {
        const snapshot = await content.entries(ds)
        const restamped = rollbackEntries(this.parts.replica.entries(ds), snapshot, () => this.parts.replica.clock.now())
        const summary = summarizeDataset(restamped.map(after => ({ before: this.parts.replica.get(ds, after.key), after })), ROLLBACK_LISTED_KEYS)
        if (summary.keys.length > 0) lists[ds] = summary
        if (opts.dryRun !== true && (await this.parts.replica.merge(ds, restamped, { synced: false })).length > 0) changed.push(ds)
      }
      if (opts.dryRun === true) return { version: null, lists }
      // A new version even when nothing differed, so the rollback shows in the history.
      await this.cutVersion(`rollback of ${formatVersion(target)}`, changed)
      return { version: this.versions.current, lists }
    })
  }

  /** Numbers a new central version, records it and tells the cluster. Runs inside the queue. */
  private async cutVersion (origin: string, written: ListDataset[] = [], bayesGrew = false): Promise<void> {
    const cut = await this.versions.cut(this.parts.roles.term, origin)
    // Tell the cluster first: slaves fetch while this node writes its snapshot and its own files.
    this.parts.network.announce()
    await this.versions.snapshot(cut)
    const changedFiles: WrittenDataset[] = []
    for (const ds of written) if (await this.writeFile(ds)) changedFiles.push(ds)
    if ((bayesGrew || this.bayesUnwritten) && await this.writeBayesUnlessSuperseded(this.mergesWaiting > 0)) changedFiles.push('bayes')
    if (changedFiles.length > 0) await this.parts.hooks?.onFilesChanged?.(changedFiles)
  }

  // ---- slave side ----

  private requestUpload (): void {
    if (this.uploading !== null) {
      this.uploadAgain = true
      return
    }
    this.uploading = this.uploadLoop().finally(() => { this.uploading = null })
  }

  private async uploadLoop (): Promise<void> {
    do {
      this.uploadAgain = false
      try {
        await this.uploadOnce()
        this.uploadFailed = false
      } catch (err: any) {
        this.uploadFailed = true
        this.report('upload', err)
        return
      }
    } while (this.uploadAgain)
  }

  private async uploadOnce (): Promise<void> {
    const { role, masterId, term } = this.parts.roles
    if (role !== 'slave' || masterId === null) return
    let full = this.uploadAck === null || this.uploadAck.masterId !== masterId || this.uploadAck.term !== term
    for (let attempt = 0; attempt < 2; attempt++) {
      const built = await this.queue.run(async () => await this.buildUpload(full, masterId, term))
      if (built === null) return
      const ack = this.uploadAck
      const outcome = await this.parts.network.upload(masterId, { kind: full ? 'full' : 'delta', baseTerm: ack?.term ?? 0, baseLseq: ack?.lseq ?? 0 }, built.zip)
      if (outcome.status === Status.NEED_FULL && !full) {
        full = true
        continue
      }
      if (outcome.status !== Status.OK) throw new SyncRefusedError(`master ${masterId} refused the upload: ${outcome.reason}`)
      this.unacked = null
      const next: UploadAck = { masterId, term, lseq: built.lseq, bseq: built.bseq }
      await this.parts.store.write({ meta: { [META_UPLOAD_ACK]: next } })
      this.uploadAck = next
      this.lastUpload = { time: new Date(this.now()).toISOString(), kind: full ? 'full' : 'delta', bytes: built.zip.byteLength, version: outcome.version, peer: masterId }
      if (outcome.version !== undefined) this.masterAnnounced(outcome.version)
      return
    }
  }

  /**
   * The archive to upload: everything, or this node's own changes since the acknowledged point.
   * An archive that was not acknowledged is sent again byte for byte while nothing of this
   * node's changed (Bayes contributions of others applied meanwhile do not count), so the master
   * can resume it from the offset it already holds, or answer it from the merge it already did.
   */
  private async buildUpload (full: boolean, masterId: string, term: number): Promise<PendingUpload | null> {
    const lseq = this.parts.replica.changeSeq
    const bayes = this.parts.bayes?.replica
    const bseq = bayes?.changeSeq ?? 0
    const ownBseq = bayes?.ownChangeSeq ?? 0
    const kept = this.unacked
    if (kept !== null && kept.full === full && kept.lseq === lseq && kept.ownBseq === ownBseq && kept.masterId === masterId && kept.term === term) return kept
    const lists = new Map<ListDataset, Entry[]>()
    let n = 0
    for (const ds of LIST_DATASETS) {
      const entries = full
        ? [...this.parts.replica.entries(ds)]
        : (await this.parts.replica.changedSince(ds, this.uploadAck?.lseq ?? 0)).filter(e => !e.synced)
      if (entries.length > 0 || full) lists.set(ds, entries)
      n += entries.length
    }
    let contribs: BayesContribution[] | EncodedBayes | null = null
    if (bayes !== undefined) {
      const own = (): BayesContribution[] => bayes.contributions().filter(c => c.nodeId === this.parts.nodeId)
      // A hand-over leaves out the master's and live nodes' contributions: they upload their own,
      // and the master refuses a copy that would grow one (upload-contributions.ts).
      const handOver = (): BayesContribution[] => bayes.contributions().filter(c => c.nodeId === this.parts.nodeId || (c.nodeId !== masterId && !(this.parts.speaksForItself?.(c.nodeId) ?? false)))
      if (full) contribs = this.holdsOtherMastersState(masterId, term) ? handOver() : own()
      else contribs = await bayes.changedSinceFile(this.uploadAck?.bseq ?? 0, nodeId => nodeId === this.parts.nodeId) ?? own()
      if ((Array.isArray(contribs) ? contribs.length : contribs.contributions) === 0) contribs = null
    }
    if (!full && n === 0 && contribs === null) return null
    // A delta's base is the central version this node's changes sit on.
    const zip = buildSettingsArchive({ kind: full ? 'full' : 'delta', origin: this.parts.nodeId, base: full ? null : this.applied, version: null }, lists, contribs)
    this.unacked = { zip, lseq, bseq, ownBseq, full, masterId, term }
    return this.unacked
  }

  /**
   * True when this node may hold Bayes contributions that `masterId` in `term` lacks: it was
   * master itself, applied a version of another term, or uploaded to another master or term.
   * Otherwise every contribution it holds came from this master, and each live node uploads its
   * own, so a full upload carries only this node's contribution.
   */
  private holdsOtherMastersState (masterId: string, term: number): boolean {
    const ack = this.uploadAck
    return this.versions.current.term !== 0 ||
      (this.applied.term !== 0 && this.applied.term !== term) ||
      (ack !== null && (ack.masterId !== masterId || ack.term !== term))
  }

  private requestFetch (force = false): void {
    if (this.fetching !== null) return
    this.fetching = this.fetchOnce(force).catch((err) => { this.report('download', err) }).finally(() => { this.fetching = null })
  }

  private async fetchOnce (force: boolean): Promise<void> {
    for (;;) {
      const { role, masterId } = this.parts.roles
      if (role !== 'slave' || masterId === null) return
      if (this.aheadOfTerm(this.applied)) await this.forgetForgedApplied()
      if (!force && compareVersions(this.announced, this.applied) <= 0) return
      force = false
      // Null: the master is busy and no peer holds its full archive yet; tick() or a peer's announcement tries again.
      const got = await this.fetcher.fetch(masterId, this.applied, this.announced)
      if (got === null) return
      const { answer: fetched, peer } = got
      if (fetched.status === Status.UP_TO_DATE) return
      if (fetched.status !== Status.OK || fetched.zip === undefined) throw new SyncRefusedError(`${peer} refused the download: ${fetched.reason}`)
      // Checked before the archive is passed on: announced by this node, a forged version would
      // get this node's beacons dropped by every peer.
      if (fetched.archive !== undefined && this.aheadOfTerm(fetched.archive.version)) throw new VersionAheadError(`${peer} sent version ${fetched.archive.version.term}.${fetched.archive.version.seq}, past term ${this.parts.roles.term} this node is in`)
      // The bytes are the master's (sha256 checked on arrival), so they are passed on at once;
      // every receiver checks the archive itself before it applies it.
      if (this.parts.fanOut && fetched.full === true && fetched.archive !== undefined) {
        this.offer.hold(fetched.zip, fetched.archive)
        this.parts.network.announce()
      }
      await this.apply(fetched.zip, peer, fetched.history)
    }
  }

  /** True for a version no master could have cut yet: its term is past the one this node is in. */
  private aheadOfTerm (version: Version): boolean {
    return version.term > this.parts.roles.term
  }

  /**
   * A store written before versions were checked against the term may hold a forged applied
   * version, above every honest one: forget it, so the next fetch takes the master's full state.
   */
  private async forgetForgedApplied (): Promise<void> {
    await this.queue.run(async () => {
      if (!this.aheadOfTerm(this.applied)) return
      this.report('download', new VersionAheadError(`applied version ${this.applied.term}.${this.applied.seq} is past term ${this.parts.roles.term}: forgotten, fetching the full state`))
      await this.parts.store.write({ meta: { [META_APPLIED]: ZERO_VERSION } })
      this.applied = ZERO_VERSION
    })
  }

  /** Checks an archive from the master (or a peer holding the master's) completely, then merges and writes it. */
  private async apply (zip: Uint8Array, peer: string, history?: Uint8Array): Promise<void> {
    const archive = readSettingsArchive(zip)
    const records = this.historyOf(history, peer)
    const version = archive.manifest.version
    if (version === null) throw new SyncRefusedError(`${peer} sent an archive without a central version`)
    if (this.aheadOfTerm(version)) throw new VersionAheadError(`${peer} sent version ${version.term}.${version.seq}, past term ${this.parts.roles.term} this node is in`)
    await this.queue.run(async () => {
      const changedFiles: WrittenDataset[] = []
      for (const [dataset, entries] of archive.lists) {
        const changed = await this.parts.replica.merge(dataset, entries, { synced: true })
        if (changed.length > 0 && await this.writeFile(dataset)) changedFiles.push(dataset)
      }
      const bayesGrew = await this.mergeBayes(archive.bayes)
      if ((bayesGrew || this.bayesUnwritten) && await this.writeBayesUnlessSuperseded(compareVersions(this.announced, version) > 0)) changedFiles.push('bayes')
      if (compareVersions(version, this.applied) > 0) {
        await this.parts.store.write({ meta: { [META_APPLIED]: version } })
        this.applied = version
      }
      this.lastDownload = { time: new Date(this.now()).toISOString(), kind: archive.manifest.kind, bytes: zip.byteLength, version, peer }
      if (changedFiles.length > 0) await this.parts.hooks?.onFilesChanged?.(changedFiles)
      // After the files and hooks: keeping the version's content for a later rollback here waits for nothing else.
      if (compareVersions(version, this.applied) === 0) await this.versions.received(version, records, archive.manifest.origin).catch((err) => { this.report('history', err) })
    })
  }

  /** The history records a fetch answer carried; a malformed history is reported and none of it is kept, the archive still applies. */
  private historyOf (bytes: Uint8Array | undefined, peer: string): HistoryRecord[] {
    try {
      return decodeHistory(bytes ?? new Uint8Array(0))
    } catch (err) {
      this.report(`history from ${peer}`, err)
      return []
    }
  }

  /** Bad lines of bayes.txt found by the last read (bounded), and why it cannot be read or written, if so. */
  bayesFileStatus (): InvalidReport & { fileError?: string } {
    const file = this.parts.bayes?.file
    return { ...(file?.invalid ?? reportInvalid([])), fileError: file?.problem }
  }

  /** Scans bayes.txt into the replica; a failed export is reported and changes nothing. Runs inside the queue. */
  private async scanBayes (): Promise<number> {
    const bayes = this.parts.bayes
    if (bayes === undefined) return 0
    try {
      if (await bayes.file.unchanged()) return 0
      const local = await bayes.file.read()
      return local === null ? 0 : await bayes.replica.applyScan(local)
    } catch (err: any) {
      this.report('bayes export', err)
      return 0
    }
  }

  /** Joins received Bayes contributions; true when the DB grew. Runs inside the queue. */
  private async mergeBayes (contribs: BayesContribution[] | null): Promise<boolean> {
    if (contribs === null || this.parts.bayes === undefined) return false
    return (await this.parts.bayes.replica.merge(contribs)) > 0
  }

  /**
   * Writes bayes.txt, or when `superseded` (a newer change is on its way and will write it) leaves
   * it to that change: a DB of millions of tokens is formatted and written once, not per version.
   */
  private async writeBayesUnlessSuperseded (superseded: boolean): Promise<boolean> {
    if (!superseded) return await this.writeBayes()
    this.bayesUnwritten = true
    return false
  }

  /**
   * Writes the cluster's Bayes DB to bayes.txt and imports it; it becomes the baseline of the
   * next scan, so what other nodes learned is never counted as this node's own. A scan runs
   * first, so what this node learned since its last scan is not lost. Runs inside the queue.
   * True once the file is written and imported; a failure is reported and retried by tick().
   */
  private async writeBayes (): Promise<boolean> {
    const bayes = this.parts.bayes
    if (bayes === undefined) return false
    await this.scanBayes()
    let db = bayes.replica.merged()
    if (bayes.maxTokens > 0) db = expireTokens(db, bayes.maxTokens)
    try {
      // Write-ahead: a crash from here until the baseline is stored never counts the written DB as learned here.
      await bayes.replica.beginMergedBaseline(db, bayes.maxTokens)
      await bayes.file.write(db)
      await bayes.replica.setMergedBaseline(db, bayes.maxTokens)
      this.bayesTokens = db.tokens.keys.length
      this.bayesUnwritten = false
      return true
    } catch (err: any) {
      this.bayesUnwritten = true
      this.report('bayes import', err)
      return false
    }
  }

  /** Writes a dataset's file; a failure is reported and retried by the next change, not thrown. */
  private async writeFile (dataset: ListDataset): Promise<boolean> {
    const edits = this.parts.folder.editsStampedByWrites
    try {
      const changed = await this.parts.folder.write(dataset)
      this.unwritten.delete(dataset)
      return changed
    } catch (err: any) {
      this.unwritten.add(dataset)
      // tick() retries every heartbeat: the error log keeps a repeat as one entry with a count.
      this.report(`write ${dataset}`, err)
      return false
    } finally {
      if (this.parts.folder.editsStampedByWrites !== edits) this.editsFoundByWrite()
    }
  }

  /**
   * An operator's edit that a file write found (made while the file was being written) is
   * versioned or uploaded like a scanned one; no later scan sees it as new.
   */
  private editsFoundByWrite (): void {
    if (this.parts.roles.role !== 'master') {
      this.requestUpload()
      return
    }
    this.queue.run(async () => { await this.cutVersion(this.parts.nodeId) }).catch((err) => { this.report('version', err) })
  }

  /** Records an error for status (error-log.ts: the last 50, a repeat counted) and passes it to the onError hook. */
  report (what: string, err: any): void {
    const message = err instanceof ArchiveError || err instanceof VersionAheadError ? `${err.name}: ${err.message}` : errorMessage(err)
    const code = typeof err?.code === 'string' ? err.code : undefined
    // A message may quote a peer (a refusal, a forwarded error): kept printable for status and log.
    const entry = this.errorLog.add(printable(what, ERROR_TEXT_MAX), printable(message, ERROR_TEXT_MAX), code, this.now())
    this.parts.hooks?.onError?.(entry)
  }
}
