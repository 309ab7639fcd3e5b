/**
 * Beacons in and out. Out: the election's beacon, with what only the wire carries, to every
 * linked peer. In: a frame is decoded and bounded where it enters, and what it says goes to the
 * part it concerns: versions to the peer directory, name and health to the cluster view, the
 * beacon to the election, the master's clock to the skew monitor, announced versions and
 * archives to the sync engine. Only a member's own beacon counts, or the master's beacon with
 * its signature passed on through the relay tree (beacon-relay.ts); any other beacon one member
 * passes on of another (an introduction) is only a reason to dial that member, who then speaks
 * for itself.
 */
import { Beacon, Role } from '../pb/spamsync.js'
import { beaconOutOfBounds } from '../election/beacon-bounds.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS, type Beacon as ElectionBeacon, type Role as ElectionRole } from '../election/state.js'
import { BeaconBoundsError, BeaconDecodeError, errorMessage } from '../errors.js'
import { incompatibility, type PeerVersions } from './compat.js'
import { electionBeacon, encodeBeacon, namedArchive, wirePeriod, type OwnBeaconFields } from './beacon-wire.js'
import { guarded, type Reporter } from '../guarded.js'
import { HeartbeatRelay } from './beacon-relay.js'
import { ed25519Signer } from './beacon-signature.js'
import type { BeaconReceiver } from './beacon-link.js'
import type { ArchiveRef } from './archive-ref.js'
import type { Version } from '../version.js'
import type { NodeHealth } from '../pb/spamsync.js'

/**
 * A member not heard from for this long times its beacon period (it was not live) is introduced
 * to the linked peers again when it is back.
 */
export const INTRODUCE_AFTER_MS = 3 * DEFAULT_HEARTBEAT_INTERVAL_MS

/** The address book hears a member's unchanged addresses at least this often (it keeps them 24 h from the last). */
export const RETELL_ADDRS_MS = 60_000

/** The beacon link as the router uses it (protocol/beacon-link.ts). */
export interface BeaconSender {
  start: () => Promise<void>
  stop: () => Promise<void>
  send: (beacon: Uint8Array, introductions: () => Uint8Array[], only?: ReadonlySet<string>) => void
  relay: (frame: Uint8Array, peers: readonly string[]) => void
  /** The peers this node has a connection to: the relay tree passes a beat over these only (absent: every peer). */
  connectedPeers?: () => ReadonlySet<string>
  introduce: (beacon: Uint8Array, author: string, to?: string) => void
}

/** The parts beacons concern. */
export interface BeaconRouterParts {
  selfId: string
  strictVersion: boolean
  /** Opens the link that delivers frames to `receive` (a BeaconLink on the libp2p node). */
  openLink: (receive: BeaconReceiver) => BeaconSender
  /** The error log status shows: a dropped frame goes there. */
  report: Reporter
  /**
   * This node's key (libp2p's raw Ed25519 bytes), loaded at start: it signs its beacon while it
   * is master, so members may relay it; absent, it sends its beacon to every peer itself.
   */
  privateKey?: () => Promise<{ raw: Uint8Array }>
  /** What this node's beacon carries besides the election's fields. */
  own: () => OwnBeaconFields
  election: { readonly role: ElectionRole, readonly term: number, readonly masterId: string | null, receive: (b: ElectionBeacon) => void, liveMembers: () => readonly string[] }
  peers: {
    heard: (nodeId: string, versions: PeerVersions, reason: string | null) => void
    dialAddrs: (nodeId: string, addrs: readonly Uint8Array[]) => void
    remember: (nodeId: string, addrs: readonly Uint8Array[]) => void
  }
  cluster: { heardFrom: (nodeId: string, name: string, agentVersion: string, health: NodeHealth | undefined) => void }
  clock: { heardMaster: (masterWallMs: number) => void, heardPeer: (nodeId: string, peerWallMs: number) => void }
  holders: { announced: (nodeId: string, ref: ArchiveRef | undefined) => boolean }
  engine: { masterAnnounced: (version: Version) => void, archiveAnnounced: (ref: ArchiveRef) => void, tombstones?: { announced: (floor: number) => void } }
  /** This node took a beat of the master it follows (the agent's heartbeat ticks on it: cluster/heartbeat.ts). */
  masterBeat?: () => void
  now?: () => number
  /** Source of beats: a clock in ms since the epoch that never goes back in this process. */
  beatClock?: () => number
}

