/**
 * The SpamAssassin Bayes backup format: the text `sa-learn --backup` writes and
 * `sa-learn --restore` reads. One record a line, fields separated by tabs:
 *   v  3  db_version [# comment]   the format version; must be line 1 and must be 3
 *   v  N  num_spam                 spam messages learned
 *   v  N  num_nonspam              ham messages learned
 *   t  SPAM  HAM  ATIME  TOKEN     a token: counts, last access, 10 hex digits (5 bytes of SHA-1)
 *   s  FLAG  MSGID                 a learned message: `s` spam or `h` ham, then its id
 * Every backend of sa-learn writes line 1 as `v\t3\tdb_version # this must be the first line!!!`,
 * and restore reads `v N db_version` followed by anything; so do we.
 *
 * A bad line is reported (file, line, reason) and kept out of the DB; a file without a version 3
 * first line cannot be read at all.
 */
import type { BayesDb, SeenFlag, TokenCounts } from '../crdt/bayes-counters.js'
import { emptyBayesDb } from '../crdt/bayes-counters.js'
import { SaBackupError } from '../errors.js'
import type { InvalidLine } from './list-file.js'

/** A backup file as parsed: the DB of its valid lines, and its bad lines. */
export interface ParsedSaBackup {
  /** Everything the valid lines hold; num_spam and num_nonspam are 0 when their line is missing. */
  db: BayesDb
  /** The invalid lines, in order. */
  invalid: InvalidLine[]
}

/** The only backup format version this module reads and writes. */
const DB_VERSION = 3
/** Line 1 exactly as sa-learn writes it. */
const VERSION_LINE = `v\t${DB_VERSION}\tdb_version # this must be the first line!!!`
const VERSION_LINE_RE = /^v\t(\d+)\tdb_version(?:[\t\n\v\f\r ]|$)/

const TAB = 0x09
const T = 0x74
const V = 0x76
const S = 0x73
const TOKEN_HEX = 10

