/**
 * Encoding of the Bayes dataset (every node's contribution) as the bytes of one archive file.
 *
 * Binary, not the `sa-learn --backup` text: a token is 40 random bits, so its 10 hex digits
 * deflate only about 2x. Tokens are sorted and stored column-wise as small values: a realistic DB
 * of 1M tokens takes about 7 bytes a token as is (the archive stores this file) and about 5 after
 * deflate, the text about 11.
 *
 * Layout (varint = unsigned LEB128, minimal, at most 2^53 - 1; strings are UTF-8, length-prefixed
 * by a varint):
 *
 *   file         = "SSBAYES" version:byte(1) count:varint contribution*count
 *   contribution = nodeId:string numSpam:varint numHam:varint n:varint
 *                  low:(2 bytes, little-endian)*n high:varint*n        tokens
 *                  spam:varint*n ham:varint*n                           counts
 *                  d:varint atimeGap:varint*d index:(byte*n)*W          atimes
 *                  s:varint (flag:byte msgid:string)*s                  seen ids
 *
 * Contributions are sorted by node id, tokens by value, seen ids by msgid (all strictly, by UTF-16
 * code units for strings). Token i is the previous token (0 before the first) plus a gap, and the
 * gap is `high * 65536 + low`: the low 16 bits are random and stored raw, the rest is small. The
 * atimes are a dictionary of the d distinct values, ascending and gap-coded (the first gap from 0),
 * and each token holds its index into it in W = the bytes needed for d - 1 (0 when d <= 1), one
 * column per byte, lowest byte first. SpamAssassin stamps every token of a message with one atime,
 * so there are few distinct values. Seen flags are the bytes `s` and `h`. Token counts and atimes
 * are at most 2^32 - 1, as in SpamAssassin's stores.
 *
 * Both directions work on the column-wise token tables of `crdt/bayes-counters`, so no token is
 * ever a string or an object here.
 *
 * Decoding trusts nothing: it refuses any byte sequence that this encoder would not write, and
 * checks every count against the bytes left before it allocates anything for it.
 */
import { allocTokens, MAX_COUNT, tokenHex, type BayesDb } from '../crdt/bayes-counters.js'
import { DatasetDecodeError } from '../errors.js'

/** A node's Bayes contribution as this codec carries it: the DB shape of `crdt/bayes-counters`. */
export type BayesSection = BayesDb

/** One node's contribution as carried on the wire. */
export interface BayesContribution {
  /** The node that owns the contribution; unique in one file. */
  nodeId: string
  /** What the node learned itself. */
  db: BayesSection
  /**
   * The contribution's bytes in the file it was decoded from (`keepEncoded`), so it can be
   * stored or passed on without encoding a million tokens again.
   */
  encoded?: Uint8Array
}

/** An encoded Bayes dataset, ready to be packed as an archive file. */
export interface EncodedBayes {
  /** The file's bytes (a view that may not span its whole ArrayBuffer). */
  data: Uint8Array
  /** Number of token records over all contributions (the manifest's `entries`). */
  entries: number
  /** Number of contributions. */
  contributions: number
}

/**
 * One contribution's bytes in a Bayes file. A file is its header and these sections in node id
 * order, so a file of contributions held as sections is put together without encoding them.
 */
export interface EncodedContribution {
  nodeId: string
  /** The section (a view). */
  bytes: Uint8Array
  /** Its token records. */
  tokens: number
}

/** Options of `decodeBayes`. */
export interface DecodeBayesOptions {
  /** File name used as the prefix of error messages. */
  name?: string
  /** Token record count the manifest declares; a different count is an error. */
  expectedEntries?: number
  /** Give each contribution its bytes in `data` (`encoded`, a view). */
  keepEncoded?: boolean
}

/** The first bytes of every Bayes dataset file. */
export const BAYES_MAGIC = 'SSBAYES'

/** Version of the layout, the byte after the magic. */
export const BAYES_FORMAT_VERSION = 1

