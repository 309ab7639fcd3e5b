/**
 * A change to one dataset's held buckets (entry-buckets.ts) as it is prepared: the buckets'
 * new bytes and the counts it moves, made before anything is visible so that the store can write
 * it first and the held buckets take it only once it is durable.
 */

/** A change to the held buckets, encoded and not yet visible: the store writes `writes` first. */
export interface BucketChange {
  /**
   * Each bucket written, by lower bound, with its new bytes (null: deleted) and the newest change
   * sequence of its entries; a bucket cut in pieces is its first piece and a new bucket per other.
   */
  writes: Array<{ bucket: string, bytes: Uint8Array | null, newestLseq: number }>
  /** Change of the present count, of the entry count and of the count of entries from the central state. */
  presentDelta: number
  sizeDelta: number
  syncedDelta: number
  /** Of the entries put: the oldest change sequence and the newest wall time. */
  oldestLseq: number
  newestWall: number
}

/** A change that changes nothing yet. */
export const noChange = (): BucketChange => ({ writes: [], presentDelta: 0, sizeDelta: 0, syncedDelta: 0, oldestLseq: Infinity, newestWall: 0 })
