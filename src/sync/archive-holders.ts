/**
 * Which peer holds which full archive, as each one's last beacon announced it: the fan-out
 * fetcher (fan-out.ts) asks who holds an archive and whether a node may still come to hold it.
 * Pure: the election's member list is passed in.
 */
import { compareVersions } from '../version.js'
import { sameArchive, type ArchiveRef } from '../protocol/archive-ref.js'
import type { MemberView } from '../election/state.js'
import type { FanOutPeers } from './fan-out.js'

/** The full archive each peer announces; answers the fan-out fetcher's questions. */
export class ArchiveHolders implements Pick<FanOutPeers, 'holders' | 'awaited'> {
  private readonly heldBy = new Map<string, ArchiveRef>()

  /** `members` is the election's view of the other nodes. */
  constructor (private readonly members: () => readonly MemberView[]) {}

  /**
   * Records the full archive `nodeId`'s beacon announced (undefined: none); true when it is
   * another one than the node announced before (the engine is told of it).
   */
  announced (nodeId: string, ref: ArchiveRef | undefined): boolean {
    const before = this.heldBy.get(nodeId)
    if (ref === undefined) {
      this.heldBy.delete(nodeId)
      return false
    }
    this.heldBy.set(nodeId, ref)
    return before === undefined || !sameArchive(before, ref)
  }

  /** Live peers whose last beacon announced `archive`. */
  holders (archive: ArchiveRef): string[] {
    const live = new Set(this.members().filter(m => m.live).map(m => m.nodeId))
    return [...this.heldBy].filter(([id, ref]) => live.has(id) && sameArchive(ref, archive)).map(([id]) => id)
  }

  /**
   * A node that may still come to hold `archive`: one not heard of yet (a node that just joined
   * hears the others within a heartbeat), or a live one that neither announces it nor has
   * applied its version.
   */
  awaited (nodeId: string, archive: ArchiveRef): boolean {
    const m = this.members().find(m => m.nodeId === nodeId)
    if (m === undefined) return true
    if (!m.live) return false
    const held = this.heldBy.get(nodeId)
    return (held === undefined || !sameArchive(held, archive)) && compareVersions(m.appliedVersion, archive.version) < 0
  }
}
