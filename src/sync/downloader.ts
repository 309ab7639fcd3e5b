/**
 * A slave's downloads: fetches the central changes since the version it applied whenever the
 * master announces a newer one (from the master, or with fan-out the master's full archive from
 * a peer), checks each archive completely, and applies it. It owns the `appliedVersion` meta key.
 */
import { SyncRefusedError, VersionAheadError, errorMessage } from '../errors.js'
import { Status } from '../pb/spamsync.js'
import { compareVersions, ZERO_VERSION, type Version } from '../version.js'
import { FanOutFetcher, type FanOutPeers } from './fan-out.js'
import { sameArchive, type ArchiveRef } from '../protocol/archive-ref.js'
import { decodeLeftOut, readSettingsArchive, type SettingsArchive } from './settings-archive.js'
import { applyArchive } from './archive-apply.js'
import type { SerialQueue } from './serial-queue.js'
import type { VersionHistory } from './version-history.js'
import { decodeHistory, type HistoryRecord } from '../archive/history-record.js'
import type { SettingsWriter } from './settings-writer.js'
import type { ArchiveServer } from './archive-server.js'
import type { TransferReport } from './transfer.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { StateStore } from '../store/state-store.js'
import type { ListDataset } from '../constants.js'
import type { TombstoneCollector } from './tombstones.js'
import type { OwnUploads } from './own-uploads.js'
import { trace } from '../trace.js'

/** Meta key of the central version this node applied. */
const META_APPLIED = 'appliedVersion'

/**
 * `fetching`: a fetch loop runs; `again` (with `force`) makes it run once more, so an
 * announcement heard while it ends is not left to the next heartbeat.
 */
export type DownloadState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'fetching', again: boolean, force: boolean, done: Promise<void> }

/** What the downloader works with. */
export interface DownloaderParts {
  nodeId: string
  store: StateStore
  replica: ListReplica
  bayes?: BayesReplica
  /** The election now. */
  roles: () => { role: 'master' | 'slave' | 'candidate', masterId: string | null, term: number }
  /** The peers to fetch from, and how to tell them this node holds the master's full archive. */
  network: Pick<FanOutPeers, 'fetch' | 'holders' | 'awaited'> & { announce: () => void }
  fanOut: boolean
  queue: SerialQueue
  writer: SettingsWriter
  /** Holds a fetched full archive to pass on. */
  server: ArchiveServer
  /** Settings files an apply changed. */
  filesChanged: (datasets: Array<ListDataset | 'bayes'>) => Promise<void>
  /** Drops what the master's full state shows was deleted while this node was away. */
  tombstones?: Pick<TombstoneCollector, 'afterFullState' | 'mustTakeFullState'>
  /** Keeps the history records an answer carried, and the applied version's content for a later rollback. */
  versions: Pick<VersionHistory, 'received'>
  /** This node's uploaded list files: one fetched back unchanged is neither decoded nor merged. */
  ownUploads?: Pick<OwnUploads, 'uploaded' | 'changesNothing' | 'answerDue' | 'entriesOf'>
  report: (what: string, err: unknown) => void
  now: () => number
}

/** Fetches and applies the master's versions. */
export class Downloader {
  private state: DownloadState = { kind: 'idle' }
  private applied: Version = ZERO_VERSION
  /** Newest central version announced by the master. */
  private announced: Version = ZERO_VERSION
  private readonly fetcher: FanOutFetcher
  lastDownload: TransferReport | null = null

  constructor (private readonly parts: DownloaderParts) {
    const { network } = parts
    this.fetcher = new FanOutFetcher(parts.nodeId, {
      fetch: network.fetch,
      holders: network.holders,
      awaited: network.awaited,
      // The error's name (WrongArchiveError, TransferError, ...) says what the peer did wrong.
      onPeerFailed: (peer, err: any) => { parts.report(`download from ${peer}`, { message: `${err?.name ?? 'Error'}: ${errorMessage(err)}` }) }
    }, parts.now)
  }

  /** Reads the applied version; call once before anything else. */
  async load (): Promise<void> {
    this.applied = (await this.parts.store.getMeta<Version>(META_APPLIED)) ?? ZERO_VERSION
  }

  /** The central version this node applied. */
  get appliedVersion (): Version {
    return this.applied
  }

  /** The state, for tests and drain. */
  get current (): DownloadState {
    return this.state
  }

  /** Whether a newer version than the applied one was announced. */
  get behind (): boolean {
    return compareVersions(this.announced, this.applied) > 0
  }

  /** The master announced `version`: fetch when it is newer than what was applied. */
  announce (version: Version): void {
    // Only the master of a term cuts its versions: one past this node's term is forged, and taken
    // as the newest it would hide every honest version after it.
    if (this.aheadOfTerm(version)) return
    if (compareVersions(version, this.announced) > 0) { trace('announce-heard', `${version.term}.${version.seq}`); this.announced = version }
    if (this.parts.roles().role === 'slave' && this.behind) this.request()
  }

