/** What an {@link Election} is built with: identity, timing, clock, and its two ways out. */
import type { Beacon, Pin, Role } from './beacon.js'
import type { Version } from '../version.js'

/**
 * Default time between two heartbeats (the master's beacon, every node's tick). 1.5 s: an idle
 * agent's CPU is nearly all the work of one beat (a slave reads, checks and passes on the master's
 * beacon and ticks; the master signs and sends it), and at 1 s an agent of an idle 10-node cluster
 * used 0.36-0.48% of a core, above issue 17's 0.3%. The price is failover: a crashed master is
 * replaced after W = 4.5 s instead of 3 s, inside the cluster bench's 5 s (2 s, W = 6 s, was not;
 * election-v1.md, "Timing constants"). A change does not wait for a beat: the master announces a
 * new version at once.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1500

/** Default number of beacons a node may miss before it counts as gone. */
export const DEFAULT_MISSED_HEARTBEATS = 3

/**
 * A tick later than this many intervals after the previous one means this node was paused
 * (a stopped process, a long blocking task): it heard nothing because it did not listen, so
 * the pause does not count as the others' silence.
 */
export const PAUSE_INTERVALS = 2

/**
 * Intervals a slave waits for a silent master whose connection is still open. A crashed process
 * closes its connections and is replaced after the usual window; one that is busy (a long merge,
 * a loaded machine) keeps its role, since a new term costs every node a full upload and fetch.
 */
export const BUSY_MASTER_INTERVALS = 15

/** How the machine reaches the other nodes. */
export interface ElectionTransport {
  /** Sends one beacon to every other node; best effort, loss is tolerated. */
  publish (beacon: Beacon): void
  /** Whether a connection to `nodeId` is open now (absent: treated as no). */
  connected?: (nodeId: string) => boolean
  /** Whether any connection to another node is open now (absent: treated as no). */
  connectedAny?: () => boolean
}

/** What the machine tells the agent. */
export interface ElectionEvents {
  /**
   * Makes `term` durable. Called before the machine acts or publishes in that term; an async
   * store must hold back later beacons until the write is done.
   */
  persistTerm (term: number): void
  /** Role, master or term changed (reported once per `tick`/`receive`, final state only). */
  onRoleChange? (role: Role, masterId: string | null, term: number): void
  /** This node was master and now follows `masterId`: it must upload its full state there. */
  onUploadFullState? (masterId: string): void
  /** This node entered `term` (after persistTerm), and why: for the log, so a term change in a stable cluster can be explained. */
  onTermStart? (term: number, reason: TermStartReason): void
}

/**
 * Why a node entered a new term:
 * - `master-silent`: its master (`nodeId`) was not heard for `silentMs`, longer than `windowMs`;
 * - `named-silent`: it waited for the named master `nodeId` (null: for any, at start) for `silentMs`;
 * - `handover`: as master it hands over to the better-configured `nodeId`;
 * - `adopt`: a beacon of `nodeId` carried the newer term (`role`: that beacon's role);
 * - `claim`: a pinned master takes the term rather than follow unpinned `nodeId`.
 */
export interface TermStartReason {
  cause: 'master-silent' | 'named-silent' | 'handover' | 'adopt' | 'claim'
  nodeId: string | null
  silentMs?: number
  windowMs?: number
  role?: Role
}

/** Construction parameters of an {@link Election}. */
export interface ElectionOptions {
  /** This node's id (the libp2p peer id as a string). */
  nodeId: string
  /** Configured priority; higher ranks better. */
  priority: number
  /** Role pinned by config. */
  pin: Pin
  /** Term persisted by the previous run (0 on first start). */
  term: number
  /** Milliseconds, monotonic enough for intervals; injected so tests control time. */
  clock: () => number
  /** Beacons to the other nodes. */
  transport: ElectionTransport
  /** Callbacks to the agent. */
  events: ElectionEvents
  /** Time between beacons; the wiring must call `tick()` at this pace. */
  heartbeatIntervalMs?: number
  /** Beacons a node may miss before it counts as gone. */
  missedHeartbeats?: number
  /** Newest central version this node holds. */
  version: () => Version
  /** Central version this node has applied. */
  appliedVersion: () => Version
  /**
   * Whether this node can apply versions to its settings files now; a node that cannot stands
   * as a pinned slave (absent: always able). A pinned master keeps its pin.
   */
  canLead?: () => boolean
}
