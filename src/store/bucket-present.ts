/**
 * The present entries of a held bucket as keys and fields, what the write of a list file that
 * holds no entry yet (an initial sync) needs: read from the records without building columns,
 * stamps or entry objects, and without sorting them (EntryBuckets.presentInKeyOrder).
 */
import { RecordReader } from './bucket-codec.js'

/** Keys and fields of present entries, in key order. */
export interface PresentEntries {
  keys: string[]
  values: string[]
}

/**
 * Appends the present entries of one bucket to `out` in the order of its records; false (`out`
 * then half filled) when a key does not sort after the one before it: a bucket written before
 * format 4 sorted its records. The buckets of a dataset are key ranges, so buckets read in
 * order give every key in order.
 */
export function decodeBucketPresent (bytes: Uint8Array, out: PresentEntries, where: string): boolean {
  const r = new RecordReader(bytes, where)
  let last: string | null = null
  while (r.next()) {
    if (last !== null && !(last < r.key)) return false
    last = r.key
    if (!r.present) continue
    out.keys.push(r.key)
    out.values.push(r.value)
  }
  return true
}
