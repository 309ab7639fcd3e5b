/**
 * The value of one entry bucket of the state store (`e!<dataset>!<lower bound>`), as of store format 4:
 * binary, because decoding the JSON of format 3 (and the garbage it left) was a third of an
 * export of the 121k-domain blacklist, and encoding it the largest part of an import's write.
 *
 * Layout (varint: unsigned LEB128, up to 2^53). Every string of the bucket is in one UTF-8
 * text, so decoding makes one native call and slices, not one call per string (which cost more
 * than parsing the JSON); lengths count UTF-16 code units, as JavaScript slices them.
 *
 * | field           | type           |                                                     |
 * |-----------------|----------------|-----------------------------------------------------|
 * | node count      | varint         |                                                     |
 * | text bytes      | varint         |                                                     |
 * | text            | UTF-8          | the node ids, then each record's key and value      |
 * | node id lengths | varint each    | one per node id                                     |
 * | records         | until the end  | one per entry:                                      |
 * |   key length    | varint         |                                                     |
 * |   value length  | varint         |                                                     |
 * |   flags         | byte           | bit 0: present, bit 1: synced                       |
 * |   wallMs        | varint         | the stamp                                           |
 * |   counter       | varint         |                                                     |
 * |   node          | varint         | index into the node ids                             |
 * |   lseq          | varint         | local change sequence                               |
 *
 * Records are written sorted by key, and since format 7 a bucket is a range of keys
 * (bucket-layout.ts), so reading a whole dataset in key order (an export) puts its buckets one
 * after the other; a bucket written unsorted (before format 4) is still read, its run sorted then. The decoders of formats 3 and 2 (JSON) are in bucket-codec-json.ts. Pure:
 * no LevelDB here.
 */
import type { Entry } from '../crdt/lww-set.js'
import { StoreFormatError } from '../errors.js'
import { compareKeys } from './bucket-layout.js'
import type { EntryColumns } from '../crdt/entry-columns.js'

/** An entry as stored: the CRDT state plus this node's bookkeeping (a record's `lseq` and `synced`), defined with its encoding. */
export interface StoredEntry extends Entry {
  /** Local change sequence of the last change to this entry. */
  lseq: number
  /** True when this state came from the central state (nothing to upload). */
  synced: boolean
}

const PRESENT = 1
const SYNCED = 2

/** Encodes the entries of one bucket; null when there are none (the bucket is deleted). `sorted`: their keys are known to strictly increase (not compared again). */
export function encodeBucket (entries: Iterable<StoredEntry>, sorted = false): Uint8Array | null {
  const nodes = new Map<string, number>()
  const list: StoredEntry[] = []
  let text = ''
  let lastNode = ''
  for (const e of entries) {
    list.push(e)
    const id = e.stamp.nodeId
    if (id !== lastNode && !nodes.has(id)) nodes.set(id, nodes.size)
    lastNode = id
  }
  if (list.length === 0) return null
  // A bucket's entries mostly arrive sorted already (a scan of a sorted file, an archive).
  if (!sorted) inKeyOrder(list)
  for (const id of nodes.keys()) text += id
  for (const e of list) text = text + e.key + e.value
  const textBytes = Buffer.byteLength(text, 'utf8')
  // Upper bound: 8 bytes per varint, 1 flag byte.
  const w = new Writer(textBytes + 16 + 8 * nodes.size + 49 * list.length)
  w.varint(nodes.size)
  w.varint(textBytes)
  w.text(text)
  for (const id of nodes.keys()) w.varint(id.length)
  for (const e of list) {
    w.varint(e.key.length)
    w.varint(e.value.length)
    w.byte((e.present ? PRESENT : 0) | (e.synced ? SYNCED : 0))
    w.varint(e.stamp.wallMs)
    w.varint(e.stamp.counter)
    w.varint(nodes.get(e.stamp.nodeId) as number)
    w.varint(e.lseq)
  }
  return w.bytes()
}

/**
 * Appends the entries of one bucket to `out`, only those changed after local change sequence
 * `afterLseq` when given, and only those not from the central state when `unsyncedOnly` (the
 * others are read, not built); throws StoreFormatError for bytes that are not one.
 */
export function decodeBucket (bytes: Uint8Array, out: StoredEntry[], where: string, afterLseq = -1, unsyncedOnly = false): void {
  const r = new RecordReader(bytes, where)
  while (r.next()) {
    if (r.lseq <= afterLseq || (unsyncedOnly && r.synced)) continue
    out.push({ key: r.key, value: r.value, present: r.present, stamp: { wallMs: r.wallMs, counter: r.counter, nodeId: r.nodeIds[r.node] }, lseq: r.lseq, synced: r.synced })
  }
}

/**
 * Appends the entries of one bucket to `out` as one run, without an object per entry (lseq and
 * synced are dropped); filtered as {@link decodeBucket} filters.
 */
