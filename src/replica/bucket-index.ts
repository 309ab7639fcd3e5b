/**
 * Which store buckets a change to the list entries rewrites. The store keeps a dataset's entries
 * in {@link ENTRY_BUCKETS} buckets by key hash and a write replaces whole buckets, so a change
 * must hand over every entry of each bucket it touches: this index knows which keys each holds.
 */
import type { ListDataset } from '../constants.js'
import { bucketOf, ENTRY_BUCKETS, type StoreBatch, type StoredEntry } from '../store/state-store.js'

/** One bucket write of a store batch. */
type BucketWrite = NonNullable<StoreBatch['buckets']>[number]

/**
 * Per dataset, the keys of each store bucket. A dataset's index is built at the first change
 * that needs it, not at load: a read-only run (export, status) never needs one.
 */
export class BucketIndex {
  private readonly byDataset = new Map<ListDataset, Array<Set<string>>>()

  /**
   * The bucket writes that put `staged` over `current` (the dataset's entries before the change):
   * each touched bucket with every entry it will hold. Into an empty dataset (a first scan or
   * import) the staged entries are all there is, and no index is built.
   */
  writes (dataset: ListDataset, current: Map<string, StoredEntry>, staged: Map<string, StoredEntry>): BucketWrite[] {
    const keysByBucket = current.size === 0 || staged.size === 0 ? null : this.keys(dataset, current)
    const touched = new Map<number, StoredEntry[]>()
    for (const [key, entry] of staged) {
      const bucket = bucketOf(key)
      let list = touched.get(bucket)
      if (list === undefined) {
        list = []
        if (keysByBucket !== null) for (const k of keysByBucket[bucket]) if (!staged.has(k)) list.push(current.get(k)!)
        touched.set(bucket, list)
      }
      list.push(entry)
    }
    return [...touched].map(([bucket, entries]) => ({ dataset, bucket, entries }))
  }

  /** Records keys written into a dataset (nothing to do while its index is not built). */
  add (dataset: ListDataset, keys: Iterable<string>): void {
    const keysByBucket = this.byDataset.get(dataset)
    if (keysByBucket !== undefined) for (const key of keys) keysByBucket[bucketOf(key)].add(key)
  }

  /** Forgets a dataset's index: its entries were replaced and it is built again when needed. */
  drop (dataset: ListDataset): void {
    this.byDataset.delete(dataset)
  }

  private keys (dataset: ListDataset, current: Map<string, StoredEntry>): Array<Set<string>> {
    let keysByBucket = this.byDataset.get(dataset)
    if (keysByBucket === undefined) {
      keysByBucket = Array.from({ length: ENTRY_BUCKETS }, () => new Set<string>())
      for (const key of current.keys()) keysByBucket[bucketOf(key)].add(key)
      this.byDataset.set(dataset, keysByBucket)
    }
    return keysByBucket
  }
}
