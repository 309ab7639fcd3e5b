/** Writing one contribution of a Bayes dataset file, in the layout bayes-codec.ts describes (version 2). */
import { TOKEN_LIMIT, MAX_VARINT_BYTES, FLAG_SPAM, FLAG_HAM, LONE_SURROGATE, COUNT_ESCAPE, MAX_SMALL_SPAM, MAX_SMALL_HAM, MAX_RICE_BITS, type BayesSection } from './bayes-format.js'
import { BitWriter, GAP_ESCAPE, GAP_RAW_BITS } from './bayes-bits.js'
import type { TokenTable } from '../crdt/token-table.js'

/**
 * Writes one contribution: node id, message counts, token gaps, counts, atimes, seen ids; yields
 * between the columns, where a caller may turn the event loop (pace.ts).
 */
export function * writeContribution (out: ByteWriter, nodeId: string, db: BayesSection): Generator<void, void> {
  const where = `node ${JSON.stringify(nodeId)}`
  checkCount(db.numSpam, `${where}: numSpam`)
  checkCount(db.numHam, `${where}: numHam`)
  const { keys, spam, ham, atime } = db.tokens
  const n = keys.length
  if (spam.length !== n || ham.length !== n || atime.length !== n) throw new RangeError(`${where}: token columns of different lengths`)
  checkKeys(keys, where)
  yield
  out.text(nodeId)
  out.varint(db.numSpam)
  out.varint(db.numHam)
  out.varint(n)
  writeGaps(out, keys)
  yield
  writeCounts(out, db.tokens)
  yield
  writeAtimes(out, atime)
  yield
  writeSeen(out, db.seen, where)
}

function checkKeys (keys: Float64Array, where: string): void {
  let previous = -1
  for (let k = 0; k < keys.length; k++) {
    const v = keys[k]
    if (!(v > previous) || v >= TOKEN_LIMIT || !Number.isInteger(v)) {
      throw new RangeError(`${where}: token ${k} (${v}) is not a 40-bit integer above the one before (tokens must be strictly ascending)`)
    }
    previous = v
  }
}

// Bits of the Rice codes of the gaps with parameter k: a unary quotient (its zeros and a one) and
// k remainder bits, or GAP_ESCAPE zeros and the raw gap when the quotient would reach GAP_ESCAPE.
function riceBits (keys: Float64Array, k: number): number {
  const scale = 2 ** k
  let bits = 0
  let previous = 0
  for (let i = 0; i < keys.length; i++) {
    const q = Math.floor((keys[i] - previous) / scale)
    bits += q < GAP_ESCAPE ? q + 1 + k : GAP_ESCAPE + GAP_RAW_BITS
    previous = keys[i]
  }
  return bits
}

// The Rice parameter that takes the fewest bits: the best is near log2 of the mean gap, so only
// the parameters around it are counted.
function riceParameter (keys: Float64Array): { k: number, bits: number } {
  const n = keys.length
  const mean = n === 0 ? 1 : (keys[n - 1] + 1) / n
  const guess = Math.max(0, Math.min(MAX_RICE_BITS, Math.floor(Math.log2(mean))))
  let best = { k: guess, bits: riceBits(keys, guess) }
  for (const k of [guess - 2, guess - 1, guess + 1]) {
    if (k < 0 || k > MAX_RICE_BITS) continue
    const bits = riceBits(keys, k)
    if (bits < best.bits) best = { k, bits }
  }
  return best
}

// Token gaps: k, the byte length of the bit column, the Rice codes.
function writeGaps (out: ByteWriter, keys: Float64Array): void {
  const { k, bits } = riceParameter(keys)
  const bytes = Math.ceil(bits / 8)
  out.byte(k)
  out.varint(bytes)
  out.reserve(bytes)
  const w = new BitWriter(out.buf, out.length)
  const scale = 2 ** k
  let previous = 0
  for (let i = 0; i < keys.length; i++) {
    const gap = keys[i] - previous
    previous = keys[i]
    const q = Math.floor(gap / scale)
    if (q >= GAP_ESCAPE) {
      w.put(0, GAP_ESCAPE)
      w.putWide(gap, GAP_RAW_BITS)
      continue
    }
    w.put(1 << q, q + 1)
    w.putWide(gap - q * scale, k)
  }
  out.length = w.finish()
}