export function decodeBucketColumns (bytes: Uint8Array, out: EntryColumns, where: string, afterLseq = -1, unsyncedOnly = false): void {
  const r = new RecordReader(bytes, where)
  const nodes = r.nodeIds.map(id => out.nodeOf(id))
  while (r.next()) {
    if (r.lseq <= afterLseq || (unsyncedOnly && r.synced)) continue
    out.push(r.key, r.value, r.present, r.wallMs, r.counter, nodes[r.node])
  }
  out.endRun()
}

/** What a held bucket counts, read without building its entries. */
export interface BucketStats {
  /** Entries, tombstones included. */
  entries: number
  /** Entries present (not tombstones). */
  present: number
  /** Entries from the central state. */
  synced: number
  /** The latest stamp wall time of its entries (0 for none). */
  newestWall: number
  /** The latest local change sequence of its entries (0 for none). */
  newestLseq: number
  /** The earliest local change sequence of its entries (Infinity for none). */
  oldestLseq: number
  /** The keys of its first and last records ('' for none). */
  firstKey: string
  lastKey: string
}

/** Counts the entries of one bucket and reads its first and last keys; the other strings are skipped, not decoded. */
export function bucketStats (bytes: Uint8Array, where: string): BucketStats {
  const r = new Reader(bytes, where)
  const nodeCount = r.varint()
  const textBytes = r.varint()
  const textAt = r.at
  r.skip(textBytes)
  // Offsets in the text, in UTF-16 units: where the first and the last key start, and its end.
  let units = 0
  for (let i = 0; i < nodeCount; i++) units += r.varint()
  let first = -1
  let firstLength = 0
  let last = 0
  let lastLength = 0
  const stats: BucketStats = { entries: 0, present: 0, synced: 0, newestWall: 0, newestLseq: 0, oldestLseq: Infinity, firstKey: '', lastKey: '' }
  while (!r.done()) {
    const keyLength = r.varint()
    const valueLength = r.varint()
    if (first < 0) {
      first = units
      firstLength = keyLength
    }
    last = units
    lastLength = keyLength
    units += keyLength + valueLength
    const flags = r.byte()
    const wallMs = r.varint()
    r.varint()
    r.varint()
    const lseq = r.varint()
    stats.entries++
    if ((flags & PRESENT) !== 0) stats.present++
    if ((flags & SYNCED) !== 0) stats.synced++
    if (wallMs > stats.newestWall) stats.newestWall = wallMs
    if (lseq > stats.newestLseq) stats.newestLseq = lseq
    if (lseq < stats.oldestLseq) stats.oldestLseq = lseq
  }
  if (first < 0) return stats
  // As many units as bytes: ASCII, sliced where it lies (a load reads every bucket); else decoded.
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const text = units === textBytes ? null : buf.toString('utf8', textAt, textAt + textBytes)
  if (text !== null && text.length !== units) throw new StoreFormatError(`${where}: the strings' lengths add up to ${units} UTF-16 units, the text has ${text.length}`)
  const slice = (at: number, length: number): string => text === null ? buf.toString('latin1', textAt + at, textAt + at + length) : text.slice(at, at + length)
  stats.firstKey = slice(first, firstLength)
  stats.lastKey = slice(last, lastLength)
  return stats
}

/** The entry of `key` in one bucket, or undefined; only that entry is built. */
export function findInBucket (bytes: Uint8Array, key: string, where: string): StoredEntry | undefined {
  const r = new RecordReader(bytes, where)
  while (r.next()) {
    if (r.key === key) return { key: r.key, value: r.value, present: r.present, stamp: { wallMs: r.wallMs, counter: r.counter, nodeId: r.nodeIds[r.node] }, lseq: r.lseq, synced: r.synced }
  }
  return undefined
}

/**
 * Finds a bucket's entries by key without building them, for a merge that only compares: keys asked in ascending order are
 * found in one pass (one out of order starts it again); {@link find} returns one reused object, valid until the next call.
 * The answers rely on the records being sorted by key, as format 4 writes them: {@link finish} says whether they were.
 */
export class BucketCursor {
  private r: RecordReader | null = null
  /** The record last read is the current one (not yet passed by a later key). */
  private held = false
  private lastKey: string | null = null
  /** The key last asked for: one before it starts the pass again. */
  private target = ''
  private sorted = true
  private readonly found: StoredEntry = { key: '', value: '', present: false, stamp: { wallMs: 0, counter: 0, nodeId: '' }, lseq: 0, synced: false }

  /** `bytes`: the bucket, or undefined when it holds nothing. */
  constructor (private readonly bytes: Uint8Array | undefined, private readonly where: string) {}

  /** The entry of `key` (a reused object), or undefined. */
  find (key: string): StoredEntry | undefined {
    if (this.bytes === undefined) return undefined
    if (this.r === null || key < this.target) this.restart()
    this.target = key
    const r = this.r as RecordReader
    for (;;) {
      if (!this.held) {
        if (!r.next()) return undefined
        if (this.lastKey !== null && !(this.lastKey < r.key)) this.sorted = false
        this.lastKey = r.key
        this.held = true
      }
      if (r.key > key) return undefined
      if (r.key === key) return this.fill(r)
      this.held = false
    }
  }

