/**
 * Encoding of one list dataset (an LWW set's entries) as the bytes of one archive file.
 *
 * Text, because it deflates well and an operator can read it after unzipping: a header line, a
 * table of node ids (a stamp's node id is long and repeats on most lines, so each line carries a
 * small index instead), then one tab-separated line per entry, sorted by key so equal sets give
 * equal bytes. Decoding trusts nothing: every field is checked and the first bad line is
 * reported by number. The grammar is in protocol/archive-v1.md.
 */
import { DatasetDecodeError, InvalidKeyError } from '../errors.js'
import type { Entry } from '../crdt/lww-set.js'
import { MAX_COUNTER, MAX_WALL_MS, stampInBounds } from '../crdt/hlc.js'
import { EntryColumns } from '../crdt/entry-columns.js'
import { checkValue, hasComment } from '../settings/list-line.js'
import { normaliseKey } from '../settings/list-key.js'

/** First line of a list file; the number is the list format version. */
export const LIST_HEADER = 'spamsync-list 1'

/**
 * First line of a list file in which a present entry's field carries a comment (format 2, agent
 * 0.2.0): an older agent refuses it by its version instead of taking the comment for a value it
 * cannot write. Files without comments keep format 1, so mixed clusters sync until one is used.
 */
export const LIST_HEADER_COMMENTS = 'spamsync-list 2'

/** An encoded list dataset, ready to be packed as an archive file. */
export interface EncodedList {
  /** UTF-8 bytes of the list file (a view that may not span its whole ArrayBuffer). */
  data: Uint8Array
  /** Number of entries, tombstones included (the manifest's `entries`). */
  entries: number
}

/** Options of `decodeEntries`. */
export interface DecodeOptions {
  /** File name used as the prefix of error messages. */
  name?: string
  /** Entry count the manifest declares; a different count is an error. */
  expectedEntries?: number
}

const HEADER_PREFIX = 'spamsync-list '
const NODE_PREFIX = 'n '
const FIELDS = 6
const TAB = 0x09
const LF = 0x0a
const SPACE = 0x20
const DIGIT_0 = 0x30
const DIGIT_1 = 0x31
const NEEDS_ESCAPE = /[\t\n\r\\]/
const ESCAPES = /[\t\n\r\\]/g
const ESCAPED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\' }
const UNESCAPED: Record<string, string> = { t: '\t', n: '\n', r: '\r', '\\': '\\' }
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
  return { data: out.bytes(), entries: order.length }
}

