/**
 * Encoding of one list dataset (an LWW set's entries) as the bytes of one archive file.
 *
 * Text, because it deflates well and an operator can read it after unzipping: a header line, a
 * table of node ids (a stamp's node id is long and repeats on most lines, so each line carries a
 * small index instead), then one tab-separated line per entry, sorted by key so equal sets give
 * equal bytes. Decoding trusts nothing: every field is checked and the first bad line is
 * reported by number (list-decode.ts). The grammar is in protocol/archive-v1.md.
 */
import type { Entry } from '../crdt/lww-set.js'
import { stampInBounds } from '../crdt/hlc.js'
import { EntryColumns } from '../crdt/entry-columns.js'
import { hasComment } from '../settings/list-line.js'
import { LIST_HEADER, LIST_HEADER_COMMENTS, NODE_PREFIX } from './list-decode.js'

export { decodeEntries, decodeList, LIST_HEADER, LIST_HEADER_COMMENTS, type DecodeOptions, type DecodedList } from './list-decode.js'

/** An encoded list dataset, ready to be packed as an archive file. */
export interface EncodedList {
  /** UTF-8 bytes of the list file (a view that may not span its whole ArrayBuffer). */
  data: Uint8Array
  /** Number of entries, tombstones included (the manifest's `entries`). */
  entries: number
  /** Of those, entries present (not tombstones). */
  present: number
}

const TAB = 0x09
const LF = 0x0a
const SPACE = 0x20
const DIGIT_0 = 0x30
const DIGIT_1 = 0x31
const NEEDS_ESCAPE = /[\t\n\r\\]/
const ESCAPES = /[\t\n\r\\]/g
const ESCAPED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\' }
// For each ASCII code, the letter that follows the backslash in its escape, or 0 for none.
const ESCAPE_BYTE = new Uint8Array(128)
ESCAPE_BYTE[0x09] = 0x74
ESCAPE_BYTE[0x0a] = 0x6e
ESCAPE_BYTE[0x0d] = 0x72
ESCAPE_BYTE[0x5c] = 0x5c

/**
 * Encodes entries (tombstones included) as a list file. Throws RangeError for input no peer
 * would accept (a duplicate or empty key, a stamp out of its bounds), since
 * that is a bug upstream, not an operator's mistake.
 */
export function encodeEntries (entries: Iterable<Entry>): EncodedList {
  return encodeColumns(EntryColumns.of(entries))
}

/** {@link encodeEntries} for entries as columns: equal sets give equal bytes whatever their runs. */
export function encodeColumns (cols: EntryColumns): EncodedList {
  const { keys, values, present, wallMs, counter, node, nodeIds } = cols
  const order = keyOrder(keys, cols.runEnds)
  // First pass: validate and number the node ids in order of first use, which the file lists
  // before the entries.
  const fileNode = new Int32Array(nodeIds.length).fill(-1)
  const used: string[] = []
  let previous: string | undefined
  // Expected bytes: exact for ASCII text and 13-digit times, give or take the escapes.
  let size = 1024
  let comments = false
  let presentCount = 0
  for (let i = 0; i < order.length; i++) {
    const e = order[i]
    const key = keys[e]
    if (key.length === 0) throw new RangeError('cannot encode an entry with an empty key')
    if (key === previous) throw new RangeError(`cannot encode key ${JSON.stringify(key)} twice`)
    previous = key
    if (!stampInBounds(wallMs[e], counter[e]) || nodeIds[node[e]].length === 0) {
      const stamp = { wallMs: wallMs[e], counter: counter[e], nodeId: nodeIds[node[e]] }
      throw new RangeError(`cannot encode key ${JSON.stringify(key)}: bad stamp ${JSON.stringify(stamp)}`)
    }
    if (fileNode[node[e]] < 0) {
      fileNode[node[e]] = used.length
      used.push(nodeIds[node[e]])
      size += nodeIds[node[e]].length + 16
    }
    size += key.length + values[e].length + 24
    presentCount += present[e]
    if (present[e] === 1 && !comments && hasComment(values[e])) comments = true
  }
  const out = new ListWriter(size)
  out.text(comments ? LIST_HEADER_COMMENTS : LIST_HEADER)
  out.byte(LF)
  for (let idx = 0; idx < used.length; idx++) {
    out.text(NODE_PREFIX)
    out.count(idx)
    out.byte(SPACE)
    out.text(used[idx])
    out.byte(LF)
  }
  for (let i = 0; i < order.length; i++) {
    const e = order[i]
    out.text(keys[e])
    out.byte(TAB)
    out.byte(present[e] ? DIGIT_1 : DIGIT_0)
    out.byte(TAB)
    out.count(wallMs[e])
    out.byte(TAB)
    out.count(counter[e])
    out.byte(TAB)
    out.count(fileNode[node[e]])
    out.byte(TAB)
    out.text(values[e])
    out.byte(LF)
  }
  return { data: out.bytes(), entries: order.length, present: presentCount }
}

