/**
 * Writing the SpamAssassin Bayes backup format (sa-backup.ts describes and reads it), and the
 * constants of the format both sides share.
 */
import type { BayesDb, TokenTable } from '../crdt/bayes-counters.js'
import { SaBackupError } from '../errors.js'

/** The only backup format version this module reads and writes. */
export const DB_VERSION = 3
/** Line 1 exactly as sa-learn writes it. */
const VERSION_LINE = `v\t${DB_VERSION}\tdb_version # this must be the first line!!!`
export const VERSION_LINE_RE = /^v\t(\d+)\tdb_version(?:[\t\n\v\f\r ]|$)/

export const TAB = 0x09
export const T = 0x74
export const V = 0x76
export const S = 0x73
export const TOKEN_HEX = 10
export const NL = 0x0a
const TOKEN_LIMIT = 2 ** 40

/** Whitespace as Perl's `\s` sees it: restore splits fields on runs of it. */
export function isPerlSpace (c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

function isCount (value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

function checkCount (value: number, what: string): void {
  if (!isCount(value)) throw new SaBackupError(`${what} ${value} is not a non-negative integer`)
}

/** Decimal digits of a non-negative safe integer. */
function digitCount (v: number): number {
  let len = 1
  for (let x = 10; x <= v; x *= 10) len++
  return len
}

/** "00" to "99" as bytes: writing two digits a division halves the divisions. */
const PAIRS = new TextEncoder().encode(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''))

/** Writes a non-negative safe integer in decimal at pos; returns the position after it. */
function writeUint (out: Uint8Array, pos: number, v: number): number {
  const end = pos + digitCount(v)
  let p = end
  if (v <= 0x7fffffff) {
    let x = v | 0
    while (x >= 100) {
      const q = (x / 100) | 0
      const r = (x - q * 100) << 1
      out[--p] = PAIRS[r + 1]
      out[--p] = PAIRS[r]
      x = q
    }
    if (x >= 10) {
      out[p - 1] = PAIRS[(x << 1) + 1]
      out[p - 2] = PAIRS[x << 1]
    } else {
      out[p - 1] = 0x30 + x
    }
  } else {
    // Above 32 bits: % and an exact division keep every digit right up to 2^53.
    let x = v
    do {
      const d = x % 10
      out[--p] = 0x30 + d
      x = (x - d) / 10
    } while (x > 0)
  }
  return end
}

const HEX = new TextEncoder().encode('0123456789abcdef')

/**
 * The bytes of an `sa-learn --backup` file holding `db`, as sa-learn writes it (line 1, then
 * num_spam, num_nonspam, tokens, seen ids), deterministic: tokens in token order, seen ids by
 * msgid. Written into one buffer of the exact size. Throws SaBackupError, before producing
 * anything, for a message count that is not a non-negative integer, tokens that are not strictly
 * ascending 40-bit integers, or a msgid that cannot be one field.
 */
export function formatSaBackup (db: BayesDb): Uint8Array {
  // Each chunk is copied: the generator writes the next one over it.
  return Buffer.concat(Array.from(formatSaBackupChunks(db), c => Buffer.from(c)))
}

/** Longest token line: "t", 4 tabs, 3 counts of at most 10 digits, 10 hex digits, newline. */
const MAX_TOKEN_LINE = 6 + 3 * 10 + TOKEN_HEX

/**
 * The bytes of {@link formatSaBackup} in chunks of about `chunkBytes` each, so a file of millions
 * of tokens is written without holding all of it in memory. The token chunks are views of one
 * buffer that each next chunk overwrites: a consumer is done with a chunk before it asks for the
 * next (as a file handle's writeFile is). A fresh buffer a chunk left 60 MB of garbage per 2M
 * tokens written, RSS the process kept. Checks everything, and throws SaBackupError, before the
 * first chunk.
 */
export function * formatSaBackupChunks (db: BayesDb, chunkBytes = 1024 * 1024): Generator<Uint8Array> {
  const { head, tail } = headAndTail(db)
  const t = db.tokens
  checkTokens(t, -1)
  yield head
  const size = Math.max(chunkBytes, MAX_TOKEN_LINE)
  const out = Buffer.allocUnsafe(Math.min(size, t.keys.length * MAX_TOKEN_LINE))
  for (let i = 0; i < t.keys.length;) {
    const rows = Math.min(t.keys.length - i, Math.floor(size / MAX_TOKEN_LINE))
    yield out.subarray(0, writeTokenLines(t, i, i + rows, out, 0))
    i += rows
  }
  if (tail.length > 0) yield tail
}

/** A DB's message counts and seen ids: the lines of a backup around its tokens. */
export type SaBackupHead = Pick<BayesDb, 'numSpam' | 'numHam' | 'seen'>

/**
 * {@link formatSaBackupChunks} of a DB whose tokens come as a stream of tables in token order
 * (the cluster's DB summed from its contributions, never held whole), in chunks of about
 * `chunkBytes` that are views of one buffer, as there. The head and seen ids are checked before
 * the first chunk; the tokens as they come, so a bad row throws mid-stream (an atomic write
 * then leaves the old file).
 */
export async function * formatSaBackupStream (head: SaBackupHead, rows: AsyncIterable<TokenTable>, chunkBytes = 1024 * 1024): AsyncGenerator<Uint8Array> {
  const lines = headAndTail(head)
  yield lines.head
  const size = Math.max(chunkBytes, MAX_TOKEN_LINE)
  const out = Buffer.allocUnsafe(size)
  let p = 0
  let previous = -1
  for await (const t of rows) {
    previous = checkTokens(t, previous)
    for (let i = 0; i < t.keys.length;) {
      const fit = Math.floor((size - p) / MAX_TOKEN_LINE)
      if (fit === 0) {
        yield out.subarray(0, p)
        p = 0
        continue
      }
      const to = Math.min(t.keys.length, i + fit)
      p = writeTokenLines(t, i, to, out, p)
      i = to
    }
  }
  if (p > 0) yield out.subarray(0, p)
  if (lines.tail.length > 0) yield lines.tail
}

// The version and message count lines, and the seen id lines; SaBackupError for what cannot be written.
function headAndTail (db: SaBackupHead): { head: Buffer, tail: Buffer } {
  checkCount(db.numSpam, 'num_spam')
  checkCount(db.numHam, 'num_nonspam')
  const msgids = [...db.seen.keys()].sort()
  const seen: string[] = []
  for (const msgid of msgids) {
    const flag = db.seen.get(msgid)
    if (flag !== 's' && flag !== 'h') throw new SaBackupError(`seen flag ${JSON.stringify(flag)} of ${JSON.stringify(msgid)} is neither "s" nor "h"`)
    if (msgid.length === 0 || /[\t\n]/.test(msgid) || isPerlSpace(msgid.charCodeAt(0))) {
      throw new SaBackupError(`msgid ${JSON.stringify(msgid)} cannot be written (empty, a tab or line break, or leading whitespace)`)
    }
    seen.push(`s\t${flag}\t${msgid}\n`)
  }
  return {
    head: Buffer.from(`${VERSION_LINE}\nv\t${db.numSpam}\tnum_spam\nv\t${db.numHam}\tnum_nonspam\n`, 'latin1'),
    tail: Buffer.from(seen.join(''), 'utf8')
  }
}

/** Throws unless the tokens are strictly ascending 40-bit integers above `previous`; returns the last. */
function checkTokens (t: TokenTable, previous: number): number {
  for (let i = 0; i < t.keys.length; i++) {
    const v = t.keys[i]
    if (!(v > previous) || v >= TOKEN_LIMIT || !Number.isInteger(v)) {
      throw new SaBackupError(`token ${i} (${v}) is not a 40-bit integer above the one before (tokens must be strictly ascending)`)
    }
    previous = v
  }
  return previous
}

/** Writes the token lines of rows from..to-1 at out[at]; returns the end. */
function writeTokenLines (t: TokenTable, from: number, to: number, out: Uint8Array, at: number): number {
  let p = at
  for (let i = from; i < to; i++) {
    out[p++] = T
    out[p++] = TAB
    p = writeUint(out, p, t.spam[i])
    out[p++] = TAB
    p = writeUint(out, p, t.ham[i])
    out[p++] = TAB
    p = writeUint(out, p, t.atime[i])
    out[p++] = TAB
    const v = t.keys[i]
    const hi = Math.floor(v / 0x100000)
    const lo = v - hi * 0x100000
    for (let s = 16; s >= 0; s -= 4) out[p++] = HEX[(hi >>> s) & 15]
    for (let s = 16; s >= 0; s -= 4) out[p++] = HEX[(lo >>> s) & 15]
    out[p++] = NL
  }
  return p
}
