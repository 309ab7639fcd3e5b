/**
 * Clock skew: cluster time is the master's clock (crdt/cluster-clock.ts). This part follows the
 * master's clock from its beacons, records how far each node's clock is from it (status), warns
 * once when one is beyond the bound, and tells the engine when cluster time moved.
 */
import { ClockSkews, type ClusterClock } from '../crdt/cluster-clock.js'
import type { Reporter } from '../guarded.js'
import type { Log } from '../log.js'

/** The parts the monitor works with. */
export interface ClockSkewParts {
  /** This node's id: its own skew is recorded under it. */
  selfId: string
  clock: ClusterClock
  /** A node this far (ms) from cluster time is logged once: fix its time sync. */
  warnMs: number
  /** A node's name for the warning. */
  nameOf: (nodeId: string) => string
  log: Pick<Log, 'warn'>
  /** Cluster time moved (SyncEngine.clockMoved). */
  clockMoved: () => Promise<void>
  /** The error log status shows. */
  report: Reporter
}

/** Each node's clock against the master's. */
export class ClockSkewMonitor {
  private readonly skews: ClockSkews

  constructor (private readonly parts: ClockSkewParts) {
    this.skews = new ClockSkews(parts.warnMs)
  }

  /** This node became master: cluster time is its own clock. */
  lead (): void {
    this.parts.clock.lead()
    this.record(this.parts.selfId, 0)
    this.moved()
  }

  /** The followed master's beacon told its clock: stamp on it from now on. */
  heardMaster (masterWallMs: number): void {
    this.parts.clock.heardMaster(masterWallMs)
    this.record(this.parts.selfId, -(this.parts.clock.offsetMs ?? 0))
    this.moved()
  }

  /** A member's beacon, sent at `peerWallMs` on its clock, has just arrived. */
  heardPeer (nodeId: string, peerWallMs: number): void {
    this.record(nodeId, this.parts.clock.peerAhead(peerWallMs))
  }

  /** How far (ms) `nodeId`'s clock was from cluster time when last heard, or null. */
  offsetOf (nodeId: string): number | null {
    return this.skews.get(nodeId)
  }

  /** This node's clock minus the master's (ms); null until a master's clock was heard. */
  get ownOffsetMs (): number | null {
    const offset = this.parts.clock.offsetMs
    // 0 - offset: a master's offset is 0, not -0.
    return offset === null ? null : 0 - offset
  }

  private moved (): void {
    this.parts.clockMoved().catch((err) => { this.parts.report('clock skew', err) })
  }

  private record (nodeId: string, aheadMs: number): void {
    if (!this.skews.record(nodeId, aheadMs)) return
    const name = this.parts.nameOf(nodeId)
    const who = nodeId === this.parts.selfId ? 'this node\'s' : `node ${name}'s`
    this.parts.log.warn({ event: 'clock-skew', nodeId, name, clockOffsetMs: aheadMs, warnMs: this.skews.warnMs }, `${who} clock is ${aheadMs} ms off the master's: fix its time sync (NTP)`)
  }
}
