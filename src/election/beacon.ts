/**
 * What a node of the election says each heartbeat, and which beacons the machine trusts: a term
 * stays exact and within reach of this node's own, so one hostile beacon cannot push the cluster
 * to a term that no longer counts exactly.
 */
import type { Version } from '../version.js'

/**
 * Highest term a node enters. Far below 2^53, so a term and its successor are always exact
 * numbers; at one new term per second it lasts 30,000 years. A hostile member needs at least
 * MAX_TERM / MAX_TERM_STEP accepted beacons, each persisted, to reach it.
 */
export const MAX_TERM = 2 ** 40

/**
 * Furthest a beacon's term may lie beyond this node's own: more elections than a live cluster
 * holds in years, so a node that was down long still catches up, while one beacon cannot throw
 * the term to the cap.
 */
export const MAX_TERM_STEP = 2 ** 16

/**
 * Most heartbeats a beacon may declare between two of its sender's beacons: a silent member counts
 * as live for at most this many liveness windows (6 minutes at the defaults).
 */
export const MAX_BEACON_PERIOD = 120

/**
 * Most heartbeats a beacon of an agent that sends `longBeaconPeriod` (agents after 0.4.0) may declare: a
 * slave beacons about twice a second up to 2,049 nodes, and a hung one (connections open) counts
 * as live for at most this many liveness windows (51 minutes at the defaults). A slave uses a
 * period past MAX_BEACON_PERIOD only while no live member is capped at it (an older agent).
 */
export const MAX_LONG_BEACON_PERIOD = 1024

/** Up to this many nodes, every node beacons every other one each heartbeat, as protocol v1 did. */
export const ALL_TO_ALL_MAX_NODES = 5

/**
 * Fewest heartbeats between two beacons of a slave past ALL_TO_ALL_MAX_NODES nodes. Beacon frames
 * are nearly all an idle agent does (src/cli/compilers-when-busy.ts: it idles in the
 * interpreter); at 10 nodes a period of 5 made 2.6 frames a second each way per agent, 0.53-0.63%
 * of a core, 10 made 1.7 (0.43-0.46%), 20 made 1.3 and 40 makes 1.1 (the master's heartbeat, 0.9
 * a second per node through the relay tree, is the rest). A slave's own beacon says nothing others
 * wait for (a change of what they act on, or a longer period, is sent at once: schedule.ts), so a
 * quiet one is heard every 40 s and counts as live for 120 s while its connections are open, as
 * at 81 nodes before.
 */
export const MIN_SLAVE_PERIOD = 40

/**
 * Heartbeats between two beacons of a slave in a cluster of `nodes` when nothing changed: about
 * two beacons a second whatever the size, but no more often than every MIN_SLAVE_PERIOD (up to
 * `cap`: MAX_BEACON_PERIOD while an older agent may hear it, MAX_LONG_BEACON_PERIOD otherwise), 1
 * in small clusters. The master beacons every heartbeat: its beacon is the heartbeat that failover
 * and a new version's announcement ride on.
 */
export function beaconPeriod (nodes: number, cap = MAX_BEACON_PERIOD): number {
  return nodes <= ALL_TO_ALL_MAX_NODES ? 1 : Math.min(cap, Math.max(MIN_SLAVE_PERIOD, Math.ceil((nodes - 1) / 2)))
}

/** What a node currently is. */
export type Role = 'master' | 'slave' | 'candidate'

/** The role pinned by the operator's config; `auto` lets the election decide. */
export type Pin = 'auto' | 'master' | 'slave'

/** What every node sends to every other each heartbeat interval. */
export interface Beacon {
  /** The sender. */
  nodeId: string
  /** Configured priority; higher ranks better. */
  priority: number
  /** The sender's pinned role, so others know whether it may be master. */
  pin: Pin
  /** The sender's current role. */
  role: Role
  /** The sender's current term. */
  term: number
  /** Master the sender follows (itself when master, the node it waits for when candidate). */
  masterId: string | null
  /** Newest central version the sender holds (the master's is the current one). */
  version: Version
  /** Central version the sender has applied to its settings files. */
  appliedVersion: Version
  /**
   * Heartbeats between two of the sender's beacons when nothing changes (beaconPeriod); absent
   * from an agent before the schedule, which beacons every heartbeat.
   */
  period?: number
  /**
   * The sender takes periods up to MAX_LONG_BEACON_PERIOD from others (it sends the long period
   * field); absent from an older agent, which counts a member silent for more than
   * MAX_BEACON_PERIOD liveness windows as gone.
   */
  longPeriods?: boolean
}

/** A term a beacon may carry to a node in term `current`: see MAX_TERM_STEP. */
export function termInReach (term: number, current: number): boolean {
  return Number.isSafeInteger(term) && term >= 0 && term <= MAX_TERM && term <= current + MAX_TERM_STEP
}

/** A beacon fit to be acted on; anything else is dropped rather than trusted. */
export function wellFormed (b: Beacon, current: number): boolean {
  return typeof b.nodeId === 'string' && b.nodeId !== '' &&
    termInReach(b.term, current) &&
    Number.isFinite(b.priority) &&
    (b.pin === 'auto' || b.pin === 'master' || b.pin === 'slave') &&
    (b.role === 'master' || b.role === 'slave' || b.role === 'candidate') &&
    (b.masterId === null || typeof b.masterId === 'string') &&
    (b.period === undefined || (Number.isSafeInteger(b.period) && b.period >= 1 && b.period <= MAX_LONG_BEACON_PERIOD))
}
