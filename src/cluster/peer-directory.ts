/**
 * The peers this node knows: the versions each told (identify or its beacon) and whether it is
 * compatible, the last failed dial of each, and where members were met (the address book, kept
 * in the store). It dials what it learns of and redials the members and bootstrap peers it lost.
 * It reaches libp2p only through the small {@link DialingNode} interface, so tests give it a fake.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { incompatibility, parseUserAgent, type PeerVersions } from '../protocol/compat.js'
import { printable, PEER_TEXT_MAX } from '../printable.js'
import { errorMessage } from '../errors.js'
import { AddressBook } from '../net/address-book.js'
import type { Reporter } from '../guarded.js'
import type { Log } from '../log.js'
import type { StoreBatch } from '../store/state-store.js'

/** Meta key of the address book (src/net/address-book.ts). */
const META_KNOWN_PEERS = 'knownPeers'

/** How often a node redials bootstrap peers it lost (a restarted peer comes back by itself). */
export const REDIAL_INTERVAL_MS = 2000

/** Most peer ids connected() keeps parsed (a cluster's members; made-up ids cannot grow it past this). */
export const MAX_PARSED_IDS = 4096

/** Peers whose last failed dial status shows: a peer can introduce any number of made-up ids. */
export const MAX_DIAL_ERRORS = 64

/** What this node knows of a peer's versions, for status. */
export interface PeerInfo {
  agentVersion: string
  protocolVersion: number
  schemaVersion: number
  compatible: boolean
  reason: string | null
  /** When it was last heard (ms since the epoch). */
  lastSeen: number
}

/** A failed dial, for status (`peers[].lastDialError`). */
export interface DialError {
  time: string
  message: string
}

/** The libp2p node as the directory uses it (a Libp2p node is one). */
export interface DialingNode {
  readonly peerId: PeerId
  dial: (to: PeerId | Multiaddr | Multiaddr[]) => Promise<unknown>
  getConnections: (peer?: PeerId) => ReadonlyArray<{ remoteAddr: Multiaddr }>
  hangUp: (peer: PeerId) => Promise<void>
}

/** The parts a directory works with. */
export interface PeerDirectoryParts {
  node: DialingNode
  /** Where the address book is kept. */
  store: { write: (batch: StoreBatch) => Promise<void>, getMeta: <T>(name: string) => Promise<T | undefined> }
  /** Multiaddrs (with /p2p/<id> where known) redialled whenever not connected. */
  bootstrap: readonly string[]
  strictVersion: boolean
  log: Log
  /** The error log status shows. */
  report: Reporter
  now?: () => number
}

/** Known peers, their versions and dial errors; dials and redials them. */
export class PeerDirectory {
  private readonly peers = new Map<string, PeerInfo>()
  /** The last failed dial of each peer since it last answered one, newest last. */
  private readonly dialErrors = new Map<string, DialError>()
  /** Peer ids parsed for connected() and redial(), which ask for every member every heartbeat or two. */
  private readonly parsedIds = new Map<string, PeerId>()
  /** Peers already logged as refused: a refusal is logged once, not on every redial. */
  private readonly loggedRefusals = new Set<string>()
  private readonly now: () => number
  private stopped = false

  /** The bootstrap peers parsed once (redial() runs every REDIAL_INTERVAL_MS). */
  private readonly bootstrap: ReadonlyArray<{ ma: Multiaddr, id: string | null }>

  private constructor (private readonly parts: PeerDirectoryParts, private readonly book: AddressBook) {
    this.now = parts.now ?? Date.now
    this.bootstrap = parts.bootstrap.map(addr => {
      const ma = multiaddr(addr)
      return { ma, id: ma.getComponents().find(c => c.name === 'p2p')?.value ?? null }
    })
  }

  /**
   * A directory with the address book the store holds: a node that restarts, or whose bootstrap
   * peer is gone, still finds the cluster by dialling the members it knew.
   */
  static async open (parts: PeerDirectoryParts): Promise<PeerDirectory> {
    const book = AddressBook.load(await parts.store.getMeta<unknown>(META_KNOWN_PEERS), parts.now ?? Date.now)
    book.delete(parts.node.peerId.toString())
    return new PeerDirectory(parts, book)
  }

  /** No dial from now on (the node is going down). */
  stop (): void {
    this.stopped = true
  }

  /** Every peer known by its versions or a failed dial. */
  ids (): string[] {
    return [...new Set([...this.peers.keys(), ...this.dialErrors.keys()])]
  }

  /** What `nodeId` told of its versions, or undefined. */
  info (nodeId: string): PeerInfo | undefined {
    return this.peers.get(nodeId)
  }

  /** The last failed dial of `nodeId` since it last answered one, or null. */
  lastDialError (nodeId: string): DialError | null {
    return this.dialErrors.get(nodeId) ?? null
  }

  /** Whether a connection to `nodeId` is open; false for a string that is no peer id. */
  connected (nodeId: string): boolean {
    let peerId: PeerId
    try {
      peerId = this.peerId(nodeId)
    } catch {
      // Not a peer id at all (a made-up id in a hostile beacon): no node of that name is connected.
      return false
    }
    return this.parts.node.getConnections(peerId).length > 0
  }