/** Routes beacons between the link and the parts. */
export class BeaconRouter {
  private readonly link: BeaconSender
  /**
   * The last beacon each member sent this node itself, or the master's signed one passed on (the
   * introductions of beacon-link.ts), when, its beacon period, its addresses as one string with
   * when the address book was last told them, and whether it relays (its beacons carry a beat).
   */
  private readonly lastBeacons = new Map<string, { bytes: Uint8Array, at: number, period: number, addrs: string, toldAt: number, relays: boolean }>()
  private readonly now: () => number
  private readonly relay: HeartbeatRelay
  /** The term and version of this node's last master beacon: a beacon that says new ones goes to every peer. */
  private lastSaid = ''
  private stopped = false

  constructor (private readonly parts: BeaconRouterParts) {
    this.now = parts.now ?? Date.now
    this.relay = new HeartbeatRelay({
      selfId: parts.selfId,
      windowMs: DEFAULT_MISSED_HEARTBEATS * DEFAULT_HEARTBEAT_INTERVAL_MS,
      now: this.now,
      beatClock: parts.beatClock ?? (() => performance.timeOrigin + performance.now())
    })
    // Nothing a frame makes a part throw may end the process: guarded() puts it in status and the log.
    this.link = parts.openLink(guarded('beacon', parts.report, (from: string, bytes: Uint8Array) => { this.receive(from, bytes) }))
  }

  async start (): Promise<void> {
    if (this.parts.privateKey !== undefined) this.relay.signWith(ed25519Signer((await this.parts.privateKey()).raw))
    await this.link.start()
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.link.stop()
  }

  /**
   * Sends the election's beacon to every linked peer; a link opened now first carries the live
   * members' last beacons. The master signs it and sends it to its children in the relay tree
   * and to every member that does not relay (an agent from before it); the tree does the rest.
   * A master beacon with a new term or version (a change to fetch) it sends to every peer
   * itself, so a change costs no hop of the tree; the relayed copies of it are then duplicates.
   */
  publish (beacon: ElectionBeacon): void {
    if (this.stopped) return
    const beat = this.relay.nextBeat()
    const unsigned = encodeBeacon(beacon, this.parts.own(), beat)
    if (beacon.role !== 'master' || !this.relay.signs) {
      this.link.send(unsigned, () => this.introductions())
      return
    }
    const said = `${beacon.term} ${beacon.version.term}.${beacon.version.seq}`
    const news = said !== this.lastSaid
    this.lastSaid = said
    const { relaying, others } = this.liveMembers()
    const to = news ? undefined : new Set([...this.relay.targets(this.parts.selfId, beat, relaying, this.reachable()), ...others])
    this.link.send(this.relay.sign(unsigned), () => this.introductions(), to)
  }

  /** Whether this node can pass a beat to a member now (a connection is open), where the link can tell. */
  private reachable (): ((id: string) => boolean) | undefined {
    const peers = this.link.connectedPeers?.()
    return peers === undefined ? undefined : id => peers.has(id)
  }

  /** The live members that relay, with this node, in plain string order; and the live ones that do not. */
  private liveMembers (): { relaying: string[], others: string[] } {
    const relaying = [this.parts.selfId]
    const others: string[] = []
    for (const id of this.parts.election.liveMembers()) {
      if (this.lastBeacons.get(id)?.relays === true) relaying.push(id)
      else others.push(id)
    }
    return { relaying: relaying.sort(), others }
  }

  /** A frame from peer `from`; throws a named error for a frame it drops. */
  receive (from: string, bytes: Uint8Array): void {
    let b: Beacon
    try {
      b = Beacon.decode(bytes)
    } catch (err) {
      throw new BeaconDecodeError(`beacon from ${from} dropped: ${errorMessage(err)}`, { cause: err })
    }
    // Every number is bounded here, where it enters: past this point a term or version is exact.
    const bad = beaconOutOfBounds(b, this.parts.election.term)
    if (bad !== null) throw new BeaconBoundsError(`beacon from ${from} dropped: ${bad}`)
    if (b.signature.byteLength > 0 && b.nodeId !== this.parts.selfId) {
      this.signed(from, bytes, b)
    } else if (b.nodeId === from) {
      this.fromAuthor(bytes, b)
    } else if (b.nodeId !== this.parts.selfId && incompatibility(b, this.parts.strictVersion) === null) {
      this.parts.peers.dialAddrs(b.nodeId, b.addrs)
    }
  }