// The indexes of `keys` in key order. Each run is checked and sorted only if it is not; then
// runs are merged pairwise: about n log2(runs) comparisons for sorted runs instead of n log2(n).
function keyOrder (keys: string[], runEnds: readonly number[]): Int32Array {
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
  let spare = new Int32Array(n)
  let runs = bounds
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

/**
 * Decodes and validates a list file. Throws DatasetDecodeError naming the line and the problem
 * at the first bad line: keys must be normalised and strictly increasing, numbers non-negative
 * safe integers without leading zeros, node indexes defined in the node table.
 */
export function decodeEntries (data: Uint8Array, opts: DecodeOptions = {}): Entry[] {
  const where = opts.name === undefined ? '' : `${opts.name}: `
  const fail: (line: number, problem: string) => never = (line, problem) => {
    throw new DatasetDecodeError(`${where}line ${line}: ${problem}`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data)
  } catch (err) {
    throw new DatasetDecodeError(`${where}not valid UTF-8`, { cause: err })
  }
  if (text.length === 0) fail(1, 'empty file, expected the header line')
  // A file always ends in a newline, so a cut-off last line is caught here.
  if (!text.endsWith('\n')) fail(text.split('\n').length, 'no newline at the end of the line (truncated file?)')

  // Lines are scanned in place with indexOf: splitting 100k lines into arrays of fields costs
  // more than all the checks together.
  let eol = text.indexOf('\n')
  const header = text.slice(0, eol)
  if (header !== LIST_HEADER && header !== LIST_HEADER_COMMENTS) {
    if (header.startsWith(HEADER_PREFIX)) fail(1, `unsupported list format version ${show(header.slice(HEADER_PREFIX.length))}`)
    fail(1, `not a spamsync list file: header is ${show(header)}, expected "${LIST_HEADER}"`)
  }
  let pos = eol + 1
  let n = 2

  const nodeIds: string[] = []
  const knownIds = new Set<string>()
  // Node lines have no raw tab; the first line with one starts the entries.
  for (; pos < text.length; pos = eol + 1, n++) {
    eol = text.indexOf('\n', pos)
    const line = text.slice(pos, eol)
    if (!line.startsWith(NODE_PREFIX) || line.includes('\t')) break
    const space = line.indexOf(' ', NODE_PREFIX.length)
    if (space < 0) fail(n, 'node line needs an index and a node id')
    const rawIdx = line.slice(NODE_PREFIX.length, space)
    if (parseCount(rawIdx, 0, rawIdx.length) !== nodeIds.length) fail(n, `node index must be ${nodeIds.length}, got ${show(rawIdx)}`)
    const nodeId = unescape(line.slice(space + 1), n, fail)
    if (nodeId.length === 0) fail(n, 'empty node id')
    if (knownIds.has(nodeId)) fail(n, `node id ${show(nodeId)} is listed twice`)
    knownIds.add(nodeId)
    nodeIds.push(nodeId)
  }

  const out: Entry[] = []
  let previous = ''
  for (; pos < text.length; pos = eol + 1, n++) {
    eol = text.indexOf('\n', pos)
    const t1 = text.indexOf('\t', pos)
    const t2 = t1 < 0 || t1 > eol ? -1 : text.indexOf('\t', t1 + 1)
    const t3 = t2 < 0 || t2 > eol ? -1 : text.indexOf('\t', t2 + 1)
    const t4 = t3 < 0 || t3 > eol ? -1 : text.indexOf('\t', t3 + 1)
    const t5 = t4 < 0 || t4 > eol ? -1 : text.indexOf('\t', t4 + 1)
    const t6 = t5 < 0 || t5 > eol ? -1 : text.indexOf('\t', t5 + 1)
    if (t5 < 0 || t5 > eol || (t6 >= 0 && t6 < eol)) {
      fail(n, `expected ${FIELDS} tab-separated fields, got ${text.slice(pos, eol).split('\t').length}`)
    }
    const key = unescape(text.slice(pos, t1), n, fail)
    if (key.length === 0) fail(n, 'empty key')
    let normal: string
    try {
      normal = normaliseKey(key)
    } catch (err) {
      if (!(err instanceof InvalidKeyError)) throw err
      throw new DatasetDecodeError(`${where}line ${n}: invalid key ${show(key)}: ${err.message}`, { cause: err })
    }
    if (normal !== key) fail(n, `key ${show(key)} is not normalised (expected ${show(normal)})`)
    if (key <= previous) fail(n, `key ${show(key)} is ${key === previous ? 'repeated' : 'out of order'} (keys must be sorted and unique)`)
    previous = key
    const present = t2 === t1 + 2 ? text.charCodeAt(t1 + 1) - 48 : -1
    if (present !== 0 && present !== 1) fail(n, `present must be 1 or 0, got ${show(text.slice(t1 + 1, t2))}`)
    const wallMs = parseCount(text, t2 + 1, t3)
    if (wallMs < 0 || wallMs > MAX_WALL_MS) fail(n, `wallMs must be an integer from 0 to ${MAX_WALL_MS}, got ${show(text.slice(t2 + 1, t3))}`)
    const counter = parseCount(text, t3 + 1, t4)
    if (counter < 0 || counter > MAX_COUNTER) fail(n, `counter must be an integer from 0 to ${MAX_COUNTER}, got ${show(text.slice(t3 + 1, t4))}`)
    const nodeIdx = parseCount(text, t4 + 1, t5)
    if (nodeIdx < 0 || nodeIdx >= nodeIds.length) fail(n, `node index ${show(text.slice(t4 + 1, t5))} is not in the node table`)
    const value = unescape(text.slice(t5 + 1, eol), n, fail)
    // A value the list file could not hold would be merged and then block every write of the file.
    const valueProblem = present === 1 ? checkValue(value) : undefined
    if (valueProblem !== undefined) fail(n, `value ${show(value)} ${valueProblem}`)
    if (present === 1 && header === LIST_HEADER && hasComment(value)) fail(n, `value ${show(value)} has a comment, which format 1 cannot carry (header "${LIST_HEADER_COMMENTS}")`)
    out.push({
      key,
      value,
      present: present === 1,
      stamp: { wallMs, counter, nodeId: nodeIds[nodeIdx] }
    })
  }
  if (opts.expectedEntries !== undefined && out.length !== opts.expectedEntries) {
    throw new DatasetDecodeError(`${where}holds ${out.length} entries, the manifest says ${opts.expectedEntries}`)
  }
  return out
}

function escape (s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, c => ESCAPED[c]) : s
}

function unescape (s: string, line: number, fail: (line: number, problem: string) => never): string {
  if (s.includes('\r')) fail(line, 'raw carriage return (must be written as \\r)')
  if (!s.includes('\\')) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const next = UNESCAPED[s[i + 1]]
    if (next === undefined) fail(line, `bad escape ${show(s.slice(i, i + 2))} (only \\t \\n \\r \\\\ exist)`)
    out += next
    i++
  }
  return out
}

// Parses s[start, end) as decimal digits only: no sign, no leading zero, at most
// Number.MAX_SAFE_INTEGER. Returns -1 for anything else, without making a substring.
function parseCount (s: string, start: number, end: number): number {
  const len = end - start
  if (len <= 0 || len > 16 || (len > 1 && s.charCodeAt(start) === 48)) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return Number.isSafeInteger(n) ? n : -1
}

// Quotes peer-supplied text for an error message, shortened so one line cannot flood the log.
function show (s: string): string {
  const q = JSON.stringify(s)
  return q.length > 80 ? `${q.slice(0, 77)}..."` : q
}
