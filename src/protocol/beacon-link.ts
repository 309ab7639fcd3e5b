/**
 * `/spamsync/beacon/1.0.0`: every heartbeat a node sends its beacon straight to each connected
 * peer, over one long-lived stream per peer and direction. Beacons are not flooded: floodsub
 * forwards every message from every node to every other, (n-1)^2 sends per beacon; an idle
 * agent of 10 used 6.5% of a core with it and 3% without. Nodes dial every member they hear of, so
 * the cluster is a full mesh and a direct send reaches everyone. A node bootstrapped to one
 * peer learns of the rest by introductions: a new link first carries the sender's last beacon
 * of every other member, and a member heard for the first time is introduced to every linked
 * peer once (the receiver only dials it, and never takes the frame as that member's word).
 */
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Connection, Startable, Stream } from '@libp2p/interface'
import type { SpamsyncNode } from '../net/libp2p-node.js'

/** Protocol id. Stays the same across protocol majors: beacons tell peers which major they speak. */
export const BEACON_PROTOCOL = '/spamsync/beacon/1.0.0'

/** Largest frame; a beacon is a few hundred bytes. A bigger one closes the link. */
export const MAX_BEACON_BYTES = 16 * 1024

/** Inbound links per connection: one is used, the second covers a link reopened before the old one closed. */
export const MAX_INBOUND_LINKS = 2

/** A link that carries no frame for this long is closed; a live peer sends one every heartbeat. */
export const LINK_IDLE_TIMEOUT_MS = 60_000

/** A frame the peer does not take within this closes the link; the next heartbeat opens a new one. */
export const SEND_TIMEOUT_MS = 5_000

/** A peer that refused the protocol is asked again only after this. */
export const REFUSED_RETRY_MS = 10_000

/** Called for every frame a peer sent: `from` is the connection's peer id, authenticated by Noise. */
export type BeaconReceiver = (from: string, beacon: Uint8Array) => void

/** This node's outbound link to one peer. */
interface Link {
  lp: LengthPrefixedStream<Stream> | null
  /** A frame or the opening is in flight: a new beacon is dropped, not queued (the next one supersedes it). */
  busy: boolean
  /** Introductions waiting for the next write; unlike beacons, each is sent once, so none is dropped. */
  intros: Uint8Array[]
}

/** Sends and receives beacons; the agent decides what they mean. */
export class BeaconLink implements Startable {
  private readonly links = new Map<string, Link>()
  /** Peers that refused the protocol, and when. */
  private readonly refused = new Map<string, number>()
  private stopped = false

  constructor (private readonly node: SpamsyncNode, private readonly receive: BeaconReceiver) {}

  async start (): Promise<void> {
    await this.node.handle(BEACON_PROTOCOL, (stream, connection) => {
      this.readLink(stream, connection).catch((err) => { stream.abort(err) })
    }, { maxInboundStreams: MAX_INBOUND_LINKS })
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.node.unhandle(BEACON_PROTOCOL)
    for (const link of this.links.values()) link.lp?.unwrap().abort(new Error('stopping'))
    this.links.clear()
  }

  /**
   * Sends `beacon` to every connected peer. A link opened now first carries `introductions()`,
   * the last beacons this node heard from the other members.
   */
  send (beacon: Uint8Array, introductions: () => Uint8Array[]): void {
    if (this.stopped) return
    const connected = new Set(this.node.getPeers().map(String))
    for (const [peer, link] of this.links) {
      if (!connected.has(peer)) {
        link.lp?.unwrap().abort(new Error('peer disconnected'))
        this.links.delete(peer)
      }
    }
    for (const peer of connected) {
      const link = this.links.get(peer)
      if (link === undefined) this.open(peer, [...introductions(), beacon])
      else if (!link.busy) this.write(peer, link, [beacon])
    }
  }

  /** Passes `beacon` of member `author`, heard for the first time, on to every other linked peer. */
  introduce (beacon: Uint8Array, author: string): void {
    if (this.stopped) return
    for (const [peer, link] of this.links) {
      if (peer === author) continue
      link.intros.push(beacon)
      if (!link.busy) this.write(peer, link, [])
    }
  }

  private open (peer: string, frames: Uint8Array[]): void {
    const refusedAt = this.refused.get(peer)
    if (refusedAt !== undefined && Date.now() - refusedAt < REFUSED_RETRY_MS) return
    const connection = this.node.getConnections().find(c => c.remotePeer.toString() === peer && c.status === 'open')
    if (connection === undefined) return
    const link: Link = { lp: null, busy: true, intros: [] }
    this.links.set(peer, link)
    connection.newStream(BEACON_PROTOCOL, { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) }).then((stream) => {
      if (this.links.get(peer) !== link || this.stopped) {
        stream.abort(new Error('link replaced'))
        return
      }
      this.refused.delete(peer)
      link.lp = lpStream(stream, { maxDataLength: MAX_BEACON_BYTES })
      stream.addEventListener('close', () => { if (this.links.get(peer) === link) this.links.delete(peer) })
      this.write(peer, link, frames)
    }, () => {
      if (this.links.get(peer) === link) this.links.delete(peer)
      this.refused.set(peer, Date.now())
    })
  }

  private write (peer: string, link: Link, frames: Uint8Array[]): void {
    if (link.lp === null) return
    link.busy = true
    link.lp.writeV([...link.intros.splice(0), ...frames], { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) }).then(() => { link.busy = false }, (err) => {
      link.lp?.unwrap().abort(err)
      if (this.links.get(peer) === link) this.links.delete(peer)
    })
  }

  private async readLink (stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString()
    const lp = lpStream(stream, { maxDataLength: MAX_BEACON_BYTES })
    while (!this.stopped) {
      const frame = await lp.read({ signal: AbortSignal.timeout(LINK_IDLE_TIMEOUT_MS) })
      this.receive(from, frame.subarray())
    }
  }
}