// Counts: the byte length, then per token one byte `spam | ham << 4` when spam and ham are small,
// or COUNT_ESCAPE and both as varints.
function writeCounts (out: ByteWriter, t: TokenTable): void {
  const { spam, ham } = t
  const n = spam.length
  let bytes = 0
  for (let k = 0; k < n; k++) bytes += spam[k] <= MAX_SMALL_SPAM && ham[k] <= MAX_SMALL_HAM ? 1 : 1 + varintSize(spam[k]) + varintSize(ham[k])
  out.varint(bytes)
  out.reserve(bytes)
  const buf = out.buf
  let at = out.length
  for (let k = 0; k < n; k++) {
    const s = spam[k]
    const h = ham[k]
    if (s <= MAX_SMALL_SPAM && h <= MAX_SMALL_HAM) {
      buf[at++] = s | (h << 4)
    } else {
      buf[at++] = COUNT_ESCAPE
      at = putVarint(buf, at, s)
      at = putVarint(buf, at, h)
    }
  }
  out.length = at
}

// Atimes: the sorted distinct values gap-coded, then each token's index among them in the fewest
// bits that hold d - 1, packed.
function writeAtimes (out: ByteWriter, atime: Uint32Array): void {
  const n = atime.length
  const { dict, rank, base } = atimeDictionary(atime)
  const d = dict.length
  out.varint(d)
  out.reserve(d * MAX_VARINT_BYTES)
  let at = out.length
  let last = 0
  for (let k = 0; k < d; k++) {
    at = putVarint(out.buf, at, dict[k] - last)
    last = dict[k]
  }
  out.length = at
  const width = indexBits(d)
  out.reserve(Math.ceil(width * n / 8))
  const w = new BitWriter(out.buf, out.length)
  if (width > 0) for (let k = 0; k < n; k++) w.putWide(rank.get(atime[k] - base) as number, width)
  out.length = w.finish()
}

function writeSeen (out: ByteWriter, seen: ReadonlyMap<string, string>, where: string): void {
  const msgids = [...seen.keys()].sort()
  out.varint(msgids.length)
  for (const msgid of msgids) {
    const flag = seen.get(msgid)
    if (flag !== 's' && flag !== 'h') throw new RangeError(`${where}: seen flag ${JSON.stringify(flag)} of msgid ${JSON.stringify(msgid)} is neither "s" nor "h"`)
    checkText(msgid, `${where}: msgid`)
    out.byte(flag === 's' ? FLAG_SPAM : FLAG_HAM)
    out.text(msgid)
  }
}

// The distinct values of a column, ascending, and the rank of each (keyed by value - base, the
// smallest value: atimes of a few years apart are then small integers, which a Map looks up
// several times faster than the heap numbers of full 32-bit atimes). Found with a map, not by
// sorting the column: a token's atime is one of few values (a message's), so this is one pass.
function atimeDictionary (values: Uint32Array): { dict: Uint32Array, rank: Map<number, number>, base: number } {
  let base = values.length > 0 ? values[0] : 0
  for (let k = 1; k < values.length; k++) if (values[k] < base) base = values[k]
  const rank = new Map<number, number>()
  for (let k = 0; k < values.length; k++) {
    const v = values[k] - base
    if (!rank.has(v)) rank.set(v, 0)
  }
  const dict = Uint32Array.from(rank.keys(), v => v + base).sort()
  for (let k = 0; k < dict.length; k++) rank.set(dict[k] - base, k)
  return { dict, rank, base }
}

function varintSize (n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    size++
  }
  return size
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
export function putVarint (buf: Uint8Array, at: number, n: number): number {
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

// Bits of an atime index when there are d distinct atimes (version 2): enough for d - 1.
export function indexBits (d: number): number {
  let width = 0
  for (let span = 1; span < d; span *= 2) width++
  return width
}

// Bytes of an atime index when there are d distinct atimes (version 1): enough for d - 1.
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