const MAGIC_BYTES = Uint8Array.from(BAYES_MAGIC, c => c.charCodeAt(0))
const TOKEN_LIMIT = 2 ** 40
const LOW_SPLIT = 65536
const HIGH_LIMIT = TOKEN_LIMIT / LOW_SPLIT
const MAX_VARINT_BYTES = 8
const FLAG_SPAM = 0x73
const FLAG_HAM = 0x68
// Bytes a token takes at least: 2 low, and 1 each for high, spam and ham.
const MIN_TOKEN_BYTES = 5
// Bytes a contribution takes at least: node id length and 1 byte of it, numSpam, numHam, n, d, s.
const MIN_CONTRIBUTION_BYTES = 7
// Bytes a seen id takes at least: flag, length, 1 byte of msgid.
const MIN_SEEN_BYTES = 3
const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * Encodes contributions as a Bayes dataset file; equal input gives equal bytes whatever the order
 * of the array and seen maps. Throws RangeError for input no peer would accept (an empty, repeated
 * or not well-formed node id or msgid, token columns of different lengths or whose tokens are not
 * strictly ascending 40-bit integers, a message count that is not a non-negative safe integer, a
 * seen flag other than `s`/`h`): that is a bug upstream, not an operator's mistake.
 */
export function encodeBayes (contribs: BayesContribution[]): EncodedBayes {
  const sorted = [...contribs].sort((a, b) => compareStrings(a.nodeId, b.nodeId))
  let size = 64
  for (let i = 0; i < sorted.length; i++) {
    const { nodeId, db } = sorted[i]
    checkText(nodeId, 'node id')
    if (i > 0 && nodeId === sorted[i - 1].nodeId) throw new RangeError(`cannot encode node ${JSON.stringify(nodeId)} twice`)
    // Roughly what deflate will be handed: about 8 bytes a token, a little more a msgid.
    size += 64 + nodeId.length * 3 + db.tokens.keys.length * 8 + db.seen.size * 48
  }
  const out = new ByteWriter(size)
  out.raw(MAGIC_BYTES)
  out.byte(BAYES_FORMAT_VERSION)
  out.varint(sorted.length)
  let entries = 0
  for (const { nodeId, db } of sorted) {
    writeContribution(out, nodeId, db)
    entries += db.tokens.keys.length
  }
  return { data: out.result(), entries, contributions: sorted.length }
}

/**
 * The Bayes file of these sections: the bytes encodeBayes gives for their contributions, without
 * encoding anything. Throws RangeError for a node id given twice.
 */
export function joinBayesSections (parts: EncodedContribution[]): EncodedBayes {
  const sorted = [...parts].sort((a, b) => compareStrings(a.nodeId, b.nodeId))
  const out = new ByteWriter(64 + sorted.reduce((n, p) => n + p.bytes.byteLength, 0))
  out.raw(MAGIC_BYTES)
  out.byte(BAYES_FORMAT_VERSION)
  out.varint(sorted.length)
  let entries = 0
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i].nodeId === sorted[i - 1].nodeId) throw new RangeError(`cannot encode node ${JSON.stringify(sorted[i].nodeId)} twice`)
    out.raw(sorted[i].bytes)
    entries += sorted[i].tokens
  }
  return { data: out.result(), entries, contributions: sorted.length }
}

/**
 * The sections of a Bayes file that this node wrote itself (its store's log records), found by
 * stepping over the columns instead of decoding them. Checks only that every step stays inside
 * the file (DatasetDecodeError otherwise): bytes from a peer go through decodeBayes.
 */
export function splitBayes (data: Uint8Array, name = ''): EncodedContribution[] {
  const r = new Reader(data, name === '' ? '' : `${name}: `)
  r.pos = MAGIC_BYTES.length + 1
  const count = r.varint('contribution count')
  const out: EncodedContribution[] = []
  for (let c = 0; c < count; c++) {
    const start = r.pos
    const nodeId = r.text('node id')
    r.varint('numSpam')
    r.varint('numHam')
    const n = r.varint('token count')
    r.skip(2 * n)
    r.skipVarints(3 * n)
    const d = r.varint('atime count')
    r.skipVarints(d)
    r.skip(indexWidth(d) * n)
    const seen = r.varint('seen count')
    for (let k = 0; k < seen; k++) {
      r.skip(1)
      r.skip(r.varint('msgid length'))
    }
    out.push({ nodeId, bytes: data.subarray(start, r.pos), tokens: n })
  }
  if (r.pos !== data.length) r.fail(`${data.length - r.pos} trailing bytes after the last contribution`)
  return out
}