/** Whitespace as Perl's `\s` sees it: restore splits fields on runs of it. */
function isPerlSpace (c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

/** The value of a decimal digit string as a safe integer, or -1 when it is not one. */
function uintOf (s: string): number {
  if (s.length === 0) return -1
  let v = 0
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1
}

// Fast path for token lines, the bulk of a file: reads `t\tSPAM\tHAM\tATIME\tTOKEN` between
// start and end straight from the text, without slicing fields. Writes the counts into `tok`
// and returns the token in lower case, or undefined when the line is not a valid token line
// (the slow path then finds out why). One shared object, as parsing is synchronous.
const tok = { spam: 0, ham: 0, atime: 0 }

function fastToken (text: string, start: number, end: number): string | undefined {
  let i = start + 2
  let v = 0
  let field = 0
  for (; field < 3; field++) {
    const from = i
    v = 0
    for (; i < end; i++) {
      const d = text.charCodeAt(i) - 0x30
      if (d < 0 || d > 9) break
      v = v * 10 + d
    }
    if (i === from || i === end || text.charCodeAt(i) !== TAB || v > Number.MAX_SAFE_INTEGER) return undefined
    i++
    if (field === 0) tok.spam = v
    else if (field === 1) tok.ham = v
    else tok.atime = v
  }
  if (end - i !== TOKEN_HEX) return undefined
  let upper = false
  for (let k = i; k < end; k++) {
    const c = text.charCodeAt(k)
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue
    if (c >= 0x41 && c <= 0x46) upper = true
    else return undefined
  }
  const token = text.slice(i, end)
  return upper ? token.toLowerCase() : token
}

/** Why a token line is invalid (the slow path, for lines the fast path refused). */
function tokenLineProblem (raw: string): string {
  const f = raw.split('\t')
  if (f.length !== 5) return `token line needs 5 tab-separated fields (t, spam, ham, atime, token), has ${f.length}`
  const names = ['spam count', 'ham count', 'atime']
  for (let k = 0; k < 3; k++) {
    if (uintOf(f[k + 1]) < 0) return `${names[k]} ${JSON.stringify(f[k + 1])} is not a non-negative integer`
  }
  return `token ${JSON.stringify(f[4])} is not 10 hex digits`
}

/** The line each message count was first set on (0: not yet), to name it in duplicate reports. */
interface VarLines {
  num_spam: number
  num_nonspam: number
}

/** Reads a `v` line into db; returns why it is invalid, or undefined. */
function readVar (raw: string, line: number, db: BayesDb, lines: VarLines): string | undefined {
  const f = raw.split('\t')
  if (f.length !== 3) return `variable line needs 3 tab-separated fields (v, value, name), has ${f.length}`
  const name = f[2]
  if (name === 'db_version') return 'db_version belongs on line 1 only'
  if (name !== 'num_spam' && name !== 'num_nonspam') return `unknown variable ${JSON.stringify(name)}`
  const value = uintOf(f[1])
  if (value < 0) return `${name} ${JSON.stringify(f[1])} is not a non-negative integer`
  if (lines[name] !== 0) return `duplicate ${name} (first on line ${lines[name]})`
  lines[name] = line
  if (name === 'num_spam') db.numSpam = value
  else db.numHam = value
  return undefined
}

/** Reads an `s` line into db; returns why it is invalid, or undefined. */
function readSeen (raw: string, db: BayesDb): string | undefined {
  const flagEnd = raw.indexOf('\t', 2)
  if (flagEnd < 0) return 'seen line needs 3 tab-separated fields (s, flag, msgid)'
  const flag = raw.slice(2, flagEnd)
  if (flag !== 's' && flag !== 'h') return `seen flag ${JSON.stringify(flag)} is neither "s" nor "h"`
  const msgid = raw.slice(flagEnd + 1)
  if (msgid.length === 0) return 'empty msgid'
  if (msgid.includes('\t')) return 'msgid contains a tab'
  // Restore splits on runs of whitespace, so it would drop this msgid's leading whitespace.
  if (isPerlSpace(msgid.charCodeAt(0))) return 'msgid starts with whitespace (sa-learn --restore would drop it)'
  if (db.seen.has(msgid)) return 'duplicate msgid'
  db.seen.set(msgid, flag as SeenFlag)
  return undefined
}

/** Throws SaBackupError unless `first` is a version 3 db_version line. */
function checkVersionLine (first: string, file: string): void {
  const m = VERSION_LINE_RE.exec(first)
  if (m === null) {
    const shown = first.length > 60 ? `${first.slice(0, 60)}...` : first
    throw new SaBackupError(`${file}: line 1 must be "v<TAB>${DB_VERSION}<TAB>db_version", the backup format version; found ${JSON.stringify(shown)}`)
  }
  if (uintOf(m[1]) !== DB_VERSION) {
    throw new SaBackupError(`${file}: backup format db_version ${m[1]} is not supported (only ${DB_VERSION})`)
  }
}

/**
 * Parses the text of an `sa-learn --backup` file; `file` names it in reports. Tokens are
 * normalised to lower case. Of two lines for one token or one msgid, the first counts and the
 * second is reported. Throws SaBackupError when line 1 is not `v 3 db_version`.
 */
export function parseSaBackup (text: string, file: string): ParsedSaBackup {
  let firstEnd = text.indexOf('\n')
  if (firstEnd < 0) firstEnd = text.length
  checkVersionLine(text.slice(0, firstEnd), file)

  const db = emptyBayesDb()
  const invalid: InvalidLine[] = []
  const varLines: VarLines = { num_spam: 0, num_nonspam: 0 }
  const tokens = db.tokens
  const stop = text.length
  for (let start = firstEnd + 1, line = 2; start < stop; line++) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = stop
    let reason: string | undefined
    const kind = text.charCodeAt(start)
    if (kind === T && text.charCodeAt(start + 1) === TAB) {
      const token = fastToken(text, start, end)
      if (token === undefined) {
        reason = tokenLineProblem(text.slice(start, end))
      } else if (tokens.has(token)) {
        reason = 'duplicate token'
      } else {
        tokens.set(token, { spam: tok.spam, ham: tok.ham, atime: tok.atime })
      }
    } else if (end === start) {
      reason = 'empty line'
    } else if (kind !== T && kind !== V && kind !== S) {
      reason = 'unknown line type (expected "v", "t" or "s")'
    } else if (start + 1 === end) {
      reason = 'no fields after the line type'
    } else if (text.charCodeAt(start + 1) !== TAB) {
      reason = 'fields must be separated by tabs'
    } else if (kind === V) {
      reason = readVar(text.slice(start, end), line, db, varLines)
    } else {
      reason = readSeen(text.slice(start, end), db)
    }
    if (reason !== undefined) invalid.push({ file, line, reason, text: text.slice(start, end) })
    start = end + 1
  }
  return { db, invalid }
}

