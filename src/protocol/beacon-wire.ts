/**
 * Beacons between the wire (the protobuf `Beacon` of spamsync.proto) and the election's domain
 * (election/state.ts): enums mapped both ways, the fields only the wire carries added on the
 * way out, a peer's text made printable on the way in. Pure.
 */
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../constants.js'
import { Beacon, Pin, Role, type NodeHealth } from '../pb/spamsync.js'
import { ZERO_VERSION, type Version } from '../version.js'
import { printable, PEER_TEXT_MAX } from '../printable.js'
import { MAX_BEACON_PERIOD, type Beacon as ElectionBeacon } from '../election/state.js'
import type { ArchiveRef } from './archive-ref.js'

const ROLE_TO_PB = { candidate: Role.CANDIDATE, slave: Role.SLAVE, master: Role.MASTER } as const
const ROLE_FROM_PB = { [Role.CANDIDATE]: 'candidate', [Role.SLAVE]: 'slave', [Role.MASTER]: 'master' } as const
const PIN_TO_PB = { auto: Pin.AUTO, master: Pin.PINNED_MASTER, slave: Pin.PINNED_SLAVE } as const
const PIN_FROM_PB = { [Pin.AUTO]: 'auto', [Pin.PINNED_MASTER]: 'master', [Pin.PINNED_SLAVE]: 'slave' } as const

/** What this node's beacon carries besides the election's fields. */
export interface OwnBeaconFields {
  /** This node's listen addresses, each ending in /p2p/<id>. */
  addrs: Uint8Array[]
  /** The full archive it passes on (fan-out), if any. */
  fullArchive: ArchiveRef | undefined
  /** Its own wall clock (ms): the others learn cluster time and their skew from it. */
  wallMs: number
  name: string
  health: NodeHealth | undefined
  /** As master, its tombstone floor (sync-v1.md, "Tombstones"); 0 or none otherwise. */
  tombstoneFloor?: number
}

/** The wire bytes of this node's beacon, stamped with `beat` (unsigned: the master signs them). */
export function encodeBeacon (beacon: ElectionBeacon, own: OwnBeaconFields, beat: number): Uint8Array {
  return Beacon.encode({
    nodeId: beacon.nodeId,
    priority: beacon.priority,
    role: ROLE_TO_PB[beacon.role],
    term: beacon.term,
    masterId: beacon.masterId ?? '',
    version: beacon.version,
    appliedVersion: beacon.appliedVersion,
    protocolVersion: PROTOCOL_VERSION,
    schemaVersion: SCHEMA_VERSION,
    agentVersion: AGENT_VERSION,
    pin: PIN_TO_PB[beacon.pin],
    addrs: own.addrs as Array<Uint8Array<ArrayBuffer>>,
    fullArchive: own.fullArchive,
    wallMs: own.wallMs,
    name: own.name,
    health: own.health,
    // Always sent: 0 (omitted) tells an agent from before the beacon schedule; an older agent
    // refuses a period past its cap, the long one is in its own field.
    beaconPeriod: Math.min(beacon.period ?? 1, MAX_BEACON_PERIOD),
    beat,
    longBeaconPeriod: beacon.period ?? 1,
    tombstoneFloor: own.tombstoneFloor
  })
}

/** A decoded (and bounds-checked) wire beacon as the election takes it. */
export function electionBeacon (b: Beacon): ElectionBeacon {
  return {
    nodeId: b.nodeId,
    priority: b.priority,
    pin: PIN_FROM_PB[b.pin],
    role: ROLE_FROM_PB[b.role],
    term: b.term,
    // Escaped, a master id with control characters still names no node, as before.
    masterId: b.masterId === '' ? null : printable(b.masterId, PEER_TEXT_MAX),
    version: b.version ?? ZERO_VERSION,
    appliedVersion: b.appliedVersion ?? ZERO_VERSION,
    ...(b.beaconPeriod > 0 ? { period: b.longBeaconPeriod > 0 ? b.longBeaconPeriod : b.beaconPeriod } : {}),
    ...(b.longBeaconPeriod > 0 ? { longPeriods: true } : {})
  }
}

/** The heartbeats between two beacons of the sender of `b` when nothing changes (1 for an agent before the schedule). */
export function wirePeriod (b: { beaconPeriod: number, longBeaconPeriod: number }): number {
  return Math.max(1, b.longBeaconPeriod > 0 ? b.longBeaconPeriod : b.beaconPeriod)
}

/** The archive a wire message names (a beacon's fullArchive, a fetch answer), or undefined when it names none. */
export function namedArchive (id: { version?: Version, size: number, sha256: Uint8Array<ArrayBuffer> } | undefined): ArchiveRef | undefined {
  return id?.version === undefined || id.sha256.byteLength === 0 ? undefined : { version: id.version, size: id.size, sha256: id.sha256 }
}
