/**
 * `/spamsync/beacon/1.0.0`: a node sends its beacon straight to each connected peer (every
 * heartbeat, or every beacon period for a slave of a larger cluster: election/schedule.ts), over
 * one long-lived stream per peer and direction. Beacons are not flooded: floodsub forwards every
 * message from every node to every other, (n-1)^2 sends per beacon; an idle agent of 10 used 6.5%
 * of a core with it and 3% without. Nodes dial every member they hear of, so the cluster is a full
 * mesh and a direct send reaches everyone. A node bootstrapped to one peer learns of the rest by
 * introductions: a new link first carries beacons of other members the router picks, and a member
 * heard for the first time is introduced to every linked peer once by the router's rule (the
 * receiver only dials it, and never takes the frame as that member's word).
 */
import type { Connection, PeerId, Startable, Stream } from '@libp2p/interface'
import { encodeFrames, FrameReader } from './beacon-frames.js'
import type { SpamsyncNode } from '../net/libp2p-node.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, MAX_BEACON_PERIOD } from '../election/state.js'

/** Protocol id. Stays the same across protocol majors: beacons tell peers which major they speak. */
export const BEACON_PROTOCOL = '/spamsync/beacon/1.0.0'

/** Largest frame; a beacon is a few hundred bytes. A bigger one closes the link. */
export const MAX_BEACON_BYTES = 16 * 1024

/** Inbound links per connection: one is used, the second covers a link reopened before the old one closed. */
export const MAX_INBOUND_LINKS = 2

/**
 * An inbound link that carries no frame for this long is closed: longer than the longest beacon
 * period (MAX_LONG_BEACON_PERIOD heartbeats, 26 minutes), and than the gaps between two beats a member
 * relays to this node or the master sends it straight (a few per cent of beats at 200 nodes), so
 * a link is not reopened (and its introductions sent again) for a quiet spell.
 */
export const LINK_IDLE_TIMEOUT_MS = 15 * MAX_BEACON_PERIOD * DEFAULT_HEARTBEAT_INTERVAL_MS

/**
 * A frame the peer does not take within this closes the link (checked at the next send, not by a
 * timer per frame: one timer per frame was a measurable share of an idle agent's CPU); the next
 * heartbeat opens a new one.
 */
export const SEND_TIMEOUT_MS = 5_000

/** A peer that refused the protocol is asked again only after this. */
export const REFUSED_RETRY_MS = 10_000

/** Called for every frame a peer sent: `from` is the connection's peer id, authenticated by Noise. */
export type BeaconReceiver = (from: string, beacon: Uint8Array) => void

/** Frames and bytes (length prefix and protobuf) the link moved, for status. */
export interface BeaconCounters { framesSent: number, bytesSent: number, framesReceived: number, bytesReceived: number }

/** Bytes a frame of `n` bytes takes with its varint length prefix. */
export function framedLength (n: number): number {
  let prefix = 1
  for (let m = n; m >= 128; m >>>= 7) prefix++
  return n + prefix
}

/** This node's outbound link to one peer. */
interface Link {
  stream: Stream | null
  /** The opening is in flight, or the stream waits for a drain: a new beacon is dropped, not queued (the next one supersedes it). */
  busy: boolean
  /** When the opening or the wait for a drain began. */
  since: number
  /** Introductions waiting for the next write; unlike beacons, each is sent once, so none is dropped. */
  intros: Uint8Array[]
}

/** The node's events after which its set of connected peers may differ. */
const CONNECTION_EVENTS = ['connection:open', 'connection:close', 'peer:disconnect'] as const