  /**
   * A signed beacon, from its author or passed on: taken as the author's own when the relay's
   * trust rule holds (a copy already taken, or a late one, is dropped), and a master's passed on
   * down the tree first.
   */
  private signed (from: string, bytes: Uint8Array, b: Beacon): void {
    if (this.relay.judge(from, bytes, b) !== 'take') return
    if (b.role === Role.MASTER) this.link.relay(bytes, this.relay.targets(b.nodeId, b.beat, this.liveMembers().relaying, this.reachable()))
    this.fromAuthor(bytes, b)
  }

  /** Beacon `b` (its bytes `bytes`) as its author's own word. */
  private fromAuthor (bytes: Uint8Array, b: Beacon): void {
    const author = b.nodeId
    const before = this.lastBeacons.get(author)
    const now = this.now()
    const addrs = Buffer.concat(b.addrs).toString('latin1')
    const back = before === undefined || now - before.at > INTRODUCE_AFTER_MS * before.period
    // Parsing a member's addresses on every beacon was a measurable share of an idle agent's CPU.
    const tell = back || before.addrs !== addrs || now - before.toldAt >= RETELL_ADDRS_MS
    this.lastBeacons.set(author, { bytes, at: now, period: wirePeriod(b), addrs, toldAt: tell ? now : before.toldAt, relays: b.beat > 0 })
    if (back) this.introduce(bytes, author)
    this.fromMember(b, tell)
  }

  /**
   * Passes member `author`'s beacon on (election-v1.md, "Introductions"): to every linked peer
   * from the master or a node that knows none; from a slave to its master alone, which may reach
   * a new node that cannot reach it, and introduces it to the rest.
   */
  private introduce (bytes: Uint8Array, author: string): void {
    const { masterId } = this.parts.election
    if (this.introduces()) this.link.introduce(bytes, author)
    else if (masterId !== null && masterId !== author) this.link.introduce(bytes, author, masterId)
  }

  /**
   * Whether this node introduces members to all: the master does, and every node while it knows
   * no master; a slave leaves it to its master, so a member that (re)starts is introduced about
   * once per node, not by every node to every other.
   */
  private introduces (): boolean {
    const { role, masterId } = this.parts.election
    return role !== 'slave' || masterId === null
  }

  /**
   * For a peer whose link just opened: the last beacons of the live members, or, from a slave,
   * its master's alone (the master then introduces the rest).
   */
  private introductions (): Uint8Array[] {
    const { masterId } = this.parts.election
    const ids = this.introduces() || masterId === null
      ? this.parts.election.liveMembers()
      : [masterId]
    return ids.flatMap(id => { const last = this.lastBeacons.get(id); return last === undefined ? [] : [last.bytes] })
  }

  /**
   * A member's own beacon; `tell`: its addresses go to the address book (changed, back, or not
   * told for RETELL_ADDRS_MS). A member that speaks to this node is connected: nothing to dial.
   */
  private fromMember (b: Beacon, tell: boolean): void {
    const { peers, cluster, election, clock, engine, holders } = this.parts
    if (b.nodeId === this.parts.selfId) return
    const reason = incompatibility(b, this.parts.strictVersion)
    peers.heard(b.nodeId, b, reason)
    // An incompatible node is named too, in the peers it is listed in.
    cluster.heardFrom(b.nodeId, b.name, b.agentVersion, b.health)
    if (reason !== null) return
    if (tell) peers.remember(b.nodeId, b.addrs)
    election.receive(electionBeacon(b))
    if (b.role === Role.MASTER && b.nodeId === election.masterId) {
      if (b.wallMs > 0) clock.heardMaster(b.wallMs)
      // Before the version: a fetch it starts may bring the full state, applied under this floor.
      engine.tombstones?.announced(b.tombstoneFloor)
      if (b.version !== undefined) engine.masterAnnounced(b.version)
    }
    const ref = namedArchive(b.fullArchive)
    if (holders.announced(b.nodeId, ref) && ref !== undefined) engine.archiveAnnounced(ref)
    if (b.wallMs > 0) clock.heardPeer(b.nodeId, b.wallMs)
    // Last: the tick sees this beat, and may publish this node's own beacon.
    if (b.role === Role.MASTER && b.nodeId === election.masterId) this.parts.masterBeat?.()
  }
}
