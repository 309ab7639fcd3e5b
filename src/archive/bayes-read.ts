/**
 * Reading one contribution of a Bayes dataset file, in the layout bayes-codec.ts describes: every
 * count is checked against the bytes left before anything is allocated for it.
 */
import { allocTokens, MAX_COUNT, tokenHex } from '../crdt/bayes-counters.js'
import { DatasetDecodeError } from '../errors.js'
import { TOKEN_LIMIT, LOW_SPLIT, HIGH_LIMIT, MAX_VARINT_BYTES, FLAG_SPAM, FLAG_HAM, MIN_TOKEN_BYTES, MIN_SEEN_BYTES, type BayesSection } from './bayes-format.js'
import { indexWidth } from './bayes-write.js'

/** Reads and checks one contribution, the counterpart of writeContribution. */
// eslint-disable-next-line max-lines-per-function -- one pass in the field order the layout fixes, each bound checked where its field is read
export function readContribution (r: Reader, nodeId: string): BayesSection {
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