function writeContribution (out: ByteWriter, nodeId: string, db: BayesSection): void {
  const where = `node ${JSON.stringify(nodeId)}`
  checkCount(db.numSpam, `${where}: numSpam`)
  checkCount(db.numHam, `${where}: numHam`)
  out.text(nodeId)
  out.varint(db.numSpam)
  out.varint(db.numHam)

  const { keys, spam, ham, atime } = db.tokens
  const n = keys.length
  if (spam.length !== n || ham.length !== n || atime.length !== n) throw new RangeError(`${where}: token columns of different lengths`)
  out.varint(n)
  // Tokens: the low column at `low`, the high column right after it, in one pass.
  out.reserve(n * 6)
  let buf = out.buf
  let low = out.length
  let at = low + 2 * n
  let previous = -1
  for (let k = 0; k < n; k++) {
    const v = keys[k]
    if (!(v > previous) || v >= TOKEN_LIMIT || !Number.isInteger(v)) {
      throw new RangeError(`${where}: token ${k} (${v}) is not a 40-bit integer above the one before (tokens must be strictly ascending)`)
    }
    const gap = v - (k === 0 ? 0 : previous)
    previous = v
    const high = Math.floor(gap / LOW_SPLIT)
    const rest = gap - high * LOW_SPLIT
    buf[low++] = rest & 0xff
    buf[low++] = rest >>> 8
    at = putVarint(buf, at, high)
  }
  out.length = at
  writeColumn(out, spam)
  writeColumn(out, ham)

  // Atimes: the sorted distinct values, then each token's index among them.
  const { dict, rank } = atimeDictionary(atime)
  const d = dict.length
  out.varint(d)
  out.reserve(d * MAX_VARINT_BYTES)
  buf = out.buf
  at = out.length
  let last = 0
  for (let k = 0; k < d; k++) {
    at = putVarint(buf, at, dict[k] - last)
    last = dict[k]
  }
  out.length = at
  const width = indexWidth(d)
  out.reserve(width * n)
  buf = out.buf
  const base = out.length
  if (width > 0) {
    for (let k = 0; k < n; k++) {
      let index = rank.get(atime[k]) as number
      for (let p = 0; p < width; p++) {
        buf[base + p * n + k] = index & 0xff
        index >>>= 8
      }
    }
  }
  out.length = base + width * n

  const msgids = [...db.seen.keys()].sort()
  out.varint(msgids.length)
  for (const msgid of msgids) {
    const flag = db.seen.get(msgid)
    if (flag !== 's' && flag !== 'h') throw new RangeError(`${where}: seen flag ${JSON.stringify(flag)} of msgid ${JSON.stringify(msgid)} is neither "s" nor "h"`)
    checkText(msgid, `${where}: msgid`)
    out.byte(flag === 's' ? FLAG_SPAM : FLAG_HAM)
    out.text(msgid)
  }
}

// The distinct values of a column, ascending, and the rank of each. Found with a map, not by
// sorting the column: a token's atime is one of few values (a message's), so this is one pass.
function atimeDictionary (values: Uint32Array): { dict: Uint32Array, rank: Map<number, number> } {
  const rank = new Map<number, number>()
  for (let k = 0; k < values.length; k++) if (!rank.has(values[k])) rank.set(values[k], 0)
  const dict = Uint32Array.from(rank.keys()).sort()
  for (let k = 0; k < dict.length; k++) rank.set(dict[k], k)
  return { dict, rank }
}

function writeColumn (out: ByteWriter, values: Uint32Array): void {
  const n = values.length
  out.reserve(n * 5)
  const buf = out.buf
  let at = out.length
  for (let k = 0; k < n; k++) at = putVarint(buf, at, values[k])
  out.length = at
}

