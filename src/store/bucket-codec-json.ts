/**
 * The entry buckets of store formats 3 and 2 (JSON), read once to migrate such a store when it is
 * opened (state-store.ts). Pure: no LevelDB here.
 */
import type { Stamp } from '../crdt/hlc.js'
import type { StoredEntry } from './bucket-codec.js'

/**
 * Format 3 bucket: JSON `[node ids, ...records]`, each record
 * `[key, value, present, wallMs, counter, node index, lseq, synced]`.
 */
type V3Value = [string[], ...V3Record[]]
type V3Record = [string, string, 0 | 1, number, number, number, number, 0 | 1]
/** Format 2 bucket: JSON records with the node id itself in place of its index. */
type V2Record = [string, string, 0 | 1, number, number, string, number, 0 | 1]

/** The entries of a format-3 bucket. */
export function decodeBucketV3 (raw: string): StoredEntry[] {
  const value = JSON.parse(raw) as V3Value
  const nodes = value[0]
  const out: StoredEntry[] = []
  for (let i = 1; i < value.length; i++) {
    const r = value[i] as V3Record
    out.push({ key: r[0], value: r[1], present: r[2] === 1, stamp: { wallMs: r[3], counter: r[4], nodeId: nodes[r[5]] }, lseq: r[6], synced: r[7] === 1 })
  }
  return out
}

/** The entries of a format-2 bucket. */
export function decodeBucketV2 (raw: string): StoredEntry[] {
  return (JSON.parse(raw) as V2Record[]).map(r => {
    const stamp: Stamp = { wallMs: r[3], counter: r[4], nodeId: r[5] }
    return { key: r[0], value: r[1], present: r[2] === 1, stamp, lseq: r[6], synced: r[7] === 1 }
  })
}
