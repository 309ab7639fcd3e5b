/**
 * The libp2p node of an agent: TCP, Noise with a prologue derived from the cluster key (a peer
 * without the key fails the handshake), yamux, identify, and discovery by mDNS (service name
 * derived from the key) and bootstrap addresses. Beacons have their own protocol (beacon-link.ts).
 *
 * `@libp2p/pnet` would also admit by key, but measured here it cut loopback throughput to a
 * third and crashed on 64 MB transfers; the prologue costs nothing.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { bootstrap } from '@libp2p/bootstrap'
import type { PeerDiscovery, PrivateKey } from '@libp2p/interface'
import { mdnsServiceTag, noisePrologue, type ClusterKey } from './cluster-key.js'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../constants.js'

/** How many connections a node keeps at most; a cluster is small, so a flood is an attack. */
export const MAX_CONNECTIONS = 64

/** Handshakes in flight at once; bounds the memory a connection flood can take. */
export const MAX_PENDING_INBOUND = 16

/**
 * libp2p's connection monitor is off: no keep-alive ping. It opened a stream on every connection
 * every 2 minutes, which the peer refused (it runs no ping service: multistream-select, a few
 * frames each way, an abort), about a tenth of an idle agent's CPU in a 10-node cluster (perf;
 * protocol/sync-v1.md, "Transport and admission"). The beacons already watch every link the
 * election uses, and a link that dies without closing (a host that lost power, a dropped route)
 * is handled as the protocol handles a hung peer whose connections stay open (election-v1.md):
 * a master is replaced after B (22.5 s), a slave stops counting as live after its beacon period
 * times W (3 minutes at 10 nodes) and so leaves the relay tree, and the link itself closes when
 * TCP gives up retransmitting what was written on it (beats, yamux's ping every 5 minutes):
 * about 15 minutes on Linux (tcp_retries2). The ping found such a link within 2 minutes and 20 s.
 * test/unit/bench/scale-sim.test.ts runs a dead but open link in the simulation.
 */
export const CONNECTION_MONITOR = { enabled: false } as const

/**
 * Time between two yamux pings of a connection (libp2p-yamux's default is 30 s). They only
 * measure the round trip, which yamux uses to grow a busy stream's receive window; a failed one is
 * logged and nothing else. At 30 s they were a ping and a pong
 * each way per connection and half a minute: about a tenth of the frames of an idle agent of a
 * 10-node cluster. The first ping still goes when the connection opens, so the window grows as before.
 */
export const YAMUX_PING_INTERVAL_MS = 300_000

/**
 * Largest receive window of a yamux stream (libp2p-yamux's default is 16 MiB). Yamux hands the
 * reader each data frame whole, as one message, and grants the window again as frames arrive, not
 * as they are read; a sender whose writes queue up (its socket is full: a corked socket, tried in
 * the bundle, made that common) puts up to the whole window into one frame. libp2p's byte stream
 * (lpStream, under every transfer) buffers at most 4 MiB not yet read and aborts the stream past
 * that: a fetch of a 12 MB archive got a 4 MiB frame while a 1 MiB chunk was still unread and
 * failed with 'Read buffer overflow - 7781267 > 4194304'. At 2 MiB a frame and the unread part of
 * a 1 MiB chunk (transfer.ts) stay below 4 MiB. 2 MiB still moves 20 MB/s over a 100 ms round trip.
 */
export const MAX_STREAM_WINDOW_BYTES = 2 * 1024 * 1024

/** Services of the node, typed for the parts that use them. */
export type SpamsyncServices = {
  identify: unknown
}

/** A running node. */
export type SpamsyncNode = Libp2p<SpamsyncServices>

/** What a node is built from. */
export interface NodeOptions {
  privateKey: PrivateKey
  clusterKey: ClusterKey
  listen: string[]
  bootstrap: string[]
  mdns: boolean
}

/** The user agent a node shows in identify: compatibility is judged from it before any sync. */
export function userAgent (): string {
  return `spamsync/${AGENT_VERSION} protocol/${PROTOCOL_VERSION} schema/${SCHEMA_VERSION}`
}

/** Builds and starts a node. */
export async function createSpamsyncNode (opts: NodeOptions): Promise<SpamsyncNode> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (opts.mdns) {
    // Loaded only when used: an agent started with --no-mdns does not hold the DNS packet code.
    const { mdns } = await import('@libp2p/mdns')
    peerDiscovery.push(mdns({ serviceTag: mdnsServiceTag(opts.clusterKey), interval: 5000 }))
  }
  if (opts.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: opts.bootstrap, timeout: 100 }))
  return await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise({ prologueBytes: noisePrologue(opts.clusterKey) })],
    streamMuxers: [yamux({ keepAliveInterval: YAMUX_PING_INTERVAL_MS, streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW_BYTES } })],
    peerDiscovery,
    connectionManager: {
      maxConnections: MAX_CONNECTIONS,
      maxIncomingPendingConnections: MAX_PENDING_INBOUND
    },
    connectionMonitor: CONNECTION_MONITOR,
    nodeInfo: { userAgent: userAgent() },
    services: {
      identify: identify()
    }
  })
}

/**
 * How long the node's own addresses are reused before they are asked for again, unless libp2p
 * says they changed first ('self:peer:update'); the longest an interface address that appeared or
 * went without an event stays unknown to the beacons.
 */
export const OWN_ADDRESSES_TTL_MS = 60_000

/** The node's addresses as of when, per node. */
const ownAddresses = new WeakMap<SpamsyncNode, { at: number, bytes: Uint8Array[] }>()

/** Nodes whose address changes drop their entry: one listener each, however often they change. */
const watched = new WeakSet<SpamsyncNode>()

/**
 * The node's own addresses (each ending in /p2p/<id>) as bytes, for every beacon it sends. libp2p's
 * getMultiaddrs() asks the kernel for each listener's address and builds every multiaddr again on
 * each call: a master publishes every heartbeat, and it was ~4% of an idle agent's CPU profile.
 */
export function ownAddressBytes (node: SpamsyncNode, now = Date.now()): Uint8Array[] {
  const held = ownAddresses.get(node)
  if (held !== undefined && now - held.at < OWN_ADDRESSES_TTL_MS) return held.bytes
  if (!watched.has(node)) {
    watched.add(node)
    node.addEventListener('self:peer:update', () => { ownAddresses.delete(node) })
  }
  const bytes = node.getMultiaddrs().map(ma => ma.bytes)
  ownAddresses.set(node, { at: now, bytes })
  return bytes
}