// Writes the Bayes file into one growing byte buffer; columns reserve their worst case up front
// and are then written with a local cursor.
class ByteWriter {
  buf: Uint8Array
  length = 0
  private readonly encoder = new TextEncoder()

  /** `capacity`: the expected size, so that the buffer rarely has to grow. */
  constructor (capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 1024))
  }

  byte (b: number): void {
    this.reserve(1)
    this.buf[this.length++] = b
  }

  raw (bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.buf.set(bytes, this.length)
    this.length += bytes.length
  }

  varint (n: number): void {
    this.reserve(MAX_VARINT_BYTES)
    this.length = putVarint(this.buf, this.length, n)
  }

  // A length-prefixed UTF-8 string; ASCII, the usual case, without the encoder.
  text (s: string): void {
    let ascii = true
    for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80
    if (!ascii) {
      const bytes = this.encoder.encode(s)
      this.varint(bytes.length)
      this.raw(bytes)
      return
    }
    this.varint(s.length)
    this.reserve(s.length)
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i)
  }

  reserve (n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.length + n, this.buf.length * 2))
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }

  result (): Uint8Array {
    // Copy only when the estimate was well off, so most calls hand out the buffer itself.
    return this.length * 8 < this.buf.length * 7 ? this.buf.slice(0, this.length) : this.buf.subarray(0, this.length)
  }
}

// Writes n (a non-negative safe integer) as a varint at buf[at]; returns the end. Division above
// 2^31, where the bit operators would wrap.
function putVarint (buf: Uint8Array, at: number, n: number): number {
  while (n > 0x7fffffff) {
    buf[at++] = (n % 128) | 0x80
    n = Math.floor(n / 128)
  }
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  buf[at++] = n
  return at
}

// Bytes of an atime index when there are d distinct atimes: enough for d - 1.
function indexWidth (d: number): number {
  let width = 0
  for (let span = 1; span < d; span *= 256) width++
  return width
}

function checkCount (n: number, what: string): void {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`cannot encode ${what} ${n}: not a non-negative safe integer`)
}

// UTF-8 cannot carry a lone surrogate (the encoder would write U+FFFD), and no id is empty.
function checkText (s: string, what: string): void {
  if (s.length === 0) throw new RangeError(`cannot encode an empty ${what}`)
  if (LONE_SURROGATE.test(s)) throw new RangeError(`cannot encode ${what} ${JSON.stringify(s)}: it holds a lone surrogate`)
}

function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Decodes and validates a Bayes dataset file. Throws DatasetDecodeError naming the byte offset and
 * the problem: bad magic or version, truncation, a varint that is not minimal or above 2^53 - 1,
 * node ids, tokens, atimes or msgids not strictly ascending, an atime index out of range or an
 * unused atime, a seen flag other than `s`/`h`, invalid UTF-8, trailing bytes, or a token total
 * other than `expectedEntries`.
 */
export function decodeBayes (data: Uint8Array, opts: DecodeBayesOptions = {}): BayesContribution[] {
  const r = new Reader(data, opts.name === undefined ? '' : `${opts.name}: `)
  for (let i = 0; i < MAGIC_BYTES.length; i++) {
    if (i === data.length) r.fail('truncated inside the magic', 0)
    if (data[i] !== MAGIC_BYTES[i]) r.fail(`not a spamsync Bayes file: bad magic, it does not start with "${BAYES_MAGIC}"`, 0)
  }
  r.pos = MAGIC_BYTES.length
  if (r.pos >= data.length) r.fail('truncated before the format version')
  const version = data[r.pos]
  if (version !== BAYES_FORMAT_VERSION) r.fail(`unsupported Bayes format version ${version} (expected ${BAYES_FORMAT_VERSION})`)
  r.pos++

  const count = r.count('contribution count', MIN_CONTRIBUTION_BYTES)
  const out: BayesContribution[] = []
  let entries = 0
  let previous = ''
  for (let c = 0; c < count; c++) {
    const at = r.pos
    const nodeId = r.text('node id')
    if (c > 0 && nodeId <= previous) {
      r.fail(nodeId === previous ? `node id ${show(nodeId)} appears twice (duplicate node id)` : `node id ${show(nodeId)} is out of order (node ids must be ascending)`, at)
    }
    previous = nodeId
    const db = readContribution(r, nodeId)
    entries += db.tokens.keys.length
    out.push(opts.keepEncoded === true ? { nodeId, db, encoded: data.subarray(at, r.pos) } : { nodeId, db })
  }
  if (r.pos !== data.length) r.fail(`${data.length - r.pos} trailing bytes after the last contribution`)
  if (opts.expectedEntries !== undefined && entries !== opts.expectedEntries) {
    throw new DatasetDecodeError(`${r.where}holds ${entries} token records, the manifest says ${opts.expectedEntries}`)
  }
  return out
}