  /** Reads the records not read yet; true when every record came in strictly ascending key order, so every answer was right. */
  finish (): boolean {
    if (this.bytes === undefined) return true
    if (this.r === null) this.restart()
    const r = this.r as RecordReader
    while (r.next()) {
      if (this.lastKey !== null && !(this.lastKey < r.key)) this.sorted = false
      this.lastKey = r.key
    }
    return this.sorted
  }

  private restart (): void {
    this.r = new RecordReader(this.bytes as Uint8Array, this.where)
    this.held = false
    this.lastKey = null
  }

  private fill (r: RecordReader): StoredEntry {
    const e = this.found
    e.key = r.key
    e.value = r.value
    e.present = r.present
    e.stamp.wallMs = r.wallMs
    e.stamp.counter = r.counter
    e.stamp.nodeId = r.nodeIds[r.node]
    e.lseq = r.lseq
    e.synced = r.synced
    return e
  }
}

/** `list` sorted by key (in place), unless it is already. */
export function inKeyOrder (list: StoredEntry[]): StoredEntry[] {
  return sortedByKey(list) ? list : list.sort((a, b) => compareKeys(a.key, b.key))
}

/** Whether the keys of `list` increase (each key once): paced-sort.ts asks it too. */
export function sortedByKey (list: readonly StoredEntry[]): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1].key < list[i].key)) return false
  return true
}

// Reads a bucket's records one at a time into its fields (bucket-present.ts too); `next()` is false after the last one
// (having checked that no text is left over).
export class RecordReader {
  readonly nodeIds: string[]
  key = ''
  value = ''
  present = false
  synced = false
  wallMs = 0
  counter = 0
  node = 0
  lseq = 0
  private readonly r: Reader
  private readonly text: string
  private p = 0

  constructor (bytes: Uint8Array, private readonly where: string) {
    this.r = new Reader(bytes, where)
    const nodeCount = this.r.varint()
    this.text = this.r.text(this.r.varint())
    const nodeLengths: number[] = []
    for (let i = 0; i < nodeCount; i++) nodeLengths.push(this.r.varint())
    this.nodeIds = nodeLengths.map(n => this.take(n))
  }

  next (): boolean {
    const r = this.r
    if (r.done()) {
      if (this.p !== this.text.length) throw new StoreFormatError(`${this.where}: text left over after the last string (${this.text.length - this.p} UTF-16 units)`)
      return false
    }
    const keyLength = r.varint()
    const valueLength = r.varint()
    const flags = r.byte()
    this.wallMs = r.varint()
    this.counter = r.varint()
    this.node = r.varint()
    this.lseq = r.varint()
    if (this.node >= this.nodeIds.length) throw new StoreFormatError(`${this.where}: node index ${this.node} of ${this.nodeIds.length}`)
    this.key = this.take(keyLength)
    this.value = valueLength === 0 ? '' : this.take(valueLength)
    this.present = (flags & PRESENT) !== 0
    this.synced = (flags & SYNCED) !== 0
    return true
  }

  private take (n: number): string {
    if (this.p + n > this.text.length) throw new StoreFormatError(`${this.where}: strings run past the text`)
    const s = this.text.slice(this.p, this.p + n)
    this.p += n
    return s
  }
}

class Writer {
  private readonly buf: Buffer
  private at = 0

  /** `capacity`: an upper bound of the bytes written. */
  constructor (capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  byte (b: number): void {
    this.buf[this.at++] = b
  }

  // Above 2^31 the 7-bit groups come from division: bit operators would cut the number to 32 bits.
  varint (n: number): void {
    while (n >= 0x80000000) {
      this.buf[this.at++] = (n % 128) | 0x80
      n = Math.floor(n / 128)
    }
    while (n >= 0x80) {
      this.buf[this.at++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    this.buf[this.at++] = n
  }

  text (s: string): void {
    this.at += this.buf.write(s, this.at, 'utf8')
  }

  bytes (): Uint8Array {
    // A copy of the exact length: the buffer is an upper bound, several times the need.
    return new Uint8Array(this.buf.subarray(0, this.at))
  }
}

class Reader {
  private readonly buf: Buffer
  at = 0

  constructor (bytes: Uint8Array, private readonly where: string) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  done (): boolean {
    return this.at >= this.buf.length
  }

  byte (): number {
    if (this.at >= this.buf.length) this.truncated()
    return this.buf[this.at++]
  }

  varint (): number {
    let n = 0
    let scale = 1
    for (;;) {
      const b = this.byte()
      n += (b & 0x7f) * scale
      if (b < 0x80) return n
      scale *= 128
      if (scale > 2 ** 49) throw new StoreFormatError(`${this.where}: varint too long at byte ${this.at}`)
    }
  }

  skip (bytes: number): void {
    if (this.at + bytes > this.buf.length) this.truncated()
    this.at += bytes
  }

  text (bytes: number): string {
    const end = this.at + bytes
    if (end > this.buf.length) this.truncated()
    const s = this.buf.toString('utf8', this.at, end)
    this.at = end
    return s
  }

  private truncated (): never {
    throw new StoreFormatError(`${this.where}: bucket value ends early`)
  }
}