  /** `nodeId` parsed, kept for the next time; throws for a string that is no peer id. */
  private peerId (nodeId: string): PeerId {
    let peerId = this.parsedIds.get(nodeId)
    if (peerId === undefined) {
      peerId = peerIdFromString(nodeId)
      if (this.parsedIds.size >= MAX_PARSED_IDS) this.parsedIds.clear()
      this.parsedIds.set(nodeId, peerId)
    }
    return peerId
  }

  /** Versions a peer's beacon told; `reason` why it is refused, or null. Kept printable. */
  heard (nodeId: string, versions: PeerVersions, reason: string | null): void {
    this.peers.set(nodeId, {
      agentVersion: printable(versions.agentVersion, PEER_TEXT_MAX),
      protocolVersion: versions.protocolVersion,
      schemaVersion: versions.schemaVersion,
      compatible: reason === null,
      reason: reason === null ? null : printable(reason, PEER_TEXT_MAX),
      lastSeen: this.now()
    })
  }

  /** Records a peer's versions from identify; an incompatible peer is shown in status and hung up on. */
  identified (peerId: PeerId, agentVersion: string | undefined): void {
    const versions = parseUserAgent(agentVersion)
    const id = peerId.toString()
    if (versions === null) {
      this.heard(id, { agentVersion: agentVersion ?? 'unknown', protocolVersion: 0, schemaVersion: 0 }, `not a spamsync agent (${agentVersion ?? 'no user agent'})`)
    } else {
      const reason = incompatibility(versions, this.parts.strictVersion)
      this.heard(id, versions, reason)
      if (reason === null) return
    }
    if (!this.loggedRefusals.has(id)) {
      this.loggedRefusals.add(id)
      this.parts.log.warn({ event: 'peer-refused', peerId: id, reason: this.peers.get(id)?.reason }, 'incompatible peer refused')
    }
    this.parts.node.hangUp(peerId).catch((err) => { this.parts.report(`hang up on ${id}`, err) })
  }

  /** A peer discovery found (mDNS, bootstrap): dialled unless connected or known incompatible. */
  discovered (peerId: PeerId): void {
    const { node } = this.parts
    if (this.stopped || peerId.equals(node.peerId) || node.getConnections(peerId).length > 0) return
    if (this.peers.get(peerId.toString())?.compatible === false) return
    this.dial(peerId.toString(), peerId)
  }

  /** Dials `nodeId` at the addresses a beacon gave, unless connected. */
  dialAddrs (nodeId: string, addrs: readonly Uint8Array[]): void {
    if (this.stopped) return
    if (this.parts.node.getConnections(peerIdFromString(nodeId)).length > 0) return
    const mas = addrs.map(bytes => multiaddr(bytes))
    if (mas.length > 0) this.dial(nodeId, mas)
  }

  /** A member's own beacon: its announced addresses on a host its live connection shows go into the address book. */
  remember (nodeId: string, addrs: readonly Uint8Array[]): void {
    const remote = this.parts.node.getConnections(peerIdFromString(nodeId)).map(c => c.remoteAddr.toString())
    if (this.book.met(nodeId, remote, addrs.map(a => multiaddr(a).toString()))) this.storeBook()
  }

  /** Dials every member of the address book and every bootstrap peer not connected now. */
  redial (): void {
    if (this.stopped) return
    if (this.book.expire()) this.storeBook()
    for (const [nodeId, addrs] of this.book.members()) {
      let dial
      try {
        if (this.parts.node.getConnections(this.peerId(nodeId)).length > 0) continue
        dial = addrs.map(a => multiaddr(a))
      } catch (err) {
        // A stored entry that no longer parses (a store written by hand): forget it, do not stop the timer.
        this.book.delete(nodeId)
        this.storeBook()
        this.parts.report('address book', err)
        continue
      }
      this.dial(nodeId, dial)
    }
    for (const { ma, id } of this.bootstrap) {
      if (id !== null && this.parts.node.getConnections(this.peerId(id)).length > 0) continue
      this.dial(id, ma)
    }
  }

  private storeBook (): void {
    this.parts.store.write({ meta: { [META_KNOWN_PEERS]: this.book.toJSON() } }).catch((err) => { this.parts.report('address book', err) })
  }

  /**
   * Dials a peer (`nodeId`, when known). A peer that is down fails every redial, which is
   * expected: its failure is kept for its entry in status and logged at debug, not added to the
   * error log, which it would flood.
   */
  private dial (nodeId: string | null, to: PeerId | Multiaddr | Multiaddr[]): void {
    this.parts.node.dial(to).then(() => {
      if (nodeId !== null) this.dialErrors.delete(nodeId)
    }, (err) => {
      const message = printable(errorMessage(err), PEER_TEXT_MAX)
      if (nodeId !== null) {
        this.dialErrors.delete(nodeId)
        this.dialErrors.set(nodeId, { time: new Date(this.now()).toISOString(), message })
        for (const old of this.dialErrors.keys()) {
          if (this.dialErrors.size <= MAX_DIAL_ERRORS) break
          this.dialErrors.delete(old)
        }
      }
      this.parts.log.debug({ event: 'dial-failed', peerId: nodeId, to: String(to), err: message }, 'dial failed')
    })
  }
}
