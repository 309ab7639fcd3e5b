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
import { ArchiveServer } from './archive-server.js'
import { Uploader } from './uploader.js'
import { SerialQueue } from './serial-queue.js'
import type { TransferReport } from './transfer.js'
import { SettingsWriter, type BayesParts } from './settings-writer.js'
import { applyArchive, changedLists } from './archive-apply.js'
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
import { checkUploadContributions } from '../replica/upload-contributions.js'
import { reportInvalid, type InvalidReport } from '../settings/list-file.js'
import type { BayesContribution, EncodedBayes } from '../archive/bayes-codec.js'
import { printable, ERROR_TEXT_MAX } from '../printable.js'

/** Meta keys this module owns. */
const META_APPLIED = 'appliedVersion'

export type { HistoryItem } from './version-history.js'
export type { BayesParts } from './settings-writer.js'

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

export type { SyncErrorReport } from './error-log.js'
export type { TransferReport } from './transfer.js'

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

/** The sync engine. */
export class SyncEngine {
  private readonly queue = new SerialQueue()
  /** The central versions this node cut as master. */
  private readonly versions: VersionHistory
  private applied: Version = ZERO_VERSION
  /** Nodes whose full state the master merged in this term: their deltas can be taken. */
  private readonly fullSeen = new Set<string>()
  /** Uploads this node's changes to the master (on a slave). */
  private readonly uploader: Uploader
  /** Upload merges waiting for the queue. */
  private mergesWaiting = 0
  private fetching: Promise<void> | null = null
  /** Newest central version announced by the master. */
  private announced: Version = ZERO_VERSION
  private readonly now: () => number
  /** Answers fetches, and holds the full archive this node sends on. */
  private readonly server: ArchiveServer
  private readonly fetcher: FanOutFetcher
  private readonly errorLog = new ErrorLog()
  /** Writes the list files and bayes.txt a change made. */
  private readonly writer: SettingsWriter
  lastDownload: TransferReport | null = null

  constructor (private readonly parts: EngineParts) {
    this.now = parts.now ?? Date.now
    this.writer = new SettingsWriter({
      folder: parts.folder,
      bayes: parts.bayes,
      report: (what, err) => { this.report(what, err) },
      editsFoundByWrite: () => { this.editsFoundByWrite() }
    })
    this.versions = new VersionHistory({ store: parts.store, replica: parts.replica, bayes: parts.bayes?.replica, historyVersions: parts.historyVersions, now: this.now, nameOf: parts.nameOf })
    parts.replica.onCommit = (dataset, changes) => { this.versions.committed(this.parts.roles.role === 'master', dataset, changes) }
    this.uploader = new Uploader({
      nodeId: parts.nodeId,
      store: parts.store,
      replica: parts.replica,
      bayes: parts.bayes?.replica,
      roles: () => this.parts.roles,
      upload: parts.network.upload,
      queue: this.queue,
      versions: () => ({ central: this.versions.current, applied: this.applied }),
      speaksForItself: parts.speaksForItself,
      merged: (version) => { this.masterAnnounced(version) },
      report: (what, err) => { this.report(what, err) },
      now: this.now
    })
    this.server = new ArchiveServer({
      nodeId: parts.nodeId,
      replica: parts.replica,
      bayes: parts.bayes?.replica,
      versions: this.versions,
      isMaster: () => this.parts.roles.role === 'master',
      fanOut: parts.fanOut,
      report: (what, err) => { this.report(what, err) }
    })
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
    return this.server.fullArchive
  }

  /** The errors status shows, oldest first; a repeated one once, with its count. */
  get errors (): readonly SyncErrorReport[] {
    return this.errorLog.entries
  }

  /** False while a settings file this node must write cannot be written: it is then no fit master. */
  get canApply (): boolean {
    return this.writer.listsWritten
  }

  /** The last upload acknowledged by the master. */
  get lastUpload (): TransferReport | null {
    return this.uploader.lastUpload
  }

  /** Tokens in the Bayes DB last written to bayes.txt. */
  get bayesTokens (): number {
    return this.writer.bayesTokens
  }

  /** Loads persisted versions; call once before anything else. */
  async load (): Promise<void> {
    await this.versions.load()
    this.applied = (await this.parts.store.getMeta<Version>(META_APPLIED)) ?? ZERO_VERSION
    await this.uploader.load()
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
    if (changed > 0 && this.parts.roles.role !== 'master') this.uploader.request()
    return changed
  }

