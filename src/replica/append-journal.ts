/**
 * The write-ahead records of the appends to the list files (settings/file-append.ts), one per
 * dataset while its append is under way, as the store's meta `fileAppend.<dataset>`. A record is stored durably before its append and cleared in the batch that stores the
 * file view after it (ListReplica.commitChange), or once the folder settled it
 * (SettingsFolder): a record still there at a start is an append a crash cut short.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import type { AppendRecord } from '../settings/file-append.js'
import type { StateStore } from '../store/state-store.js'

/** The meta name of a dataset's record. */
const metaName = (dataset: ListDataset): string => `fileAppend.${dataset}`

/** The pending appends of a node's list files. */
export class AppendJournal {
  private constructor (private readonly store: StateStore, private readonly records: Map<ListDataset, AppendRecord>) {}

  /** Reads the records left in the store. */
  static async load (store: StateStore): Promise<AppendJournal> {
    const records = new Map<ListDataset, AppendRecord>()
    for (const ds of LIST_DATASETS) {
      const record = await store.getMeta<AppendRecord | null>(metaName(ds))
      if (record !== undefined && record !== null) records.set(ds, record)
    }
    return new AppendJournal(store, records)
  }

  /** The record of an append to `dataset`'s file not known to be settled, if any. */
  pending (dataset: ListDataset): AppendRecord | undefined {
    return this.records.get(dataset)
  }

  /** Stores the record of an append about to be made, synced to disk: a power loss must not keep the append and lose its record. */
  async begin (dataset: ListDataset, record: AppendRecord): Promise<void> {
    await this.store.write({ meta: { [metaName(dataset)]: record }, sync: true })
    this.records.set(dataset, record)
  }

  /** Clears a record once its append is settled. */
  async drop (dataset: ListDataset): Promise<void> {
    if (!this.records.has(dataset)) return
    await this.store.write({ meta: { [metaName(dataset)]: null } })
    this.records.delete(dataset)
  }

  /** The meta that clears `dataset`'s record in the batch storing its file view (undefined: none to clear); {@link cleared} once written. */
  clearing (dataset: ListDataset): Record<string, null> | undefined {
    return this.records.has(dataset) ? { [metaName(dataset)]: null } : undefined
  }

  /** The batch from {@link clearing} was written. */
  cleared (dataset: ListDataset): void {
    this.records.delete(dataset)
  }
}