function readContribution (r: Reader, nodeId: string): BayesSection {
  const buf = r.buf
  const node = `node ${show(nodeId)}`
  const numSpam = r.varint(`${node} numSpam`)
  const numHam = r.varint(`${node} numHam`)
  const n = r.count(`${node} token count`, MIN_TOKEN_BYTES)

  const tokens = allocTokens(n)
  const keys = tokens.keys
  const low = r.pos
  r.pos += 2 * n
  const tokenWhat = `${node} token`
  let previous = 0
  for (let k = 0; k < n; k++) {
    const at = r.pos
    const high = r.varint(tokenWhat)
    if (high >= HIGH_LIMIT) r.fail(`${node} token ${k} is above 40 bits`, at)
    const gap = high * LOW_SPLIT + buf[low + 2 * k] + buf[low + 2 * k + 1] * 256
    if (k > 0 && gap === 0) r.fail(`${node} token ${tokenHex(previous)} repeats (tokens must be strictly ascending)`, at)
    const v = previous + gap
    if (v >= TOKEN_LIMIT) r.fail(`${node} token ${k} is above 40 bits`, at)
    keys[k] = v
    previous = v
  }
  r.column(tokens.spam, `${node} spam count`)
  r.column(tokens.ham, `${node} ham count`)

  const dictAt = r.pos
  const d = r.varint(`${node} atime count`)
  if (n === 0 ? d !== 0 : d < 1 || d > n) r.fail(`${node} has ${d} distinct atimes for ${n} tokens`, dictAt)
  const dict = new Float64Array(d)
  const atimeWhat = `${node} atime`
  let atime = 0
  for (let k = 0; k < d; k++) {
    const at = r.pos
    const gap = r.varint(atimeWhat)
    if (k > 0 && gap === 0) r.fail(`${node} atime ${atime} repeats (atimes must be strictly ascending)`, at)
    atime += gap
    if (atime > MAX_COUNT) r.fail(`${node} atime ${atime} is above ${MAX_COUNT}`, at)
    dict[k] = atime
  }
  const width = indexWidth(d)
  const base = r.pos
  if (width * n > buf.length - base) r.fail(`truncated: ${node} atime indexes need ${width * n} bytes, ${buf.length - base} remain`)
  const used = new Uint8Array(d)
  let unused = d
  const atimes = tokens.atime
  for (let k = 0; k < n; k++) {
    let index = 0
    for (let p = width - 1; p >= 0; p--) index = index * 256 + buf[base + p * n + k]
    if (index >= d) r.fail(`${node} atime index ${index} of token ${tokenHex(keys[k])} is not below ${d}`, base + k)
    if (used[index] === 0) {
      used[index] = 1
      unused--
    }
    atimes[k] = dict[index]
  }
  if (unused !== 0) r.fail(`${node} has ${unused} atimes that no token uses`, dictAt)
  r.pos = base + width * n

  const seenCount = r.count(`${node} seen count`, MIN_SEEN_BYTES)
  const seen = new Map<string, 's' | 'h'>()
  const msgidWhat = `${node} msgid`
  let last = ''
  for (let k = 0; k < seenCount; k++) {
    const at = r.pos
    if (at >= buf.length) r.fail(`truncated before ${node} seen flag`)
    const flag = buf[r.pos++]
    if (flag !== FLAG_SPAM && flag !== FLAG_HAM) r.fail(`${node} seen flag ${flag} is neither "s" nor "h"`, at)
    const msgid = r.text(msgidWhat)
    if (k > 0 && msgid <= last) {
      r.fail(`${node} msgid ${show(msgid)} ${msgid === last ? 'repeats' : 'is out of order'} (msgids must be strictly ascending)`, at)
    }
    last = msgid
    seen.set(msgid, flag === FLAG_SPAM ? 's' : 'h')
  }
  return { numSpam, numHam, tokens, seen }
}

