/**
 * Fan-out of full archives: a node that holds the master's full archive of a central version
 * sends it on, so the master's upload does not grow with the cluster.
 *
 * The master sends a full archive to at most {@link FULL_SENDS_AT_ONCE} nodes unasked-for (the
 * seeds); every other fetcher that can fetch from peers is answered BUSY with the archive's
 * identity (version, size, sha256) and the seeds' ids. A fetcher then takes the archive from a
 * peer that announces it in its beacon, checks that it is exactly the named one, and falls back
 * to the master when a peer fails or refuses, when no seed is left to wait for, or after
 * {@link HOLDER_WAIT_MS}. Deltas never take this path: they are served at once, as before.
 *
 * Pure logic: the network is reached through {@link FanOutPeers}.
 */
import { createHash } from 'node:crypto'
import { Status } from '../pb/spamsync.js'
import { SyncRefusedError, WrongArchiveError } from '../errors.js'
import { compareVersions, type Version } from '../version.js'
import { describeArchive, sameArchive, type ArchiveRef } from '../protocol/archive-ref.js'

/** Full archives one node sends at a time; also the master's seeds per archive. */
export const FULL_SENDS_AT_ONCE = 2

/**
 * A fetcher told BUSY waits this long for a peer to announce the archive, then asks the master
 * again. Counted from the last new holder, so a fetcher keeps waiting while the archive still
 * spreads (ten joining nodes took 13-17 s to pass a 121k-line list around on a loaded machine).
 */
export const HOLDER_WAIT_MS = 10_000

/** A full archive a node holds, with its reference. */
export interface HeldArchive {
  ref: ArchiveRef
  zip: Uint8Array
}

/**
 * The full archive this node offers, and who may have it now: at most
 * {@link FULL_SENDS_AT_ONCE} sends at a time, and (for the master) at most that many seeds.
 */
export class ArchiveOffer {
  private current: HeldArchive | null = null
  private active = 0
  private readonly sentTo = new Set<string>()

  constructor (private readonly limit = FULL_SENDS_AT_ONCE) {}

  /** The archive offered, or null. */
  get held (): HeldArchive | null {
    return this.current
  }

  /** Nodes this archive was sent to (or is being sent to). */
  get sources (): string[] {
    return [...this.sentTo]
  }

  /** Offers `zip` from now on, in place of the one before. */
  hold (zip: Uint8Array, ref: ArchiveRef): void {
    this.current = { zip, ref }
    this.sentTo.clear()
  }

  /**
   * Whether to send the held archive to `nodeId` now. `seed`: the node did not name the archive
   * (it asked the master for its changes), so the seed limit applies too. Returns the function
   * to call when the send is over, or null: answer BUSY.
   */
  take (nodeId: string, seed: boolean): (() => void) | null {
    if (this.active >= this.limit) return null
    if (seed && !this.sentTo.has(nodeId) && this.sentTo.size >= this.limit) return null
    this.active++
    this.sentTo.add(nodeId)
    let released = false
    return () => {
      if (released) return
      released = true
      this.active--
    }
  }
}

/** A fetch answer as the fan-out sees it. */
export interface FetchAnswer {
  status: Status
  reason: string
  version?: Version
  /** OK: whether the archive is a full one (else a delta). */
  full?: boolean
  /** The archive that came (OK) or that is named (BUSY). */
  archive?: ArchiveRef
  /** BUSY: the nodes the master sent the archive to. */
  sources: string[]
  zip?: Uint8Array
  /** OK: the encoded history records of the versions the archive covers; empty from an older agent. */
  history?: Uint8Array
}

/** The network and the cluster's beacons, as the fan-out sees them. */
export interface FanOutPeers {
  /** Fetches from `peerId`: the changes since `since`, or exactly `archive` when given. */
  fetch: (peerId: string, since: Version, want: Version, archive?: ArchiveRef) => Promise<FetchAnswer>
  /** Live peers whose beacon announces `archive`. */
  holders: (archive: ArchiveRef) => string[]
  /** A node that may still come to hold `archive`: not heard of yet, or live and neither announcing it nor past its version. */
  awaited: (nodeId: string, archive: ArchiveRef) => boolean
  /** A peer failed or refused; the fetch goes on elsewhere. */
  onPeerFailed: (peerId: string, err: unknown) => void
}

