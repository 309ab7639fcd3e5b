/** Writing one contribution of a Bayes dataset file, in the layout bayes-codec.ts describes. */
import { TOKEN_LIMIT, LOW_SPLIT, MAX_VARINT_BYTES, FLAG_SPAM, FLAG_HAM, LONE_SURROGATE, type BayesSection } from './bayes-format.js'

/** Writes one contribution: node id, message counts, token columns, atime dictionary, seen ids. */
// eslint-disable-next-line max-lines-per-function -- one pass in the field order the layout fixes; pieces would hide that order
export function writeContribution (out: ByteWriter, nodeId: string, db: BayesSection): void {
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
export class ByteWriter {
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
export function indexWidth (d: number): number {
  let width = 0
  for (let span = 1; span < d; span *= 256) width++
  return width
}

function checkCount (n: number, what: string): void {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`cannot encode ${what} ${n}: not a non-negative safe integer`)
}

// UTF-8 cannot carry a lone surrogate (the encoder would write U+FFFD), and no id is empty.
export function checkText (s: string, what: string): void {
  if (s.length === 0) throw new RangeError(`cannot encode an empty ${what}`)
  if (LONE_SURROGATE.test(s)) throw new RangeError(`cannot encode ${what} ${JSON.stringify(s)}: it holds a lone surrogate`)
}

export function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
