/** The simulation's model: its costs and options, the targets, and the fake ids, addresses and frames its beacons carry. */
import { DEFAULT_HEARTBEAT_INTERVAL_MS, type Beacon as ElectionBeacon } from '../../src/election/state.js'
import type { ArchiveRef } from '../../src/protocol/archive-ref.js'
import { electionBeacon, namedArchive } from '../../src/protocol/beacon-wire.js'
import { Beacon } from '../../src/pb/spamsync.js'
import type { Version } from '../../src/version.js'

/** As src/agent.ts: a member heard again after this long is introduced to the linked peers. */
export const INTRODUCE_AFTER_MS = 3 * DEFAULT_HEARTBEAT_INTERVAL_MS

/** What the design is held to (issue 17): per-node beacon traffic, and a change on every node. */
export const SCALE_TARGETS = {
  beaconBytesPerNodePerS: 1024,
  changeOnAllMs: 2000
} as const

/** The end of a signed beacon: Beacon field 25 and a 64-byte Ed25519 signature (beacon-signature.ts); the simulation does not sign. */
export const SIGNATURE_TAIL = Buffer.concat([Uint8Array.of(0xca, 0x01, 64), new Uint8Array(64)])

/** Distinct link latencies between the minimum and the maximum (0.1 ms apart at 0.2-1 ms). */
export const LATENCY_STEPS = 9

/**
 * Bytes a beacon frame costs on the wire beyond its length-prefixed protobuf: a yamux header
 * (12), a Noise frame (2-byte length, 16-byte tag) and TCP/IPv4 headers (40), one segment per frame.
 */
export const FRAME_OVERHEAD_BYTES = 12 + 2 + 16 + 40

/** Work times and sizes of the model; the defaults come from bench/RESULTS.md (121,570-line list). */
export interface SimCosts {
  /** The watcher's debounce before a change is scanned (bench/cluster.ts runs with 50 ms). */
  debounceMs: number
  /** Scan of the changed file and build of the delta upload, on the origin's queue. */
  scanMs: number
  /** Merge of a delta upload and the version cut, on the master's queue. */
  mergeDeltaMs: number
  /**
   * Answering one delta fetch on the master: the fetch stream (Noise, yamux, protobuf), the
   * delta read and its archive; outside its queue, as serveFetch, but one after the other.
   */
  serveDeltaMs: number
  /** Merge and file write of a delta on a slave. */
  applyDeltaMs: number
  /** Building the full archive on the master (exportInProcess: 255 ms). */
  buildFullMs: number
  /** Applying a full archive on a slave (importInProcess: 569 ms). */
  applyFullMs: number
  /** Building a slave's full upload (as buildFullMs). */
  exportFullMs: number
  /** Merging one full upload on the master (importInProcess.merge: 305 ms). */
  mergeFullMs: number
  /** Delta upload of one line. */
  uploadDeltaBytes: number
  /** Delta answer of one line (master sent / receiver: 753 B). */
  deltaBytes: number
  /** Full archive of the 121,570-line list (1,098,508 B). */
  fullArchiveBytes: number
  /** A fetch or upload request and its small answer. */
  requestBytes: number
}

export const DEFAULT_COSTS: SimCosts = {
  debounceMs: 50,
  scanMs: 10,
  mergeDeltaMs: 10,
  serveDeltaMs: 2,
  applyDeltaMs: 10,
  buildFullMs: 255,
  applyFullMs: 569,
  exportFullMs: 255,
  mergeFullMs: 305,
  uploadDeltaBytes: 600,
  deltaBytes: 753,
  fullArchiveBytes: 1_098_508,
  requestBytes: 200
}

/** One simulated cluster's settings. */
export interface SimOptions {
  nodes: number
  seed?: number
  /** One-way latency of a link, uniform between these (fixed per link). */
  latencyMinMs?: number
  latencyMaxMs?: number
  /** Each node's egress and ingress, bytes per ms (125,000 = 1 Gbit/s). */
  bandwidthBytesPerMs?: number
  /** Listen addresses in each beacon (loopback and one LAN address). */
  addrsPerNode?: number
  fanOut?: boolean
  /** The master's heartbeat through the relay tree (election-v1.md, "Relayed heartbeat"); off, it beacons every node itself. */
  relay?: boolean
  costs?: Partial<SimCosts>
}

/** Beacon traffic of one node over a window. */
interface Counters {
  beaconFrames: number
  beaconBytes: number
  introFrames: number
  introBytes: number
  /** Bytes of archives and deltas this node served (fetch answers). */
  servedBytes: number
  servedFull: number
  /** Bytes of uploads this node received. */
  uploadBytesIn: number
  /** Full uploads that reached this node (each is then merged on its queue). */
  fullUploadsIn: number
}

export const zeroCounters = (): Counters => ({ beaconFrames: 0, beaconBytes: 0, introFrames: 0, introBytes: 0, servedBytes: 0, servedFull: 0, uploadBytesIn: 0, fullUploadsIn: 0 })


const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** A peer id string of an Ed25519 libp2p key's length and alphabet (12D3KooW + 44 characters). */
export function fakePeerId (random: () => number): string {
  let s = '12D3KooW'
  for (let i = 0; i < 44; i++) s += BASE58[Math.floor(random() * 58)]
  return s
}

/** A multiaddr's bytes as libp2p encodes /ip4/a.b.c.d/tcp/4737/p2p/<38-byte peer id>: 49 bytes. */
export function fakeAddr (ip: number[], random: () => number): Uint8Array<ArrayBuffer> {
  const id = Array.from({ length: 36 }, () => Math.floor(random() * 256))
  return new Uint8Array([0x04, ...ip, 0x06, 0x12, 0x81, 0xa5, 0x03, 38, 0x00, 36, ...id])
}

/** A beacon as sent: its bytes, decoded once for all receivers (every receiver decodes the same bytes). */
export interface Frame {
  bytes: Uint8Array
  decoded: Beacon | null
  /** The decoded beacon as src/agent.ts hands it to the election (Election.receive copies it). */
  forElection: ElectionBeacon | null
  /** The full archive it announces. */
  archive: ArchiveRef | undefined
}

/** `frame` decoded once for every receiver, with what the election and the fan-out take of it (as beacon-router.ts). */
export function decodeFrame (frame: Frame): Beacon {
  let b = frame.decoded
  if (b === null) {
    b = frame.decoded = Beacon.decode(frame.bytes)
    frame.forElection = electionBeacon(b)
    frame.archive = namedArchive(b.fullArchive)
  }
  return b
}

/** Length of the varint length prefix of a frame of `n` bytes. */
export function prefixLength (n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : 3
}

/** A change followed from its edit to every node. */
export interface Trial {
  origin: number
  startedAt: number
  /** The master merged the origin's upload of it (a slave's change). */
  merged: boolean
  /** The version the master cut with it; null until then. */
  version: Version | null
  /** When each node had it (the origin at once). */
  doneAt: Map<number, number>
}
