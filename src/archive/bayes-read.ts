/**
 * Reading one contribution of a Bayes dataset file, in the layout bayes-codec.ts describes: every
 * count is checked against the bytes left before anything is allocated for it.
 */
import { allocTokens, MAX_COUNT, tokenHex, type TokenTable } from '../crdt/bayes-counters.js'
import { DatasetDecodeError } from '../errors.js'
import { TOKEN_LIMIT, MAX_VARINT_BYTES, FLAG_SPAM, FLAG_HAM, MIN_TOKEN_BYTES_V2, MIN_SEEN_BYTES, COUNT_ESCAPE, MAX_SMALL_SPAM, MAX_SMALL_HAM, MAX_RICE_BITS, type BayesSection } from './bayes-format.js'
import { indexBits } from './bayes-write.js'
import { BitReader, GAP_ESCAPE, GAP_RAW_BITS } from './bayes-bits.js'
import { finish } from '../pace.js'

/**
 * Reads and checks one contribution, the counterpart of writeContribution (version 2), into the
 * token table `alloc` gives for its n rows (default: a new one).
 */
export function readContribution (r: Reader, nodeId: string, alloc: (n: number) => TokenTable = allocTokens): BayesSection {
  return finish(readContributionSteps(r, nodeId, alloc))
}

/** {@link readContribution} yielding between its columns, where a caller may turn the event loop (pace.ts). */
export function * readContributionSteps (r: Reader, nodeId: string, alloc: (n: number) => TokenTable = allocTokens): Generator<void, BayesSection> {
  const node = `node ${show(nodeId)}`
  const numSpam = r.varint(`${node} numSpam`)
  const numHam = r.varint(`${node} numHam`)
  const n = r.count(`${node} token count`, MIN_TOKEN_BYTES_V2)
  const tokens = alloc(n)
  readGaps(r, node, tokens.keys)
  yield
  readCounts(r, node, tokens)
  yield
  readAtimes(r, node, tokens)
  yield
  return { numSpam, numHam, tokens, seen: readSeen(r, node) }
}

// A column's byte length, checked against the bytes left; returns its end.
function columnEnd (r: Reader, what: string): number {
  const at = r.pos
  const bytes = r.varint(`${what} length`)
  if (bytes > r.buf.length - r.pos) r.fail(`truncated: ${what} of ${bytes} bytes, ${r.buf.length - r.pos} remain`, at)
  return r.pos + bytes
}

function readGaps (r: Reader, node: string, keys: Float64Array): void {
  const n = keys.length
  if (r.pos >= r.buf.length) r.fail(`truncated before ${node} Rice parameter`)
  const k = r.buf[r.pos++]
  if (k > MAX_RICE_BITS) r.fail(`${node} Rice parameter ${k} is above ${MAX_RICE_BITS}`, r.pos - 1)
  const start = r.pos
  const end = columnEnd(r, `${node} token gaps`)
  const bits = new BitReader(r.buf, r.pos, end, (problem) => r.fail(`${node} token gaps: ${problem}`, start))
  const scale = 2 ** k
  const least = GAP_ESCAPE * scale
  let previous = 0
  for (let i = 0; i < n; i++) {
    const q = bits.unary()
    let gap: number
    if (q === GAP_ESCAPE) {
      gap = bits.takeWide(GAP_RAW_BITS)
      if (gap < least) r.fail(`${node} token ${i}: an escaped gap ${gap} below ${least}, which a quotient codes`, start)
    } else {
      gap = q * scale + bits.takeWide(k)
    }
    if (i > 0 && gap === 0) r.fail(`${node} token ${tokenHex(previous)} repeats (tokens must be strictly ascending)`, start)
    const v = previous + gap
    if (v >= TOKEN_LIMIT) r.fail(`${node} token ${i} is above 40 bits`, start)
    keys[i] = v
    previous = v
  }
  bits.done()
  r.pos = end
}

function readCounts (r: Reader, node: string, t: TokenTable): void {
  const buf = r.buf
  const end = columnEnd(r, `${node} counts`)
  const { spam, ham } = t
  for (let k = 0; k < spam.length; k++) {
    const at = r.pos
    if (at >= end) r.fail(`truncated: ${node} counts end before token ${k}`)
    const b = buf[r.pos++]
    if (b < 0xf0) {
      spam[k] = b & 15
      ham[k] = b >>> 4
      continue
    }
    if (b !== COUNT_ESCAPE) r.fail(`${node} count byte ${b} of token ${k} is neither small counts nor an escape`, at)
    const s = r.varint(`${node} spam count`)
    const h = r.varint(`${node} ham count`)
    if (s > MAX_COUNT) r.fail(`${node} spam count ${s} is above ${MAX_COUNT}`, at)
    if (h > MAX_COUNT) r.fail(`${node} ham count ${h} is above ${MAX_COUNT}`, at)
    if (s <= MAX_SMALL_SPAM && h <= MAX_SMALL_HAM) r.fail(`${node} counts ${s}/${h} of token ${k} are escaped but fit one byte`, at)
    if (r.pos > end) r.fail(`${node} counts of token ${k} run past the count column`, at)
    spam[k] = s
    ham[k] = h
  }
  if (r.pos !== end) r.fail(`${node} count column has ${end - r.pos} bytes after the last token`)
}

function readAtimes (r: Reader, node: string, t: TokenTable): void {
  const n = t.keys.length
  const dict = readAtimeDictionary(r, node, n)
  const d = dict.length
  const width = indexBits(d)
  const start = r.pos
  const end = start + Math.ceil(width * n / 8)
  if (end > r.buf.length) r.fail(`truncated: ${node} atime indexes need ${end - start} bytes, ${r.buf.length - start} remain`)
  const bits = new BitReader(r.buf, start, end, (problem) => r.fail(`${node} atime indexes: ${problem}`, start))
  const used = new Uint8Array(d)
  let unused = d
  const atimes = t.atime
  for (let k = 0; k < n; k++) {
    const index = width === 0 ? 0 : bits.takeWide(width)
    if (index >= d) r.fail(`${node} atime index ${index} of token ${tokenHex(t.keys[k])} is not below ${d}`, start)
    if (used[index] === 0) {
      used[index] = 1
      unused--
    }
    atimes[k] = dict[index]
  }
  bits.done()
  if (unused !== 0) r.fail(`${node} has ${unused} atimes that no token uses`, start)
  r.pos = end
}

/** The distinct atimes of a contribution of n tokens: a count, then ascending gaps (both versions). */
export function readAtimeDictionary (r: Reader, node: string, n: number): Float64Array {
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
  return dict
}

/** The seen ids of a contribution: a count, then flag and msgid each, ascending (both versions). */
export function readSeen (r: Reader, node: string): Map<string, 's' | 'h'> {
  const buf = r.buf
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
  return seen
}

// A cursor over the file; every read is bounds-checked and every failure names its offset.
export class Reader {
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
export function show (s: string): string {
  const q = JSON.stringify(s)
  return q.length > 80 ? `${q.slice(0, 77)}..."` : q
}

/** Steps `r` over a section's columns (flags, token gaps, counts, atimes) of `n` tokens, to its seen list, decoding none. */
export function skipColumns (r: Reader, n: number): void {
  r.skip(1)
  r.skip(r.varint('token gaps length'))
  r.skip(r.varint('counts length'))
  const d = r.varint('atime count')
  r.skipVarints(d)
  r.skip(Math.ceil(indexBits(d) * n / 8))
}
