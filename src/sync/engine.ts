/**
 * The sync engine of one node: a coordinator of small parts. It takes local edits in and merges
 * uploads on the master; version-history.ts cuts and keeps central versions, archive-server.ts
 * answers fetches, uploader.ts and downloader.ts move archives on a slave, archive-apply.ts and
 * settings-writer.ts merge them and write the files. It knows the network only through the small
 * {@link SyncNetwork} interface and the election only through {@link RoleView}, so the whole
 * flow runs in tests without libp2p.
 *
 * Every change to local state runs through one serial queue: a scan, a merge, an apply and the
 * file writes after them never interleave.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { ArchiveError, NoMasterError, SyncRefusedError } from '../errors.js'
import { readSettingsArchive, type SettingsArchive } from './settings-archive.js'
import { incompatibility, type PeerVersions } from '../protocol/compat.js'
import { formatVersion, ZERO_VERSION, type Version } from '../version.js'
import { Status } from '../pb/spamsync.js'
import { VersionHistory, type HistoryItem } from './version-history.js'
import type { RollbackOutcome } from '../archive/change-summary.js'
import { ArchiveServer } from './archive-server.js'
import { fetchesToCome } from './sends-in-flight.js'
import { Uploader } from './uploader.js'
import { Downloader } from './downloader.js'
import { SerialQueue } from './serial-queue.js'
import { SettingsWriter } from './settings-writer.js'
import { applyArchive, changedLists } from './archive-apply.js'
import { restoreLists } from './rollback-lists.js'
import { ErrorLog, type SyncErrorReport } from './error-log.js'
import { checkUploadContributions } from '../replica/upload-contributions.js'
import { reportInvalid, type InvalidReport } from '../settings/list-file.js'
import type { FetchAsk, Served } from '../protocol/fetch-service.js'
import type { ArchiveRef } from '../protocol/archive-ref.js'
import type { TransferReport } from './transfer.js'
import type { EngineParts, WrittenDataset } from './engine-types.js'
import { engineCollector, type TombstoneCollector } from './tombstones.js'

export type { RoleView, SyncNetwork, EngineHooks, EngineParts, WrittenDataset, BayesParts, SyncErrorReport, TransferReport, HistoryItem } from './engine-types.js'

/** The sync engine. */
export class SyncEngine {
  private readonly queue = new SerialQueue()
  /** The central versions this node cut as master. */
  private readonly versions: VersionHistory
  /** Nodes whose full state the master merged in this term: their deltas can be taken. */
  private readonly fullSeen = new Set<string>()
  /** Uploads this node's changes to the master (on a slave). */
  private readonly uploader: Uploader
  /** Upload merges waiting for the queue. */
  private mergesWaiting = 0
  /** Fetches and applies the master's versions (on a slave). */
  private readonly downloader: Downloader
  private readonly now: () => number
  /** Answers fetches, and holds the full archive this node sends on. */
  private readonly server: ArchiveServer
  private readonly errorLog = new ErrorLog()
  /** Writes the list files and bayes.txt a change made. */
  private readonly writer: SettingsWriter
  /** Drops the tombstones every member holds (sync-v1.md, "Tombstones"); beacons carry its floor. */
  readonly tombstones: TombstoneCollector