/** Sends and receives beacons; the agent decides what they mean. */
export class BeaconLink implements Startable {
  private readonly links = new Map<string, Link>()
  /** Inbound links and when each last carried a frame, swept for idle ones at every send. */
  private readonly inbound = new Map<Stream, number>()
  /** Peers that refused the protocol, and when. */
  private readonly refused = new Map<string, number>()
  private stopped = false
  /**
   * The peers with a connection, made from libp2p's connections only after one opened or closed
   * (libp2p's map changes only then): made anew at every send and every relayed beat, the set was
   * 4-6% of an idle agent's CPU time in a 10-node cluster (perf, master and slave).
   */
  private connected: Set<string> | null = null
  private readonly connectionsChanged = (): void => { this.connected = null }
  /** The last beacon sent and its introductions: what a peer that connects later is sent at once. */
  private last: { beacon: Uint8Array, introductions: () => Uint8Array[] } | null = null
  /**
   * A peer that connects gets this node's last beacon at once, not at its next send: a slave sends
   * every beacon period (10 heartbeats and more), and until a peer hears it, the peer counts it as
   * not live and leaves it out of its relay tree.
   */
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    this.connected = null
    const peer = evt.detail.toString()
    if (this.stopped || this.last === null || this.links.has(peer)) return
    this.open(peer, [...this.last.introductions(), this.last.beacon])
  }

  constructor (private readonly node: SpamsyncNode, private readonly receive: BeaconReceiver, private readonly counters: BeaconCounters = { framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0 }) {}

  async start (): Promise<void> {
    await this.node.handle(BEACON_PROTOCOL, (stream, connection) => { this.readLink(stream, connection) }, { maxInboundStreams: MAX_INBOUND_LINKS })
    this.node.addEventListener('peer:connect', this.onConnect)
    for (const event of CONNECTION_EVENTS) this.node.addEventListener(event, this.connectionsChanged)
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.node.removeEventListener('peer:connect', this.onConnect)
    for (const event of CONNECTION_EVENTS) this.node.removeEventListener(event, this.connectionsChanged)
    await this.node.unhandle(BEACON_PROTOCOL)
    for (const link of this.links.values()) link.stream?.abort(new Error('stopping'))
    this.links.clear()
    for (const stream of this.inbound.keys()) stream.abort(new Error('stopping'))
    this.inbound.clear()
  }

  /**
   * Sends `beacon` to every connected peer, or, given `only`, to those of them and to every peer
   * not linked yet. A link opened now first carries `introductions()`, the last beacons this
   * node heard from the other members.
   */
  send (beacon: Uint8Array, introductions: () => Uint8Array[], only?: ReadonlySet<string>): void {
    if (this.stopped) return
    this.last = { beacon, introductions }
    const connected = this.connectedPeers()
    const now = Date.now()
    for (const [peer, link] of this.links) {
      if (!connected.has(peer)) {
        link.stream?.abort(new Error('peer disconnected'))
        this.links.delete(peer)
      } else if (link.busy && link.stream !== null && now - link.since > SEND_TIMEOUT_MS) {
        link.stream.abort(new Error(`beacon not taken within ${SEND_TIMEOUT_MS} ms`))
        this.links.delete(peer)
      }
    }
    for (const [stream, at] of this.inbound) {
      if (now - at > LINK_IDLE_TIMEOUT_MS) stream.abort(new Error(`no beacon for ${LINK_IDLE_TIMEOUT_MS} ms`))
    }
    for (const peer of connected) {
      const link = this.links.get(peer)
      if (link === undefined) this.open(peer, [...introductions(), beacon])
      else if (!link.busy && (only === undefined || only.has(peer))) this.write(peer, link, [beacon])
    }
  }

  /**
   * The peers this node has a connection to (at most the connection limit): the relay tree passes
   * over the others. Read from the connections' own peer ids, whose strings libp2p keeps: its
   * getPeers() makes every id anew from its string (a base58 decode, then an encode for String()),
   * and that, once per beat sent and once per beat relayed, was 10% of an idle agent's CPU time
   * in a 10-node cluster (V8 CPU profile, 10 agents x 60 s, load ~10).
   */
  connectedPeers (): ReadonlySet<string> {
    if (this.connected !== null) return this.connected
    const peers = new Set<string>()
    for (const c of this.node.getConnections()) peers.add(c.remotePeer.toString())
    this.connected = peers
    return peers
  }

  /** Passes the master's signed beacon on to `peers` (the relay tree); a busy link skips it, as the next beat supersedes it. */
  relay (frame: Uint8Array, peers: readonly string[]): void {
    if (this.stopped) return
    for (const peer of peers) {
      const link = this.links.get(peer)
      if (link === undefined) this.open(peer, [frame])
      else if (!link.busy) this.write(peer, link, [frame])
    }
  }

  /**
   * Passes `beacon` of member `author`, heard for the first time, on to every other linked peer,
   * or to peer `to` alone.
   */
  introduce (beacon: Uint8Array, author: string, to?: string): void {
    if (this.stopped) return
    for (const [peer, link] of this.links) {
      if (peer === author || (to !== undefined && peer !== to)) continue
      link.intros.push(beacon)
      if (!link.busy) this.write(peer, link, [])
    }
  }

  private open (peer: string, frames: Uint8Array[]): void {
    const refusedAt = this.refused.get(peer)
    if (refusedAt !== undefined && Date.now() - refusedAt < REFUSED_RETRY_MS) return
    const connection = this.node.getConnections().find(c => c.remotePeer.toString() === peer && c.status === 'open')
    if (connection === undefined) return
    const link: Link = { stream: null, busy: true, since: Date.now(), intros: [] }
    this.links.set(peer, link)
    connection.newStream(BEACON_PROTOCOL, { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) }).then((stream) => {
      if (this.links.get(peer) !== link || this.stopped) {
        stream.abort(new Error('link replaced'))
        return
      }
      this.refused.delete(peer)
      link.stream = stream
      stream.addEventListener('close', () => { if (this.links.get(peer) === link) this.links.delete(peer) })
      this.write(peer, link, frames)
    }, () => {
      if (this.links.get(peer) === link) this.links.delete(peer)
      this.refused.set(peer, Date.now())
    })
  }

  /**
   * Sends `frames` (after the waiting introductions) in one write; the link stays busy only while
   * the stream asks to wait for a drain, so a beacon sent into a stalled stream is dropped, not queued.
   */
  private write (peer: string, link: Link, frames: Uint8Array[]): void {
    const stream = link.stream
    if (stream === null) return
    const out = [...link.intros.splice(0), ...frames]
    for (const f of out) {
      this.counters.framesSent++
      this.counters.bytesSent += framedLength(f.byteLength)
    }
    const fail = (err: unknown): void => {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      if (this.links.get(peer) === link) this.links.delete(peer)
    }
    try {
      link.busy = !stream.send(encodeFrames(out))
    } catch (err) {
      fail(err)
      return
    }
    if (!link.busy) return
    link.since = Date.now()
    stream.onDrain().then(() => { link.busy = false }, fail)
  }

  /** An inbound link: its frames, as the stream's messages complete them, go to `receive`. */
  private readLink (stream: Stream, connection: Connection): void {
    const from = connection.remotePeer.toString()
    const reader = new FrameReader(MAX_BEACON_BYTES)
    this.inbound.set(stream, Date.now())
    stream.addEventListener('message', (evt) => {
      let frames: Uint8Array[]
      try {
        frames = reader.push(evt.data)
      } catch (err) {
        stream.abort(err as Error)
        return
      }
      for (const frame of frames) {
        if (this.stopped) return
        this.inbound.set(stream, Date.now())
        this.counters.framesReceived++
        this.counters.bytesReceived += framedLength(frame.byteLength)
        this.receive(from, frame)
      }
    })
    // The peer ends a link only to replace it: this side of it goes too.
    stream.addEventListener('remoteCloseWrite', () => { stream.abort(new Error('link closed by the peer')) })
    stream.addEventListener('close', () => { this.inbound.delete(stream) })
  }
}
