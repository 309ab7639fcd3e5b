/**
 * Hybrid logical clock. A stamp orders events across nodes even when wall clocks disagree a
 * little: wall time first, a counter for events in one millisecond, the node id to break ties.
 */

/** A point in hybrid logical time. */
export interface Stamp {
  /** Milliseconds since the epoch, the largest wall time this node had seen. */
  wallMs: number
  /** Orders events within one `wallMs`. */
  counter: number
  /** The node that made the stamp; breaks ties so two nodes never produce equal stamps. */
  nodeId: string
}

/**
 * Largest counter a stamp carries. A clock that would pass it moves its wall time on by 1 ms
 * instead, so a counter never nears 2^53 (where +1 stops counting) whatever a peer sent.
 */
export const MAX_COUNTER = 2 ** 32 - 1

/** Largest wall time a stamp carries: the last millisecond of the year 9999, far below 2^53. */
export const MAX_WALL_MS = 253402300799999

/** A stamp whose numbers are within their bounds: what a decoder of peer or file data accepts. */
export function stampInBounds (wallMs: number, counter: number): boolean {
  return Number.isSafeInteger(wallMs) && wallMs >= 0 && wallMs <= MAX_WALL_MS &&
    Number.isSafeInteger(counter) && counter >= 0 && counter <= MAX_COUNTER
}

/** Total order on stamps: negative when a is older than b. */
export function compareStamps (a: Stamp, b: Stamp): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  if (a.nodeId === b.nodeId) return 0
  return a.nodeId < b.nodeId ? -1 : 1
}

/** A stamp no further in the future than `now + maxSkewMs`: a fast clock cannot win forever. */
export function clampStamp (stamp: Stamp, nowMs: number, maxSkewMs: number): Stamp {
  const limit = nowMs + maxSkewMs
  if (stamp.wallMs <= limit) return stamp
  return { wallMs: limit, counter: stamp.counter, nodeId: stamp.nodeId }
}

/** Issues monotonic stamps for one node. The clock is injected so tests control time. */
export class HybridClock {
  private last: Stamp

  constructor (
    readonly nodeId: string,
    private readonly wallClock: () => number = Date.now,
    private readonly maxSkewMs: number = 5 * 60 * 1000,
    last?: Stamp
  ) {
    this.last = { wallMs: 0, counter: 0, nodeId }
    if (last !== undefined) this.raise(last)
  }

  /** A new stamp, newer than every stamp this clock issued or observed. */
  now (): Stamp {
    const wall = this.wallClock()
    if (wall > this.last.wallMs) this.last = { wallMs: wall, counter: 0, nodeId: this.nodeId }
    else if (this.last.counter < MAX_COUNTER) this.last = { wallMs: this.last.wallMs, counter: this.last.counter + 1, nodeId: this.nodeId }
    else this.last = { wallMs: this.last.wallMs + 1, counter: 0, nodeId: this.nodeId }
    return this.last
  }

  /** Takes a remote stamp into account (clamped first), so later local stamps sort after it. */
  observe (remote: Stamp): Stamp {
    const clamped = clampStamp(remote, this.wallClock(), this.maxSkewMs)
    this.raise(clamped)
    return clamped
  }

  /** The newest wall time a stamp may carry now (`now + maxSkewMs`); later ones came from a clock too far ahead. */
  limit (): number {
    return this.wallClock() + this.maxSkewMs
  }

  /**
   * Pulls the clock back to `limitMs` when it ran beyond it (it stamped before it knew the
   * cluster's time), then past every stamp in `kept` (the stored stamps, clamped to the same
   * limit), so the next stamp still sorts after each of them.
   */
  rewind (limitMs: number, kept: Iterable<Stamp>): void {
    if (this.last.wallMs > limitMs) this.last = { wallMs: limitMs, counter: this.last.counter, nodeId: this.nodeId }
    for (const stamp of kept) this.raise(stamp)
  }

  private raise (seen: Stamp): void {
    if (seen.wallMs > this.last.wallMs ||
        (seen.wallMs === this.last.wallMs && seen.counter > this.last.counter)) {
      // A counter past the bound (stored before it existed) counts as the next millisecond's first.
      this.last = seen.counter > MAX_COUNTER
        ? { wallMs: seen.wallMs + 1, counter: 0, nodeId: this.nodeId }
        : { wallMs: seen.wallMs, counter: seen.counter, nodeId: this.nodeId }
    }
  }

  /** The newest stamp issued or observed; persisted so a restart never goes back in time. */
  peek (): Stamp {
    return this.last
  }
}
