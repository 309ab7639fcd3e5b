/**
 * Bounds of the numbers in a peer's beacon, checked where it is decoded: a number past its bound
 * drops the whole beacon, so nothing a peer sends reaches a sum or a +1 that 2^53 breaks
 * (protocol/election-v1.md, "Beacon").
 */
import { MAX_BEACON_PERIOD, MAX_LONG_BEACON_PERIOD, MAX_TERM, MAX_TERM_STEP, termInReach } from './beacon.js'
import { MAX_WALL_MS } from '../crdt/hlc.js'

/** Largest `seq` of a version in a beacon. */
export const MAX_SEQ = 2 ** 40

/** Largest |priority|: the range the config accepts. */
export const MAX_PRIORITY = 1_000_000

/** Largest protocol or schema version number. */
export const MAX_FORMAT_NUMBER = 2 ** 31

/** Largest archive size a beacon may announce. */
export const MAX_ANNOUNCED_SIZE = 2 ** 40

/** Length of the master's signature (Ed25519). */
export const SIGNATURE_LENGTH = 64

/** Largest count in a health record (errors, output and hook runs, invalid lines). */
export const MAX_HEALTH_COUNT = 2 ** 40

/** Most per-dataset counts a health record may carry (unknown datasets are dropped after the check). */
export const MAX_HEALTH_DATASETS = 16

/** A version as a beacon carries it. */
interface VersionNumbers { term: number, seq: number }

/** The numbers of a decoded beacon. */
export interface BeaconNumbers {
  priority: number
  term: number
  version?: VersionNumbers
  appliedVersion?: VersionNumbers
  protocolVersion: number
  schemaVersion: number
  wallMs: number
  beaconPeriod: number
  /** The sender's period past beaconPeriod's cap (0: an older agent). */
  longBeaconPeriod?: number
  /** The sender's beat (ms since the epoch, raised by each beacon), a wall time like wallMs. */
  beat?: number
  /** The master's signature over the frame: none, or one of SIGNATURE_LENGTH bytes. */
  signature?: { byteLength: number }
  /** The master's tombstone floor (ms since the epoch), a wall time like wallMs. */
  tombstoneFloor?: number
  fullArchive?: { version?: VersionNumbers, size: number }
  health?: HealthNumbers
}

/** The numbers of a decoded health record (src/cluster/health.ts). */
export interface HealthNumbers {
  lastSyncMs: number
  lagMs: number
  errorCount: number
  lastErrorMs: number
  invalidLines: Array<{ count: number }>
  outputsOk: number
  outputsFailed: number
  hooksOk: number
  hooksFailed: number
  uptimeS: number
}

/**
 * Why beacon `b` is out of bounds for a node in term `current`, or null when it is not. The
 * reason names the field, never the peer's value, so a repeat is one entry in status.
 */
export function beaconOutOfBounds (b: BeaconNumbers, current: number): string | null {
  if (!termInReach(b.term, current)) return `term more than ${MAX_TERM_STEP} past this node's term ${current}, or past ${MAX_TERM}`
  if (!within(b.priority, -MAX_PRIORITY, MAX_PRIORITY)) return `priority outside ±${MAX_PRIORITY}`
  if (!within(b.protocolVersion, 0, MAX_FORMAT_NUMBER) || !within(b.schemaVersion, 0, MAX_FORMAT_NUMBER)) return `protocol or schema version past ${MAX_FORMAT_NUMBER}`
  if (!within(b.wallMs, 0, MAX_WALL_MS)) return `wallMs past ${MAX_WALL_MS}`
  if (!within(b.beaconPeriod, 0, MAX_BEACON_PERIOD)) return `beaconPeriod past ${MAX_BEACON_PERIOD}`
  if (!within(b.longBeaconPeriod ?? 0, 0, MAX_LONG_BEACON_PERIOD)) return `longBeaconPeriod past ${MAX_LONG_BEACON_PERIOD}`
  if (!within(b.tombstoneFloor ?? 0, 0, MAX_WALL_MS)) return `tombstoneFloor past ${MAX_WALL_MS}`
  if (!within(b.beat ?? 0, 0, MAX_WALL_MS)) return `beat past ${MAX_WALL_MS}`
  const signed = b.signature?.byteLength ?? 0
  if (signed !== 0 && signed !== SIGNATURE_LENGTH) return `signature not ${SIGNATURE_LENGTH} bytes`
  for (const [name, v] of [['version', b.version], ['appliedVersion', b.appliedVersion], ['fullArchive.version', b.fullArchive?.version]] as const) {
    if (v !== undefined && !(within(v.term, 0, MAX_TERM) && within(v.seq, 0, MAX_SEQ))) return `${name} past term ${MAX_TERM} or seq ${MAX_SEQ}`
    // Only the master of a term cuts its versions, and a node is in the term of the master it
    // follows (or a later one), so a version past the sender's own term is forged: the whole
    // beacon goes, as for any number out of bounds, rather than the field alone, because its
    // sender lies about what it holds. (A store poisoned before this check heals itself: sync-v1.md.)
    if (v !== undefined && v.term > b.term) return `${name} term past the beacon's term`
  }
  if (b.fullArchive !== undefined && !within(b.fullArchive.size, 0, MAX_ANNOUNCED_SIZE)) return `fullArchive.size past ${MAX_ANNOUNCED_SIZE}`
  return b.health === undefined ? null : healthOutOfBounds(b.health)
}

function healthOutOfBounds (h: HealthNumbers): string | null {
  // Times and durations are wall-clock milliseconds (uptime in seconds), as bounded as wallMs.
  for (const [name, n] of [['lastSyncMs', h.lastSyncMs], ['lagMs', h.lagMs], ['lastErrorMs', h.lastErrorMs], ['uptimeS', h.uptimeS]] as const) {
    if (!within(n, 0, MAX_WALL_MS)) return `health.${name} past ${MAX_WALL_MS}`
  }
  if (h.invalidLines.length > MAX_HEALTH_DATASETS) return `health.invalidLines has more than ${MAX_HEALTH_DATASETS} datasets`
  const counts = [h.errorCount, h.outputsOk, h.outputsFailed, h.hooksOk, h.hooksFailed, ...h.invalidLines.map(d => d.count)]
  if (!counts.every(n => within(n, 0, MAX_HEALTH_COUNT))) return `a health count past ${MAX_HEALTH_COUNT}`
  return null
}

function within (n: number, min: number, max: number): boolean {
  return Number.isSafeInteger(n) && n >= min && n <= max
}
