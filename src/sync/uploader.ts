/**
 * A slave's uploads to its master: everything on the first upload to a master in a term, then
 * only this node's own changes since what the master acknowledged. A request made while an
 * upload runs makes one more run after it, so no change waits for the next heartbeat.
 */
import { SyncRefusedError } from '../errors.js'
import { Status } from '../pb/spamsync.js'
import { buildArchive, type ArchiveContent } from './archive-build.js'
import type { SerialQueue } from './serial-queue.js'
import type { Version } from '../version.js'
import type { UploadOutcome } from '../protocol/upload-service.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { StateStore } from '../store/state-store.js'
import type { EncodedBayes } from '../archive/bayes-codec.js'
import type { TransferReport } from './transfer.js'
import { OwnUploads } from './own-uploads.js'
import { trace } from '../trace.js'

/** Meta key of what the master acknowledged. */
const META_UPLOAD_ACK = 'uploadAck'

/** What the master acknowledged of this node's uploads. */
export interface UploadAck {
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

/**
 * `running`: an upload loop runs; `again` makes it run once more. `failed`: the last upload
 * failed, the next retry() (every heartbeat) starts again. The loop goes back to `idle` in the
 * same step that finds `again` unset, so a request is never left to a loop that has ended.
 */
export type UploadState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'running', again: boolean, done: Promise<void> }
  | { readonly kind: 'failed' }

/** What the uploader works with. */
export interface UploaderParts {
  nodeId: string
  store: StateStore
  replica: ListReplica
  bayes?: BayesReplica
  /** The election now. */
  roles: () => { role: 'master' | 'slave' | 'candidate', masterId: string | null, term: number }
  upload: (masterId: string, req: { kind: 'full' | 'delta', baseTerm: number, baseLseq: number }, zip: Uint8Array) => Promise<UploadOutcome>
  /** The queue of local changes: an archive is built inside it. */
  queue: SerialQueue
  /** The newest version this node cut as master, and the one it applied as slave. */
  versions: () => { central: Version, applied: Version }
  /** A live or connected node, whose Bayes contribution no other node's upload may grow. */
  speaksForItself?: (nodeId: string) => boolean
  /** True while uploads wait: this node must take the master's full state first (tombstones.ts). */
  held?: () => boolean
  /** The master answered with the central version that holds the upload. */
  merged: (version: Version) => void
  /** An upload's answer came, or none will (a failure): a fetch it held back may run (Downloader). */
  answered?: () => void
  report: (what: string, err: unknown) => void
  now: () => number
}

/** Uploads this node's changes to the master. */
export class Uploader {
  private state: UploadState = { kind: 'idle' }
  private ack: UploadAck | null = null
  /** The last archive built for upload and not yet acknowledged, kept for a resume. */
  private unacked: PendingUpload | null = null
  lastUpload: TransferReport | null = null
  /** The list files of recent uploads, which the downloader need not decode when fetched back. */
  readonly own: OwnUploads

  constructor (private readonly parts: UploaderParts) {
    this.own = new OwnUploads(parts.replica)
  }

  /** Reads what the master acknowledged; call once before anything else. */
  async load (): Promise<void> {
    this.ack = (await this.parts.store.getMeta<UploadAck>(META_UPLOAD_ACK)) ?? null
  }

  /** The state, for tests and status. */
  get current (): UploadState {
    return this.state
  }

  /** What the master acknowledged last. */
  get acknowledged (): UploadAck | null {
    return this.ack
  }

  /** Uploads now; while an upload runs, once more after it. */
  request (): void {
    if (this.state.kind === 'running') {
      this.state.again = true
      return
    }
    const running: { kind: 'running', again: boolean, done: Promise<void> } = { kind: 'running', again: true, done: Promise.resolve() }
    this.state = running
    running.done = this.loop(running)
  }

  /** A failed upload is tried again (every heartbeat). */
  retry (): void {
    if (this.state.kind === 'failed') this.request()
  }

  /** Requests an upload and resolves once no upload runs (done, or failed and reported). */
  async sync (): Promise<void> {
    this.request()
    while (this.state.kind === 'running') await this.state.done
  }

  /** Resolves when no upload runs. */
  async settled (): Promise<void> {
    while (this.state.kind === 'running') await this.state.done
  }

  private async loop (running: { again: boolean }): Promise<void> {
    // Starts after the caller set the state: request() assigns `done` before the first upload.
    await Promise.resolve()
    for (;;) {
      running.again = false
      try {
        await this.uploadOnce()
      } catch (err) {
        this.state = { kind: 'failed' }
        this.parts.report('upload', err)
        return
      }
      if (!running.again) {
        this.state = { kind: 'idle' }
        return
      }
    }
  }

