/**
 * Lists in memory with a change feed, as an OutputRunner reads them (the ListReplica's shape).
 */
import { LIST_DATASETS, type ListDataset } from '../../../src/constants.js'
import type { ListItem } from '../../../src/outputs/lists.js'
import type { ListSource } from '../../../src/outputs/runner.js'

export class MemoryLists implements ListSource {
  changeSeq = 0
  private readonly lists = new Map<ListDataset, Map<string, ListItem>>(LIST_DATASETS.map(ds => [ds, new Map()]))
  /** Each change: its list, key and sequence number. */
  private readonly log: Array<{ ds: ListDataset, key: string, seq: number }> = []
  /** Calls of entries(), to tell a full render from an incremental one. */
  entryReads = 0

  /** Adds or changes an entry (value null: deletes it, leaving a tombstone). */
  set (ds: ListDataset, key: string, value: string | null): void {
    this.lists.get(ds)!.set(key, value === null ? { key, value: '', present: false } : { key, value })
    this.log.push({ ds, key, seq: ++this.changeSeq })
  }

  entries (ds: ListDataset): Iterable<ListItem> {
    this.entryReads++
    return this.lists.get(ds)!.values()
  }

  get (ds: ListDataset, key: string): ListItem | undefined {
    return this.lists.get(ds)!.get(key)
  }

  async changedSince (ds: ListDataset, seq: number): Promise<Array<{ key: string }>> {
    return this.log.filter(c => c.ds === ds && c.seq > seq)
  }
}