function isCount (value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

function checkCount (value: number, what: string): void {
  if (!isCount(value)) throw new SaBackupError(`${what} ${value} is not a non-negative integer`)
}

/** The value of lower-case hex digit c, or -1 when c is not one. */
function nibble (c: number): number {
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1
}

/**
 * Indices 0..n-1 ordered by the 40-bit keys hi * 2^20 + lo (each part 20 bits): an LSD radix
 * sort, four passes of 10 bits. Several times faster than sorting the token strings.
 */
function sortIndices (hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const n = hi.length
  let order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let next = new Uint32Array(n)
  const count = new Uint32Array(1024)
  for (let pass = 0; pass < 4; pass++) {
    const part = pass < 2 ? lo : hi
    const shift = pass % 2 === 0 ? 0 : 10
    count.fill(0)
    for (let i = 0; i < n; i++) count[(part[order[i]] >>> shift) & 1023]++
    for (let b = 0, sum = 0; b < 1024; b++) {
      const c = count[b]
      count[b] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const j = order[i]
      next[count[(part[j] >>> shift) & 1023]++] = j
    }
    const swap = order
    order = next
    next = swap
  }
  return order
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
      out[--p] = PAIRS[(x << 1) + 1]
      out[--p] = PAIRS[x << 1]
    } else {
      out[--p] = 0x30 + x
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

/** The token lines of `tokens`, sorted by token, written as bytes (they are all ASCII). */
function tokenLines (tokens: ReadonlyMap<string, TokenCounts>): string {
  const n = tokens.size
  // The token as two 20-bit halves, for sorting and for writing it back.
  const hi = new Uint32Array(n)
  const lo = new Uint32Array(n)
  // Each token's spam, ham and atime side by side: the write loop visits tokens in sorted, that
  // is random, order, and one cache line a token beats a pointer and an object (measured ~30%).
  const row = new Float64Array(3 * n)
  // "t", 4 tabs, the token and a newline a line, plus the digits: the exact size of the output.
  let size = n * (6 + TOKEN_HEX)
  let i = 0
  // forEach, not for-of: for-of allocates an entry and a result object a token until optimised.
  tokens.forEach((c, token) => {
    let h = 0
    let l = 0
    let bad = token.length ^ TOKEN_HEX
    for (let k = 0; k < 5; k++) {
      const v = nibble(token.charCodeAt(k))
      bad |= v >>> 31 // 1 for -1, 0 for a digit
      h = (h << 4) | v
    }
    for (let k = 5; k < 10; k++) {
      const v = nibble(token.charCodeAt(k))
      bad |= v >>> 31 // 1 for -1, 0 for a digit
      l = (l << 4) | v
    }
    if (bad !== 0) throw new SaBackupError(`token ${JSON.stringify(token)} is not 10 lower-case hex digits`)
    if (!isCount(c.spam) || !isCount(c.ham) || !isCount(c.atime)) {
      throw new SaBackupError(`token ${token} has a count or atime that is not a non-negative integer: ${JSON.stringify(c)}`)
    }
    hi[i] = h
    lo[i] = l
    row[3 * i] = c.spam
    row[3 * i + 1] = c.ham
    row[3 * i + 2] = c.atime
    size += digitCount(c.spam) + digitCount(c.ham) + digitCount(c.atime)
    i++
  })
  const order = sortIndices(hi, lo)
  // One buffer and one copy into a string: cheaper than many small strings joined.
  const out = Buffer.allocUnsafe(size)
  let p = 0
  for (let k = 0; k < n; k++) {
    const j = order[k]
    const r = 3 * j
    out[p++] = T
    out[p++] = TAB
    p = writeUint(out, p, row[r])
    out[p++] = TAB
    p = writeUint(out, p, row[r + 1])
    out[p++] = TAB
    p = writeUint(out, p, row[r + 2])
    out[p++] = TAB
    const h = hi[j]
    const l = lo[j]
    for (let s = 16; s >= 0; s -= 4) out[p++] = HEX[(h >>> s) & 15]
    for (let s = 16; s >= 0; s -= 4) out[p++] = HEX[(l >>> s) & 15]
    out[p++] = 0x0a
  }
  return out.toString('latin1', 0, p)
}

/**
 * The text of an `sa-learn --backup` file holding `db`, as sa-learn writes it (line 1, then
 * num_spam, num_nonspam, tokens, seen ids), deterministic: tokens sorted by token, seen ids by
 * msgid. Throws SaBackupError, before producing anything, for a token that is not 10 lower-case
 * hex digits, a count that is not a non-negative integer, or a msgid that cannot be one field.
 */
export function formatSaBackup (db: BayesDb): string {
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
  const head = `${VERSION_LINE}\nv\t${db.numSpam}\tnum_spam\nv\t${db.numHam}\tnum_nonspam\n`
  return head + tokenLines(db.tokens) + seen.join('')
}
