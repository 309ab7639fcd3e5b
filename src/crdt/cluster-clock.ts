/**
 * Cluster time is the master's clock. Each node keeps the offset between its own wall clock and
 * the master's, learnt from the wall time in the master's beacons, and stamps its list edits on
 * `local wall + offset`. So a node whose clock runs ahead stamps on the master's time once it
 * heard one beacon, and every node stamps on the same clock even when the master's runs ahead.
 * The local clock is injected so tests control time.
 */

/** A node's view of cluster time. */
export class ClusterClock {
  /** Master's wall clock minus this node's; null until a master's clock was heard. */
  private offset: number | null = null

  constructor (private readonly localWall: () => number = Date.now) {}

  /** This node's own wall clock (what its beacons carry). */
  local (): number {
    return this.localWall()
  }

  /** Cluster time: the master's clock as far as this node knows it, else its own. */
  now (): number {
    return this.localWall() + (this.offset ?? 0)
  }

  /** Master's clock minus this node's in ms; 0 on the master, null until a master was heard. */
  get offsetMs (): number | null {
    return this.offset
  }

  /** This node is master: cluster time is its own clock. */
  lead (): void {
    this.offset = 0
  }

  /**
   * A beacon of the master this node follows has just arrived, sent at `masterWallMs` on the
   * master's clock. The transit time (milliseconds on a LAN) counts as 0.
   */
  heardMaster (masterWallMs: number): void {
    this.offset = masterWallMs - this.localWall()
  }

  /** How far ahead of cluster time (negative: behind) the clock of a peer is whose beacon, sent at `peerWallMs`, has just arrived. */
  peerAhead (peerWallMs: number): number {
    return peerWallMs - this.now()
  }
}

/**
 * How far each node's clock is from cluster time, for status, and which ones are far enough
 * (more than `warnMs`) that the operator should fix their time sync.
 */
export class ClockSkews {
  private readonly ahead = new Map<string, number>()
  private readonly far = new Set<string>()

  constructor (readonly warnMs: number) {}

  /** Records that `nodeId`'s clock is `aheadMs` ahead of cluster time; true when it has just gone beyond `warnMs` (warn once). */
  record (nodeId: string, aheadMs: number): boolean {
    this.ahead.set(nodeId, aheadMs)
    if (Math.abs(aheadMs) <= this.warnMs) {
      this.far.delete(nodeId)
      return false
    }
    if (this.far.has(nodeId)) return false
    this.far.add(nodeId)
    return true
  }

  /** The last recorded distance of `nodeId`, or null. */
  get (nodeId: string): number | null {
    return this.ahead.get(nodeId) ?? null
  }
}