  /**
   * Brings every settings file in line with the replica (at start: a file that was deleted, or
   * a write that a crash cut short, is redone; bayes.txt and its import too). An operator's
   * edit is scanned first, not lost.
   */
  async restoreFiles (): Promise<void> {
    await this.queue.run(async () => {
      const changed: WrittenDataset[] = await this.writer.writeLists(LIST_DATASETS)
      if (this.parts.bayes?.replica.writeDue === true && await this.writer.writeBayes()) changed.push('bayes')
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
      const n = await this.writer.scanBayes()
      if (n > 0 && this.parts.roles.role === 'master') await this.cutVersion(this.parts.nodeId)
      return n
    })
    if (grew > 0 && this.parts.roles.role !== 'master') this.uploader.request()
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
    this.uploader.request()
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
    await this.uploader.sync()
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
    this.uploader.retry()
    if (this.parts.roles.role === 'slave' && (compareVersions(this.announced, this.applied) > 0 || this.aheadOfTerm(this.applied))) this.requestFetch()
    if (this.writer.bayesState.kind === 'behind' && this.mergesWaiting === 0 && this.fetching === null) {
      this.queue.run(async () => {
        // A change queued before this task may have written it already.
        if (this.writer.bayesState.kind === 'behind' && await this.writer.writeBayes()) await this.parts.hooks?.onFilesChanged?.(['bayes'])
      }).catch((err) => { this.report('write bayes', err) })
    }
    if (!this.writer.listsWritten) {
      this.queue.run(async () => {
        const changed = await this.writer.writeLists(this.writer.unwrittenLists)
        if (changed.length > 0) await this.parts.hooks?.onFilesChanged?.(changed)
      }).catch((err) => { this.report('write files', err) })
    }
  }

  /** Waits for every queued change to finish (used at shutdown: an apply in flight completes). */
  async drain (): Promise<void> {
    await this.queue.run(async () => {})
    while (this.uploader.current.kind === 'running' || this.fetching !== null) {
      await Promise.allSettled([this.uploader.settled(), this.fetching])
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
      const applied = await applyArchive(archive, { replica: this.parts.replica, bayes }, { synced: true })
      if (kind === 'full') this.fullSeen.add(nodeId)
      const changed = changedLists(applied)
      if (changed.length > 0 || applied.bayesChanged > 0) await this.cutVersion(nodeId, changed, applied.bayesChanged > 0)
      return this.versions.current
    }).catch((err) => {
      done()
      // The uploader only hears a refusal; a local failure (a full disk) belongs in this node's status.
      if (!(err instanceof SyncRefusedError)) this.report(err instanceof ArchiveError ? `upload from ${nodeId}` : `merge upload from ${nodeId}`, err)
      throw err
    })
  }

  /** The answer to a fetch (archive-server.ts). */
  async serveFetch (since: Version, ask: FetchAsk): Promise<Served> {
    const served = await this.server.serve(since, ask)
    // The history of the versions it covers goes with an archive, so every node keeps it.
    if (served.status === Status.OK && served.version !== undefined) served.history = await this.versions.recordsFor(served.kind === 'delta' ? since : ZERO_VERSION, served.version)
    return served
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
    const changedFiles: WrittenDataset[] = await this.writer.writeLists(written)
    if (await this.writer.afterChange(bayesGrew, this.mergesWaiting > 0)) changedFiles.push('bayes')
    if (changedFiles.length > 0) await this.parts.hooks?.onFilesChanged?.(changedFiles)
  }

  // ---- slave side ----

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
        this.server.holdFetched(fetched.zip, fetched.archive)
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
      const applied = await applyArchive(archive, { replica: this.parts.replica, bayes: this.parts.bayes?.replica }, {
        synced: true,
        listChanged: async (dataset) => { if (await this.writer.writeList(dataset)) changedFiles.push(dataset) }
      })
      if (await this.writer.afterChange(applied.bayesChanged > 0, compareVersions(this.announced, version) > 0)) changedFiles.push('bayes')
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

  /**
   * An operator's edit that a file write found (made while the file was being written) is
   * versioned or uploaded like a scanned one; no later scan sees it as new.
   */
  private editsFoundByWrite (): void {
    if (this.parts.roles.role !== 'master') {
      this.uploader.request()
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
