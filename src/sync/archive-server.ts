/**
 * Answers fetches: on the master a delta from a version it cut, or its full state (built once and
 * held while deltas can still be made from it); on a slave, with fan-out, the full archive it
 * holds when that is exactly the one asked for. Reads run outside the engine's queue, so a fetch
 * is not held up by the master writing its own files; a change committed meanwhile may ride
 * along, which the receiver's merge takes as it comes.
 */
import { Status } from '../pb/spamsync.js'
import { compareVersions, type Version } from '../version.js'
import { ArchiveOffer, type HeldArchive } from './fan-out.js'
import { archiveRef, describeArchive, sameArchive, type ArchiveRef } from '../protocol/archive-ref.js'
import { buildArchive, type ArchiveContent } from './archive-build.js'
import type { ArchiveMeta } from './settings-archive.js'
import type { FetchAsk, Served } from '../protocol/fetch-service.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { VersionHistory } from './version-history.js'
import { SendsInFlight } from './sends-in-flight.js'
import { trace } from '../trace.js'

/** What the server reads. */
export interface ArchiveServerParts {
  nodeId: string
  replica: ListReplica
  bayes?: BayesReplica
  versions: VersionHistory
  /** Whether this node is master now. */
  isMaster: () => boolean
  /** Full archives go from peer to peer; off: every node fetches from the master only. */
  fanOut: boolean
  /** True for a version that a fetch may no longer build on: tombstones were dropped since (tombstones.ts, needsFull). */
  staleBase?: (version: Version) => boolean
  /** A build that failed: an error in this node's status, not only the fetcher's. */
  report: (what: string, err: unknown) => void
  /** How many fetches of a version just announced are to come (sends-in-flight.ts, fetchesToCome); default none. */
  fetchesToCome?: (version: Version, uploadedBy?: string) => number
}

/** Serves this node's archives to fetchers. */
export class ArchiveServer {
  /** The full archive this node sends on (the master's own, or one it fetched). */
  private readonly offer = new ArchiveOffer()
  /** The full archive being built, which fetches of its version wait for instead of building another. */
  private building: { version: Version, done: Promise<HeldArchive> } | null = null
  /** The answers being sent: the master's own file writes wait for them (sends-in-flight.ts). */
  readonly sends = new SendsInFlight()

  constructor (private readonly parts: ArchiveServerParts) {}

  /** The full archive this node offers to peers, for its beacon; null when fan-out is off. */
  get fullArchive (): ArchiveRef | null {
    return this.parts.fanOut ? this.offer.held?.ref ?? null : null
  }

  /** A slave fetched the master's full archive: it passes it on (fan-out). */
  holdFetched (zip: Uint8Array, ref: ArchiveRef): void {
    this.offer.hold(zip, ref)
  }

  /**
   * Builds the answer to a fetch: a delta when this node cut `since`, else the full state. A
   * delta leaves out the requester's own Bayes contribution: only that node writes it, so it
   * already holds all of it (a full answer carries it, for a node that lost its state).
   */
  async serve (since: Version, ask: FetchAsk): Promise<Served> {
    trace('serve-start', `${ask.nodeId.slice(-6)} since ${since.term}.${since.seq}`)
    if (this.parts.isMaster()) this.sends.arrived(this.parts.versions.current)
    const served = await this.sends.track(async () => await this.answer(since, ask))
    trace('serve-built', `${ask.nodeId.slice(-6)} ${served.kind ?? ''} ${served.zip?.byteLength ?? 0}`)
    return served
  }

  /**
   * Resolves once the fetches of `version`, just announced, began (at most FETCH_ARRIVE_MAX_MS)
   * and the answers being sent are sent (at most SEND_FIRST_MAX_MS): the master renders its own
   * files after the fetches a new version started, not while they are sent. `uploadedBy`: the
   * node whose upload the version holds (its fetch may come after the answer: fetchesToCome).
   */
  async sent (version: Version, uploadedBy?: string): Promise<void> {
    await this.sends.sent({ version, fetches: this.parts.fetchesToCome?.(version, uploadedBy) ?? 0 })
  }

  /** {@link serve}'s answer. */
  private async answer (since: Version, ask: FetchAsk): Promise<Served> {
    if (!this.parts.isMaster()) return this.serveHeld(ask)
    const { versions, bayes } = this.parts
    const version = versions.current
    if (compareVersions(since, version) >= 0) return { status: Status.UP_TO_DATE, version }
    const record = since.term === version.term ? await versions.record(since) : undefined
    if (record === undefined) {
      if (this.parts.fanOut) return await this.serveFull(ask)
      const zip = await this.build({ kind: 'full', origin: this.parts.nodeId, base: null, version }, this.fullContent())
      return { status: Status.OK, kind: 'full', version, zip }
    }
    let contribs: ArchiveContent['bayes'] = null
    if (bayes !== undefined) {
      // Up to the version served: what a merge committed meanwhile comes with the next version, not twice.
      const upTo = record.bseq === undefined ? undefined : (await versions.record(version))?.bseq
      const delta = record.bseq === undefined ? null : await bayes.changedSinceFile(record.bseq, nodeId => nodeId !== ask.nodeId, upTo)
      contribs = delta ?? bayes.file()
    }
    const zip = await this.build({ kind: 'delta', origin: this.parts.nodeId, base: since, version }, { lists: { kind: 'changedSince', lseq: record.lseq, ownOnly: false }, bayes: contribs })
    return { status: Status.OK, kind: 'delta', base: since, version, zip }
  }

  /** Every entry and every Bayes contribution. */
  private fullContent (): ArchiveContent {
    return { lists: { kind: 'all' }, bayes: this.parts.bayes?.file() ?? null }
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
    const { versions } = this.parts
    const held = this.offer.held
    // Not one older than tombstones dropped since: its entries plus a delta would miss those
    // deletes, and a node that was away drops what the full state it applies does not carry.
    if (held !== null && this.parts.staleBase?.(held.ref.version) !== true && await versions.isDeltaBase(held.ref.version)) return held
    // After the await: a fetch served meanwhile may have built one of the current version.
    const built = this.offer.held
    if (built !== null && built !== held && compareVersions(built.ref.version, versions.current) === 0) return built
    const version = versions.current
    // One build per version: two fetches building at once would hold two different archives of
    // one version, and a seed would offer bytes the master no longer names.
    const joined = this.building !== null && compareVersions(this.building.version, version) === 0 ? this.building : null
    if (joined !== null) return await joined.done
    const building = { version, done: this.buildFull(version) }
    this.building = building
    try {
      return await building.done
    } finally {
      if (this.building === building) this.building = null
    }
  }

  /** Builds and holds the full archive of `version`. */
  private async buildFull (version: Version): Promise<HeldArchive> {
    const zip = await this.build({ kind: 'full', origin: this.parts.nodeId, base: null, version }, this.fullContent())
    this.offer.hold(zip, archiveRef(zip, version))
    return this.offer.held as HeldArchive
  }

  /** Builds an archive; one that fails is reported here too. */
  private async build (meta: ArchiveMeta, content: ArchiveContent): Promise<Uint8Array> {
    try {
      return (await buildArchive(meta, this.parts.replica, content)).zip
    } catch (err) {
      this.parts.report(`build ${meta.kind} archive`, err)
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
}