// A cursor over the file; every read is bounds-checked and every failure names its offset.
class Reader {
  pos = 0
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

  constructor (readonly buf: Uint8Array, readonly where: string) {}

  fail (problem: string, at: number = this.pos): never {
    throw new DatasetDecodeError(`${this.where}byte ${at}: ${problem}`)
  }

  varint (what: string): number {
    const pos = this.pos
    if (pos < this.buf.length) {
      const b = this.buf[pos]
      if (b < 0x80) {
        this.pos = pos + 1
        return b
      }
    }
    return this.longVarint(what)
  }

  // A count of things that take at least `minBytes` each, checked against the bytes left so that a
  // forged count can make the decoder neither loop nor allocate beyond the file's size.
  count (what: string, minBytes: number): number {
    const at = this.pos
    const n = this.varint(what)
    const left = this.buf.length - this.pos
    if (n * minBytes > left) this.fail(`truncated: ${what} ${n} needs at least ${n * minBytes} bytes, ${left} remain`, at)
    return n
  }

  skip (bytes: number): void {
    if (bytes > this.buf.length - this.pos) this.fail(`truncated: ${bytes} bytes to step over, ${this.buf.length - this.pos} remain`)
    this.pos += bytes
  }

  // Steps over `n` varints: n bytes below 0x80, each ending one.
  skipVarints (n: number): void {
    const buf = this.buf
    let pos = this.pos
    for (let left = n; left > 0; pos++) {
      if (pos >= buf.length) this.fail(`truncated: ${left} of ${n} varints to step over remain`)
      if (buf[pos] < 0x80) left--
    }
    this.pos = pos
  }

  // Fills a count column; a count above MAX_COUNT is refused.
  column (values: Uint32Array, what: string): void {
    for (let k = 0; k < values.length; k++) {
      const at = this.pos
      const v = this.varint(what)
      if (v > MAX_COUNT) this.fail(`${what} ${v} is above ${MAX_COUNT}`, at)
      values[k] = v
    }
  }

  // A length-prefixed, non-empty UTF-8 string.
  text (what: string): string {
    const at = this.pos
    const len = this.varint(`${what} length`)
    if (len === 0) this.fail(`empty ${what}`, at)
    if (len > this.buf.length - this.pos) this.fail(`truncated: ${what} of ${len} bytes, ${this.buf.length - this.pos} remain`, at)
    const start = this.pos
    this.pos += len
    try {
      return this.decoder.decode(this.buf.subarray(start, this.pos))
    } catch (err) {
      throw new DatasetDecodeError(`${this.where}byte ${start}: ${what} is not valid UTF-8`, { cause: err })
    }
  }

  // Multiplication, not shifts: a varint may hold up to 53 bits.
  private longVarint (what: string): number {
    const buf = this.buf
    const start = this.pos
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (start + i >= buf.length) this.fail(`truncated inside ${what}`, start)
      const b = buf[start + i]
      value += (b & 0x7f) * scale
      if (b < 0x80) {
        if (b === 0 && i > 0) this.fail(`${what} is a varint with a needless zero byte (not minimal)`, start)
        if (value > Number.MAX_SAFE_INTEGER) this.fail(`${what} varint overflow: above 2^53 - 1`, start)
        this.pos = start + i + 1
        return value
      }
      scale *= 128
    }
    return this.fail(`${what} varint overflow: longer than ${MAX_VARINT_BYTES} bytes`, start)
  }
}

// Quotes peer-supplied text for an error message, shortened so one message cannot flood the log.
function show (s: string): string {
  const q = JSON.stringify(s)
  return q.length > 80 ? `${q.slice(0, 77)}..."` : q
}
