/**
 * Entries of one list dataset as columns: one array per field instead of one object (and one
 * stamp object) per entry. Reading a 121k-entry dataset out of the store into objects and a Map
 * was about half of a `spamsync export` process; as columns it is a few array pushes per entry.
 *
 * The entries come in runs (one per store bucket), each usually sorted by key; whoever encodes
 * them merges the runs and sorts a run that is not sorted.
 */
import type { Entry } from './lww-set.js'

/** Entries as columns, in runs. Entry i (below {@link length}) has keys[i], values[i], ... */
export class EntryColumns {
  /** Node ids of the stamps, each once; `node[i]` indexes this table. */
  readonly nodeIds: string[] = []
  readonly keys: string[] = []
  /** '' for a tombstone. */
  readonly values: string[] = []
  // Numbers in typed arrays grown by doubling: pushing onto four more JS arrays cost as much as
  // decoding the store's bytes. Views past `length` hold nothing.
  present = new Uint8Array(INITIAL_CAPACITY)
  wallMs = new Float64Array(INITIAL_CAPACITY)
  counter = new Float64Array(INITIAL_CAPACITY)
  node = new Uint32Array(INITIAL_CAPACITY)
  /** End (exclusive) of each run; the first run starts at 0, each next one where the last ended. */
  readonly runEnds: number[] = []
  private readonly nodeIndex = new Map<string, number>()

  /** Columns of `entries` as one run, in their order. */
  static of (entries: Iterable<Entry>): EntryColumns {
    const cols = new EntryColumns()
    for (const e of entries) cols.push(e.key, e.value, e.present, e.stamp.wallMs, e.stamp.counter, cols.nodeOf(e.stamp.nodeId))
    cols.endRun()
    return cols
  }

  /** Number of entries, tombstones included. */
  get length (): number {
    return this.keys.length
  }

  /** The index of `nodeId` in {@link nodeIds}, added if new. */
  nodeOf (nodeId: string): number {
    let idx = this.nodeIndex.get(nodeId)
    if (idx === undefined) {
      idx = this.nodeIds.length
      this.nodeIds.push(nodeId)
      this.nodeIndex.set(nodeId, idx)
    }
    return idx
  }

  /** Appends one entry to the current run; `node` is from {@link nodeOf}. */
  push (key: string, value: string, present: boolean, wallMs: number, counter: number, node: number): void {
    const i = this.keys.length
    if (i === this.present.length) this.grow()
    this.keys.push(key)
    this.values.push(value)
    this.present[i] = present ? 1 : 0
    this.wallMs[i] = wallMs
    this.counter[i] = counter
    this.node[i] = node
  }

  /** Closes the current run (an empty one is not recorded). */
  endRun (): void {
    const start = this.runEnds.length === 0 ? 0 : this.runEnds[this.runEnds.length - 1]
    if (this.keys.length > start) this.runEnds.push(this.keys.length)
  }

  /** Entries present (not tombstones). */
  presentCount (): number {
    let n = 0
    for (let i = 0; i < this.length; i++) n += this.present[i]
    return n
  }

  private grow (): void {
    const n = this.present.length * 2
    this.present = copyInto(new Uint8Array(n), this.present)
    this.wallMs = copyInto(new Float64Array(n), this.wallMs)
    this.counter = copyInto(new Float64Array(n), this.counter)
    this.node = copyInto(new Uint32Array(n), this.node)
  }
}

/** Entries the columns have room for before they first grow. */
const INITIAL_CAPACITY = 1024

function copyInto<T extends Uint8Array | Float64Array | Uint32Array> (to: T, from: T): T {
  to.set(from)
  return to
}