  /** A peer announced a full archive: fetch now if this node waits for one. */
  archiveAnnounced (ref: ArchiveRef): void {
    const awaiting = this.fetcher.awaiting
    if (awaiting !== null && sameArchive(awaiting, ref) && this.parts.roles().role === 'slave') this.request()
  }

  /** Called every heartbeat: fetches what an earlier fetch left (a busy master, a failure). */
  retry (): void {
    if (this.parts.roles().role === 'slave' && (this.behind || this.aheadOfTerm(this.applied) || this.mustTakeFullState)) this.request()
  }

  /** Fetches now, even when no newer version was announced; resolves once no fetch runs. */
  async sync (): Promise<void> {
    if (this.parts.roles().role === 'slave') this.request(true)
    await this.settled()
  }

  /** Resolves when no fetch runs. */
  async settled (): Promise<void> {
    while (this.state.kind === 'fetching') await this.state.done
  }

  /** Whether `v` is newer than what the master announced (a fetch under way will write bayes.txt then). */
  supersedes (v: Version): boolean {
    return compareVersions(this.announced, v) > 0
  }

  private request (force = false): void {
    if (this.state.kind === 'fetching') {
      this.state.again = true
      this.state.force ||= force
      return
    }
    const fetching: { kind: 'fetching', again: boolean, force: boolean, done: Promise<void> } = { kind: 'fetching', again: true, force, done: Promise.resolve() }
    this.state = fetching
    fetching.done = this.loop(fetching)
  }

  private async loop (fetching: { again: boolean, force: boolean }): Promise<void> {
    // Starts after the caller set the state: request() assigns `done` before the first fetch.
    await Promise.resolve()
    while (fetching.again) {
      fetching.again = false
      const force = fetching.force
      fetching.force = false
      try {
        await this.fetchAll(force)
      } catch (err) {
        this.parts.report('download', err)
      }
    }
    this.state = { kind: 'idle' }
  }

  /** Fetches and applies until the announced version is applied, the master is busy, or not a slave. */
  private async fetchAll (force: boolean): Promise<void> {
    for (;;) {
      const { role, masterId, term } = this.parts.roles()
      if (role !== 'slave' || masterId === null) return
      if (this.aheadOfTerm(this.applied)) await this.forgetForgedApplied()
      if (!force && !this.behind && !this.mustTakeFullState) return
      if (!force && this.ownUploadNext()) return
      force = false
      // Null: the master is busy and no peer holds its full archive yet; tick() or a peer's announcement tries again.
      trace('fetch-start', `${this.applied.term}.${this.applied.seq}`)
      const got = await this.fetcher.fetch(masterId, this.mustTakeFullState ? ZERO_VERSION : this.applied, this.announced)
      if (got === null) return
      const { answer: fetched, peer } = got
      trace('fetch-got', `${fetched.status} ${fetched.zip?.byteLength} from ${peer.slice(-6)}`)
      if (fetched.status === Status.UP_TO_DATE) return
      if (fetched.status !== Status.OK || fetched.zip === undefined) throw new SyncRefusedError(`${peer} refused the download: ${fetched.reason}`)
      // Checked before the archive is passed on: announced by this node, a forged version would
      // get this node's beacons dropped by every peer.
      if (fetched.archive !== undefined && this.aheadOfTerm(fetched.archive.version)) throw new VersionAheadError(`${peer} sent version ${fetched.archive.version.term}.${fetched.archive.version.seq}, past term ${term} this node is in`)
      // The bytes are the master's (sha256 checked on arrival), so they are passed on at once;
      // every receiver checks the archive itself before it applies it.
      if (this.parts.fanOut && fetched.full === true && fetched.archive !== undefined) {
        this.parts.server.holdFetched(fetched.zip, fetched.archive)
        this.parts.network.announce()
      }
      await this.apply(fetched.zip, peer, fetched.history)
    }
  }

  /**
   * True while this node's upload waits for the master's answer and the version announced is the
   * next after the one applied: most likely the version that holds the upload, whose entries this
   * node has (own-uploads.ts). It is fetched once the answer came (Uploader `answered`), so the
   * master sends it first to the nodes that lack it: fetched at once, the origin of a 121k-line
   * list took its 1.1 MB back while the other slave's copy was being sent (~0.1 s later there), and
   * read it while that slave applied it.
   */
  private ownUploadNext (): boolean {
    const { announced, applied } = this
    return this.parts.ownUploads?.answerDue === true && announced.term === applied.term && announced.seq === applied.seq + 1
  }

  /** True while this node was away and must take the master's full state (tombstones.ts). */
  private get mustTakeFullState (): boolean {
    return this.parts.tombstones?.mustTakeFullState === true
  }

