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

/** Whether `s` is exactly 10 hex digits, either case. */
function isToken (s: string): boolean {
  if (s.length !== TOKEN_HEX) return false
  for (let i = 0; i < TOKEN_HEX; i++) {
    const c = s.charCodeAt(i) | 0x20
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
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

/** Per-parse state of the few `v` lines: the line each variable was first set on. */
interface VarLines {
  db_version: number
  num_spam: number
  num_nonspam: number
}

/** Reads a `v` line into db; returns why it is invalid, or undefined. */
function readVar (raw: string, line: number, db: BayesDb, lines: VarLines): string | undefined {
  const f = raw.split('\t')
  if (f.length !== 3) return `variable line needs 3 tab-separated fields (v, value, name), has ${f.length}`
  const name = f[2]
  if (name !== 'num_spam' && name !== 'num_nonspam' && name !== 'db_version') return `unknown variable ${JSON.stringify(name)}`
  if (name === 'db_version') return `db_version belongs on line 1 only (it is there)`
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
  const size = db.seen.size
  db.seen.set(msgid, flag as SeenFlag)
  // The set did not grow the map: a second line for this msgid. The first one's flag stays.
  if (db.seen.size === size) return 'duplicate msgid'
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
  const varLines: VarLines = { db_version: 1, num_spam: 0, num_nonspam: 0 }
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

function checkCount (value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new SaBackupError(`${what} ${value} is not a non-negative integer`)
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
  // 10 lower-case hex digits sort as their 40-bit numbers do; typed-array sorting of those
  // numbers is several times faster than sorting the strings.
  const keys = new Float64Array(db.tokens.size)
  let i = 0
  for (const [token, n] of db.tokens) {
    if (!isToken(token) || token !== token.toLowerCase()) throw new SaBackupError(`token ${JSON.stringify(token)} is not 10 lower-case hex digits`)
    checkCount(n.spam, `spam count of token ${token}`)
    checkCount(n.ham, `ham count of token ${token}`)
    checkCount(n.atime, `atime of token ${token}`)
    keys[i++] = parseInt(token, 16)
  }
  keys.sort()
  const msgids = [...db.seen.keys()].sort()
  for (const msgid of msgids) {
    const flag = db.seen.get(msgid)
    if (flag !== 's' && flag !== 'h') throw new SaBackupError(`seen flag ${JSON.stringify(flag)} of ${JSON.stringify(msgid)} is neither "s" nor "h"`)
    if (msgid.length === 0 || /[\t\n]/.test(msgid) || isPerlSpace(msgid.charCodeAt(0))) {
      throw new SaBackupError(`msgid ${JSON.stringify(msgid)} cannot be written (empty, a tab or line break, or leading whitespace)`)
    }
  }

  let out = `${VERSION_LINE}\nv\t${db.numSpam}\tnum_spam\nv\t${db.numHam}\tnum_nonspam\n`
  for (let k = 0; k < keys.length; k++) {
    const token = keys[k].toString(16).padStart(TOKEN_HEX, '0')
    const n = db.tokens.get(token) as TokenCounts
    out += `t\t${n.spam}\t${n.ham}\t${n.atime}\t${token}\n`
  }
  for (const msgid of msgids) out += `s\t${db.seen.get(msgid) as SeenFlag}\t${msgid}\n`
  return out
}