  constructor (private readonly parts: EngineParts) {
    this.now = parts.now ?? Date.now
    this.writer = new SettingsWriter({
      folder: parts.folder,
      bayes: parts.bayes,
      report: (what, err) => { this.report(what, err) },
      editsFoundByWrite: () => { this.editsFoundByWrite() }
    })
    this.versions = new VersionHistory({ store: parts.store, replica: parts.replica, bayes: parts.bayes?.replica, historyVersions: parts.historyVersions, bound: parts.historyBound, now: this.now, nameOf: parts.nameOf })
    parts.replica.onCommit = (dataset, changes) => { this.versions.committed(this.parts.roles.role === 'master', dataset, changes); this.tombstones.committed(changes) }
    this.tombstones = engineCollector(parts, { queue: this.queue, now: this.now, versions: this.versions, fullSeen: this.fullSeen, uploader: () => this.uploader, upToDate: () => !this.downloader.behind, report: (what, err) => { this.report(what, err) } })
    this.uploader = new Uploader({
      nodeId: parts.nodeId,
      store: parts.store,
      replica: parts.replica,
      bayes: parts.bayes?.replica,
      roles: () => this.parts.roles,
      upload: parts.network.upload,
      queue: this.queue,
      versions: () => ({ central: this.versions.current, applied: this.downloader.appliedVersion }),
      speaksForItself: parts.speaksForItself,
      held: () => this.tombstones.mustTakeFullState,
      merged: (version) => { this.masterAnnounced(version) },
      answered: () => { this.downloader.retry() },
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
      staleBase: (version) => this.tombstones.needsFull(version),
      report: (what, err) => { this.report(what, err) },
      fetchesToCome: (version, uploadedBy) => fetchesToCome(parts.members?.() ?? [], version, this.now(), uploadedBy)
    })
    this.downloader = new Downloader({
      nodeId: parts.nodeId,
      store: parts.store,
      replica: parts.replica,
      bayes: parts.bayes?.replica,
      roles: () => this.parts.roles,
      network: parts.network,
      fanOut: parts.fanOut,
      queue: this.queue,
      writer: this.writer,
      server: this.server,
      filesChanged: async (datasets) => { await this.parts.hooks?.onFilesChanged?.(datasets) },
      tombstones: this.tombstones,
      versions: this.versions,
      ownUploads: this.uploader.own,
      report: (what, err) => { this.report(what, err) },
      now: this.now
    })
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

  /** The last archive applied. */
  get lastDownload (): TransferReport | null {
    return this.downloader.lastDownload
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
    await Promise.all([this.versions.load(), this.downloader.load(), this.uploader.load(), this.tombstones.load()])
  }

  /** Newest central version this node holds (the master's current one, or the applied one). */
  get version (): Version {
    return this.parts.roles.role === 'master' ? this.versions.current : this.downloader.appliedVersion
  }

  /** Central version this node applied to its files (on the master: the current one). */
  get appliedVersion (): Version {
    return this.parts.roles.role === 'master' ? this.versions.current : this.downloader.appliedVersion
  }

  /** Scans the settings folder; the master cuts a version, a slave uploads. */
  async localChanged (): Promise<number> {
    const changed = await this.queue.run(async () => {
      const { changed, failed } = await this.writer.scanLists()
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
    this.downloader.announce(version)
  }

  /** A peer announced a full archive: fetch now if this node waits for one. */
  archiveAnnounced (ref: ArchiveRef): void {
    this.downloader.archiveAnnounced(ref)
  }

  /** Uploads now if anything is pending; resolves when the upload (and any re-run) is done. */
  async syncUpload (): Promise<void> {
    await this.uploader.sync()
  }

  /** Fetches now if the master has something newer; resolves when done. */
  async syncDownload (): Promise<void> {
    await this.downloader.sync()
  }

  /** Called every heartbeat: retries what failed (an upload, a download, a file write), so a passing fault heals without an operator. */
  tick (): void {
    this.uploader.retry()
    this.downloader.retry()
    this.tombstones.tick()
    if (this.writer.bayesState.kind === 'behind' && this.mergesWaiting === 0 && this.downloader.current.kind === 'idle') {
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
    while (this.uploader.current.kind === 'running' || this.downloader.current.kind === 'fetching') {
      await Promise.allSettled([this.uploader.settled(), this.downloader.settled()])
    }
  }

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
        const handOver = kind === 'full' && archive.manifest.kind === 'full' ? 'full' : 'delta'
        await checkUploadContributions(nodeId, handOver, archive.bayes, {
          held: async id => await bayes.contributionPaced(id),
          speaksForItself: id => id === this.parts.nodeId || (this.parts.speaksForItself?.(id) ?? false)
        })
      }
      this.tombstones.screen(archive.lists, nodeId)
      const applied = await applyArchive(archive, { replica: this.parts.replica, bayes }, { synced: true, passOn: true })
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
    const served = await this.server.serve(this.tombstones.needsFull(since) ? ZERO_VERSION : since, ask)
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
      const { changed, lists } = await restoreLists(this.parts.replica, await this.versions.contentAt(target), opts.dryRun === true)
      if (opts.dryRun === true) return { version: null, lists }
      // A new version even when nothing differed, so the rollback shows in the history.
      await this.cutVersion(`rollback of ${formatVersion(target)}`, changed)
      return { version: this.versions.current, lists }
    })
  }

  /** Numbers a new central version, records it and tells the cluster. Runs inside the queue. */
  private async cutVersion (origin: string, written: ListDataset[] = [], bayesGrew = false): Promise<void> {
    const cut = await this.versions.cut(this.parts.roles.term, origin)
    this.tombstones.versionCut(cut.version, cut.record.time)
    // Tell the cluster first: slaves fetch while this node writes its snapshot and its own files.
    this.parts.network.announce()
    await this.versions.snapshot(cut)
    if (written.length > 0 || bayesGrew) await this.server.sent(cut.version, origin)
    const changedFiles: WrittenDataset[] = await this.writer.writeLists(written)
    if (await this.writer.afterChange(bayesGrew, this.mergesWaiting > 0)) changedFiles.push('bayes')
    if (changedFiles.length > 0) await this.parts.hooks?.onFilesChanged?.(changedFiles)
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
    if (this.parts.roles.role !== 'master') return this.uploader.request()
    this.queue.run(async () => { await this.cutVersion(this.parts.nodeId) }).catch((err) => { this.report('version', err) })
  }

  /** Records an error for status (error-log.ts) and passes it to the onError hook. */
  report (what: string, err: any): void {
    const entry = this.errorLog.addError(what, err, this.now())
    this.parts.hooks?.onError?.(entry)
  }
}