  /** True for a version no master could have cut yet: its term is past the one this node is in. */
  aheadOfTerm (version: Version): boolean {
    return version.term > this.parts.roles().term
  }

  /**
   * A store written before versions were checked against the term may hold a forged applied
   * version, above every honest one: forget it, so the next fetch takes the master's full state.
   */
  private async forgetForgedApplied (): Promise<void> {
    await this.parts.queue.run(async () => {
      if (!this.aheadOfTerm(this.applied)) return
      this.parts.report('download', new VersionAheadError(`applied version ${this.applied.term}.${this.applied.seq} is past term ${this.parts.roles().term}: forgotten, fetching the full state`))
      await this.parts.store.write({ meta: { [META_APPLIED]: ZERO_VERSION } })
      this.applied = ZERO_VERSION
    })
  }

  /**
   * Checks an archive from the master (or a peer holding the master's) completely, then merges
   * it, writing each list file after its entries (protocol/sync-v1.md, "Crash consistency"),
   * then bayes.txt, then the applied version.
   */
  private async apply (zip: Uint8Array, peer: string, history?: Uint8Array): Promise<void> {
    const own = this.parts.ownUploads
    const archive = readSettingsArchive(zip, { leaveUndecoded: own === undefined ? undefined : sha => own.uploaded(sha) })
    trace('archive-read')
    const version = archive.manifest.version
    if (version === null) throw new SyncRefusedError(`${peer} sent an archive without a central version`)
    if (this.aheadOfTerm(version)) throw new VersionAheadError(`${peer} sent version ${version.term}.${version.seq}, past term ${this.parts.roles().term} this node is in`)
    const { writer } = this.parts
    await this.parts.queue.run(async () => {
      trace('apply-queue-entered')
      await this.decodeUnlessOwn(archive)
      const changedFiles: Array<ListDataset | 'bayes'> = []
      const applied = await applyArchive(archive, { replica: this.parts.replica, bayes: this.parts.bayes }, {
        synced: true,
        listChanged: async (dataset) => { trace('apply-merged', dataset); if (await writer.writeList(dataset)) changedFiles.push(dataset); trace('apply-written', dataset) }
      })
      if (archive.manifest.kind === 'full' && this.parts.tombstones !== undefined) {
        for (const ds of await this.parts.tombstones.afterFullState(archive.lists)) if (await writer.writeList(ds) && !changedFiles.includes(ds)) changedFiles.push(ds)
      }
      if (await writer.afterChange(applied.bayesChanged > 0, this.supersedes(version))) changedFiles.push('bayes')
      if (compareVersions(version, this.applied) > 0) {
        await this.parts.store.write({ meta: { [META_APPLIED]: version } })
        this.applied = version
      }
      trace('applied', `${version.term}.${version.seq}`)
      this.lastDownload = { time: new Date(this.parts.now()).toISOString(), kind: archive.manifest.kind, bytes: zip.byteLength, version, peer }
      if (changedFiles.length > 0) await this.parts.filesChanged(changedFiles)
      // After the files and hooks: keeping the version's content here waits for nothing else.
      if (compareVersions(version, this.applied) === 0) await this.keepHistory(version, history, peer, archive.manifest.origin)
    })
  }

  /**
   * Decodes each list file left undecoded unless merging it would change nothing (own-uploads.ts).
   * A full archive's are always decoded: its lists also tell which tombstones to drop.
   */
  private async decodeUnlessOwn (archive: SettingsArchive): Promise<void> {
    for (const [dataset, { sha256, deflated }] of [...archive.undecoded]) {
      if (archive.manifest.kind !== 'delta' || await this.parts.ownUploads?.changesNothing(dataset, sha256) !== true) {
        decodeLeftOut(archive, dataset)
        continue
      }
      trace('own-upload-kept', dataset)
      // The version's snapshot (keepHistory) is then these bytes, not the list encoded and deflated again (~0.2 s CPU at 121k lines, while the other slaves apply).
      // The count this node encoded: the manifest's is the master's word, and a wrong one would keep a snapshot that lacks entries.
      const entries = this.parts.ownUploads?.entriesOf(sha256)
      if (deflated !== undefined && entries !== undefined) this.parts.replica.keepFile(dataset, { deflated, entries })
    }
  }

  /** Keeps what a fetch answer says of the versions it covers; a malformed history is reported and none of it kept, the archive still applied. */
  private async keepHistory (version: Version, bytes: Uint8Array | undefined, peer: string, origin: string): Promise<void> {
    let records: HistoryRecord[]
    try {
      records = decodeHistory(bytes ?? new Uint8Array(0))
    } catch (err) {
      this.parts.report(`history from ${peer}`, err)
      records = []
    }
    try {
      await this.parts.versions.received(version, records, origin)
    } catch (err) {
      this.parts.report('history', err)
    }
  }
}