  private async uploadOnce (): Promise<void> {
    const { role, masterId, term } = this.parts.roles()
    if (role !== 'slave' || masterId === null || this.parts.held?.() === true) return
    let full = this.ack === null || this.ack.masterId !== masterId || this.ack.term !== term
    for (let attempt = 0; attempt < 2; attempt++) {
      trace('upload-queue')
      const built = await this.parts.queue.run(async () => { trace('upload-build-start'); return await this.build(full, masterId, term) })
      trace('upload-built', built?.zip.byteLength)
      if (built === null) return
      const ack = this.ack
      let outcome: UploadOutcome
      this.own.answerDue = true
      try {
        outcome = await this.parts.upload(masterId, { kind: full ? 'full' : 'delta', baseTerm: ack?.term ?? 0, baseLseq: ack?.lseq ?? 0 }, built.zip)
      } finally {
        this.own.answerDue = false
        this.parts.answered?.()
      }
      if (outcome.status === Status.NEED_FULL && !full) {
        full = true
        continue
      }
      if (outcome.status !== Status.OK) throw new SyncRefusedError(`master ${masterId} refused the upload: ${outcome.reason}`)
      trace('upload-acked', `${outcome.version?.term}.${outcome.version?.seq}`)
      this.unacked = null
      const next: UploadAck = { masterId, term, lseq: built.lseq, bseq: built.bseq }
      await this.parts.store.write({ meta: { [META_UPLOAD_ACK]: next } })
      this.ack = next
      this.lastUpload = { time: new Date(this.parts.now()).toISOString(), kind: full ? 'full' : 'delta', bytes: built.zip.byteLength, version: outcome.version, peer: masterId }
      if (outcome.version !== undefined) this.parts.merged(outcome.version)
      return
    }
  }

  /**
   * The archive to upload: everything, or this node's own changes since the acknowledged point.
   * An archive that was not acknowledged is sent again byte for byte while nothing of this
   * node's changed (Bayes contributions of others applied meanwhile do not count), so the master
   * can resume it from the offset it already holds, or answer it from the merge it already did.
   */
  private async build (full: boolean, masterId: string, term: number): Promise<PendingUpload | null> {
    const { replica, bayes } = this.parts
    const lseq = replica.changeSeq
    const bseq = bayes?.changeSeq ?? 0
    const ownBseq = bayes?.ownChangeSeq ?? 0
    const kept = this.unacked
    if (kept !== null && kept.full === full && kept.lseq === lseq && kept.ownBseq === ownBseq && kept.masterId === masterId && kept.term === term) return kept
    const contribs = await this.bayesPart(full, masterId, term)
    // A delta's base is the central version this node's changes sit on.
    const built = await buildArchive({ kind: full ? 'full' : 'delta', origin: this.parts.nodeId, base: full ? null : this.parts.versions().applied, version: null }, replica, {
      lists: full ? { kind: 'all' } : { kind: 'changedSince', lseq: this.ack?.lseq ?? 0, ownOnly: true },
      bayes: contribs
    })
    if (!full && built.listEntries === 0 && !built.bayes) return null
    this.own.remember(built.lists, lseq)
    this.unacked = { zip: built.zip, lseq, bseq, ownBseq, full, masterId, term }
    return this.unacked
  }

  /** The Bayes contributions an upload carries. */
  private async bayesPart (full: boolean, masterId: string, term: number): Promise<ArchiveContent['bayes']> {
    const bayes = this.parts.bayes
    if (bayes === undefined) return null
    const nodeId = this.parts.nodeId
    const own = (): EncodedBayes => bayes.file(id => id === nodeId)
    if (!full) return await bayes.changedSinceFile(this.ack?.bseq ?? 0, id => id === nodeId) ?? own()
    if (!this.holdsOtherMastersState(masterId, term)) return own()
    // A hand-over leaves out the master's and live nodes' contributions: they upload their own,
    // and the master refuses a copy that would grow one (upload-contributions.ts).
    return bayes.file(id => id === nodeId || (id !== masterId && !(this.parts.speaksForItself?.(id) ?? false)))
  }

  /**
   * True when this node may hold Bayes contributions that `masterId` in `term` lacks: it was
   * master itself, applied a version of another term, or uploaded to another master or term.
   * Otherwise every contribution it holds came from this master, and each live node uploads its
   * own, so a full upload carries only this node's contribution.
   */
  private holdsOtherMastersState (masterId: string, term: number): boolean {
    const ack = this.ack
    const { central, applied } = this.parts.versions()
    return central.term !== 0 ||
      (applied.term !== 0 && applied.term !== term) ||
      (ack !== null && (ack.masterId !== masterId || ack.term !== term))
  }
}
