/** One simulated node's views of its live members, computed no more often than they can change (sim/node.ts). */
import type { Election } from '../../src/election/state.js'

/** The live members of one node's election, cached. */
export class MemberViews {
  private liveAt = -1
  private liveIds = new Set<string>()
  /** Members heard of since this process started: with the cluster's epoch, when relaying() must be computed again. */
  private heard = 0
  private relayingIds: string[] = []
  private relayingKey = ''

  constructor (private readonly id: string, private readonly election: Election, private readonly cluster: { readonly queue: { readonly now: number }, readonly epoch: number }) {}

  /** The node heard a member for the first time since it started. */
  heardNew (): void {
    this.heard++
  }

  /** The live members, computed once per virtual instant (the fan-out's holders are asked on every announcement). */
  live (): Set<string> {
    const now = this.cluster.queue.now
    if (this.liveAt !== now) {
      this.liveIds = new Set(this.election.members().filter(m => m.live).map(m => m.nodeId))
      this.liveAt = now
    }
    return this.liveIds
  }

  /**
   * The live members and this node, sorted (every member of the simulation relays). Computed again
   * only when this node heard a new member or a node died or restarted, not at every copy: at
   * 1,000 nodes, a view and a sort per node per beat were most of the simulation's time. (Between
   * those, a member's liveness changes only by suspicion, which a real agent's relay would see:
   * the simulation passes a beat to a suspected member too.)
   */
  relaying (): string[] {
    const key = `${this.cluster.epoch} ${this.heard}`
    if (key !== this.relayingKey) {
      this.relayingIds = [...this.election.members().filter(m => m.live).map(m => m.nodeId), this.id].sort()
      this.relayingKey = key
    }
    return this.relayingIds
  }
}
