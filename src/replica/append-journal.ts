/**
 * The write-ahead records of the appends to the list files (settings/file-append.ts), one per
 * dataset while its append is under way, as the store's meta `fileAppend.<dataset>`. A record is stored durably before its append and cleared in the batch that stores the
 * file view after it (ListReplica.commitChange), or once the folder settled it
 * (SettingsFolder): a record still there at a start is an append a crash cut short.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { StoreFormatError } from '../errors.js'
import { MAX_APPEND_BYTES, TAIL_BYTES, type AppendRecord } from '../settings/file-append.js'
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
      const record = await store.getMeta<unknown>(metaName(ds))
      if (record !== undefined && record !== null) records.set(ds, storedAppendRecord(record, metaName(ds)))
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

/** An inode number as the record holds it: decimal, at most 2^64. */
const INODE = /^(0|[1-9][0-9]{0,19})$/

/**
 * `value` as an append record, checked before settling it may truncate a file: a record the
 * store holds damaged is refused with StoreFormatError (naming the meta `where`), never used.
 */
export function storedAppendRecord (value: unknown, where: string): AppendRecord {
  const bad = (why: string): never => { throw new StoreFormatError(`${where}: ${why}`) }
  if (typeof value !== 'object' || value === null) return bad('not an append record')
  const { ino, size, tail, bytes } = value as Record<string, unknown>
  if (typeof ino !== 'string' || !INODE.test(ino)) return bad('inode is not a decimal number')
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return bad('size is not a whole number of bytes')
  const tailBytes = base64Length(tail) ?? bad('tail is not base64')
  if (tailBytes > Math.min(size, TAIL_BYTES)) return bad(`tail of ${tailBytes} bytes for a file of ${size}`)
  const appended = base64Length(bytes) ?? bad('bytes are not base64')
  if (appended < 1 || appended > MAX_APPEND_BYTES) return bad(`${appended} bytes appended (1-${MAX_APPEND_BYTES})`)
  return { ino, size, tail: tail as string, bytes: bytes as string }
}

// The length of what `text` decodes to, when it is base64 as Buffer writes it; else null.
function base64Length (text: unknown): number | null {
  if (typeof text !== 'string' || text.length > 4 * MAX_APPEND_BYTES) return null
  const decoded = Buffer.from(text, 'base64')
  return decoded.toString('base64') === text ? decoded.length : null
}