/** The archive a fetcher was told to take from a peer. */
interface Waiting {
  ref: ArchiveRef
  sources: string[]
  /** When the master named it, or when a peer announced it that had not before. */
  since: number
  /** The most holders seen at once. */
  holders: number
  /** Peers that failed or refused it. */
  failed: Set<string>
}

/** The outcome of one fetch: the answer and who gave it. */
export interface FetchedFrom {
  answer: FetchAnswer
  peer: string
}

/** The fetching side of the fan-out; one per node. */
export class FanOutFetcher {
  private waiting: Waiting | null = null

  constructor (
    private readonly selfId: string,
    private readonly peers: FanOutPeers,
    private readonly now: () => number = Date.now
  ) {}

  /** The archive this node waits for from a peer, if any. */
  get awaiting (): ArchiveRef | null {
    return this.waiting?.ref ?? null
  }

  /**
   * One fetch of the changes since `since`: from the master, or when the master is busy, from a
   * peer that holds the archive it named. Null: no peer holds it yet and it is too early to ask
   * the master again; the caller tries again later (next heartbeat, or a peer's announcement).
   */
  async fetch (masterId: string, since: Version, want: Version): Promise<FetchedFrom | null> {
    // Drop it once applied, or once a new term began: the new master cannot make a delta from it.
    const w0 = this.waiting
    if (w0 !== null && (compareVersions(w0.ref.version, since) <= 0 || w0.ref.version.term < want.term)) this.waiting = null
    if (this.waiting === null) {
      const answer = await this.peers.fetch(masterId, since, want)
      if (answer.status !== Status.BUSY) return { answer, peer: masterId }
      this.wait(answer)
    }
    const w = this.waiting as Waiting
    const holders = this.peers.holders(w.ref)
    if (holders.length > w.holders) {
      w.holders = holders.length
      w.since = this.now()
    }
    let failed = false
    let busy = 0
    for (const peer of this.order(holders)) {
      if (peer === masterId || peer === this.selfId || w.failed.has(peer)) continue
      try {
        const answer = await this.peers.fetch(peer, since, want, w.ref)
        if (answer.status === Status.BUSY) {
          busy++
          continue
        }
        if (answer.status !== Status.OK) throw new SyncRefusedError(`${peer} refused archive ${describeArchive(w.ref)}: ${answer.reason}`)
        if (answer.archive === undefined || !sameArchive(answer.archive, w.ref)) {
          throw new WrongArchiveError(`${peer} sent ${describeArchive(answer.archive)} where ${describeArchive(w.ref)} was asked for`)
        }
        this.waiting = null
        return { answer, peer }
      } catch (err) {
        failed = true
        w.failed.add(peer)
        this.peers.onPeerFailed(peer, err)
      }
    }
    // A busy holder frees a slot soon. A seed that holds the archive is no longer awaited, so
    // counting only awaited seeds sent every fetcher that found the seeds busy to the master.
    const seedsToCome = w.sources.some(id => id !== this.selfId && this.peers.awaited(id, w.ref))
    if ((busy > 0 || (!failed && seedsToCome)) && this.now() - w.since < HOLDER_WAIT_MS) return null
    // The master sends a named archive whenever it has a free slot.
    const answer = await this.peers.fetch(masterId, since, want, w.ref)
    if (answer.status === Status.BUSY) {
      this.wait(answer)
      return null
    }
    this.waiting = null
    return { answer, peer: masterId }
  }

  /** Remembers what a BUSY answer named; the wait starts anew only for another archive. */
  private wait (answer: FetchAnswer): void {
    if (answer.archive === undefined) throw new SyncRefusedError(`the master answered BUSY without naming an archive: ${answer.reason}`)
    const w = this.waiting
    if (w !== null && sameArchive(w.ref, answer.archive)) {
      w.sources = answer.sources
      w.since = this.now()
      return
    }
    this.waiting = { ref: answer.archive, sources: answer.sources, since: this.now(), holders: 0, failed: new Set() }
  }

  /** Holders in an order that differs from node to node, so fetchers spread over them. */
  private order (holders: string[]): string[] {
    const sorted = [...holders].sort()
    if (sorted.length === 0) return sorted
    const start = createHash('sha256').update(this.selfId).digest().readUInt32BE(0) % sorted.length
    return [...sorted.slice(start), ...sorted.slice(0, start)]
  }
}