/**
 * The indexes of `keys` in key order. Each run (`runEnds`, as EntryColumns has them) is checked
 * and sorted only if it is not; runs that follow each other in key order are one run (a store's
 * buckets are key ranges: a whole dataset is one run, nothing to merge); the rest are merged
 * pairwise: about n log2(runs) comparisons for sorted runs instead of n log2(n).
 */
export function keyOrder (keys: string[], runEnds: readonly number[]): Int32Array {
  const n = keys.length
  let order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const bounds = [0]
  for (const end of runEnds) if (end > bounds[bounds.length - 1] && end <= n) bounds.push(end)
  if (bounds[bounds.length - 1] < n) bounds.push(n)
  for (let r = 0; r + 1 < bounds.length; r++) {
    const lo = bounds[r]
    const hi = bounds[r + 1]
    let sorted = true
    for (let i = lo + 1; i < hi && sorted; i++) sorted = keys[i - 1] < keys[i]
    if (!sorted) order.subarray(lo, hi).sort((a, b) => keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0)
  }
  let runs = [0]
  for (let r = 1; r < bounds.length; r++) {
    const end = bounds[r]
    // A run that starts after the one before it ends continues it.
    if (end === n || !(keys[order[end - 1]] < keys[order[end]])) runs.push(end)
  }
  // Only when there is something to merge: 4 MB for 1M entries.
  let spare = runs.length > 2 ? new Int32Array(n) : order
  while (runs.length > 2) {
    const next = [0]
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const hi = r + 2 < runs.length ? runs[r + 2] : runs[r + 1]
      mergeRuns(keys, order, spare, runs[r], runs[r + 1], hi)
      next.push(hi)
    }
    const swap = order
    order = spare
    spare = swap
    runs = next
  }
  return order
}

// Merges the sorted runs from[lo, mid) and from[mid, hi) into to[lo, hi).
function mergeRuns (keys: string[], from: Int32Array, to: Int32Array, lo: number, mid: number, hi: number): void {
  let a = lo
  let b = mid
  let at = lo
  while (a < mid && b < hi) to[at++] = keys[from[b]] < keys[from[a]] ? from[b++] : from[a++]
  while (a < mid) to[at++] = from[a++]
  while (b < hi) to[at++] = from[b++]
}

// Writes the list file straight into a byte buffer. Keys, numbers and most values are ASCII,
// written byte by byte without making a string: building one string of the whole file and
// encoding it costs several times more, mostly in the garbage collector.
class ListWriter {
  private buf: Uint8Array
  private length = 0
  private readonly encoder = new TextEncoder()

  /** `capacity`: the expected size, so that the buffer rarely has to grow. */
  constructor (capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 1024))
  }

  byte (b: number): void {
    if (this.length === this.buf.length) this.grow(1)
    this.buf[this.length++] = b
  }

  // A non-negative safe integer in decimal, as at most two small-integer halves so the digit
  // loop stays in fast 31-bit arithmetic (a millisecond time is past 2^31).
  count (n: number): void {
    if (n < 1e8) {
      this.digits(n, 1)
    } else {
      const hi = Math.floor(n / 1e8)
      this.digits(hi, 1)
      this.digits(n - hi * 1e8, 8)
    }
  }

  // A text field, escaped. ASCII is written here; the rest of a field from its first
  // non-ASCII character on goes through escape() and the UTF-8 encoder.
  text (s: string): void {
    // An ASCII character takes at most two bytes once escaped.
    this.reserve(s.length * 2)
    const buf = this.buf
    let at = this.length
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x20 && c < 0x7f && c !== 0x5c) {
        buf[at++] = c
      } else if (c >= 0x80) {
        this.length = at
        this.encoded(escape(s.slice(i)))
        return
      } else {
        const escaped = ESCAPE_BYTE[c]
        if (escaped !== 0) buf[at++] = 0x5c
        buf[at++] = escaped !== 0 ? escaped : c
      }
    }
    this.length = at
  }

  bytes (): Uint8Array {
    // Copy only when the estimate was well off, so most calls hand out the buffer itself.
    return this.length * 8 < this.buf.length * 7 ? this.buf.slice(0, this.length) : this.buf.subarray(0, this.length)
  }

  // n < 2^31, in at least `width` digits (zero-padded).
  private digits (n: number, width: number): void {
    for (let p = 10 ** width; p <= n; p *= 10) width++
    this.reserve(width)
    const buf = this.buf
    let at = this.length + width
    this.length = at
    for (let i = 0; i < width; i++) {
      const q = (n / 10) | 0
      buf[--at] = 48 + n - q * 10
      n = q
    }
  }

  private encoded (s: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    this.reserve(s.length * 3)
    this.length += this.encoder.encodeInto(s, this.buf.subarray(this.length)).written
  }

  private reserve (n: number): void {
    if (this.length + n > this.buf.length) this.grow(n)
  }

  private grow (n: number): void {
    const next = new Uint8Array(Math.max(this.length + n, this.buf.length * 2))
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }
}

function escape (s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, c => ESCAPED[c]) : s
}
