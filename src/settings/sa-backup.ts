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
import { allocTokens, MAX_COUNT, trimTokens, type BayesDb } from '../crdt/bayes-counters.js'
import { sortIndices } from '../crdt/token-table.js'
import { SaBackupError } from '../errors.js'
import { REPORTED_INVALID_LINES, type InvalidLine } from './list-file.js'
import { DB_VERSION, isPerlSpace, NL, S, T, TAB, TOKEN_HEX, V, VERSION_LINE_RE } from './sa-backup-format.js'

export { formatSaBackup, formatSaBackupChunks, formatSaBackupStream, type SaBackupHead } from './sa-backup-format.js'

/** A backup file as parsed: the DB of its valid lines, and its bad lines. */
export interface ParsedSaBackup {
  /** Everything the valid lines hold; num_spam and num_nonspam are 0 when their line is missing. */
  db: BayesDb
  /** The first {@link REPORTED_INVALID_LINES} invalid lines, in order: millions of junk lines cost no memory. */
  invalid: InvalidLine[]
  /** How many invalid lines there are. */
  invalidCount: number
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

// Fast path for token lines, the bulk of a file: fastTokenLine reads `t\tSPAM\tHAM\tATIME\tTOKEN`
// straight from the bytes, without a string, into `tok`. One shared object, as parsing is synchronous.
const tok = { spam: 0, ham: 0, atime: 0, key: 0 }

/**
 * Reads a token line from `start` on, without looking for its end first: writes its counts and
 * token into `tok` and returns where it ends (its newline, or `stop`), or -1 when the bytes up to
 * `stop` are not a valid token line (the slow path then finds out why). Not searching each
 * line's newline first (a native call per line) and reading it in one call took the parse of a
 * 1M-token file from 294 to 162 ms CPU.
 */
function fastTokenLine (buf: Uint8Array, start: number, stop: number): number {
  let i = start + 2
  for (let field = 0; field < 3; field++) {
    const from = i
    let v = 0
    for (; i < stop; i++) {
      const d = buf[i] - 0x30
      if (d < 0 || d > 9) break
      v = v * 10 + d
    }
    if (i === from || i >= stop || buf[i] !== TAB || v > MAX_COUNT) return -1
    i++
    if (field === 0) tok.spam = v
    else if (field === 1) tok.ham = v
    else tok.atime = v
  }
  const end = i + TOKEN_HEX
  if (end > stop || (end < stop && buf[end] !== NL)) return -1
  let key = 0
  for (let k = i; k < end; k++) {
    const c = buf[k]
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
    if (d < 0) return -1
    key = key * 16 + d
  }
  tok.key = key
  return end
}

/** Why a token line is invalid (the slow path, for lines the fast path refused). */
function tokenLineProblem (raw: string): string {
  const f = raw.split('\t')
  if (f.length !== 5) return `token line needs 5 tab-separated fields (t, spam, ham, atime, token), has ${f.length}`
  const names = ['spam count', 'ham count', 'atime']
  for (let k = 0; k < 3; k++) {
    const v = uintOf(f[k + 1])
    if (v < 0) return `${names[k]} ${JSON.stringify(f[k + 1])} is not a non-negative integer`
    if (v > MAX_COUNT) return `${names[k]} ${f[k + 1]} is above ${MAX_COUNT}, the largest SpamAssassin stores`
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
  db.seen.set(msgid, flag)
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

/** Token rows as they are read, in file order, in columns that double when full. */
class TokenRows {
  n = 0
  keys: Float64Array
  spam: Uint32Array
  ham: Uint32Array
  atime: Uint32Array
  /** Line number of each row, to report a duplicate (its text is found again by its number). */
  lines: Uint32Array

  constructor (capacity: number) {
    this.keys = new Float64Array(capacity)
    this.spam = new Uint32Array(capacity)
    this.ham = new Uint32Array(capacity)
    this.atime = new Uint32Array(capacity)
    this.lines = new Uint32Array(capacity)
  }

  push (line: number): void {
    if (this.n === this.keys.length) this.grow()
    const i = this.n++
    this.keys[i] = tok.key
    this.spam[i] = tok.spam
    this.ham[i] = tok.ham
    this.atime[i] = tok.atime
    this.lines[i] = line
  }

  private grow (): void {
    const cap = this.keys.length * 2
    const more = <A extends Float64Array | Uint32Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(cap)
      b.set(a)
      return b
    }
    this.keys = more(this.keys)
    this.spam = more(this.spam)
    this.ham = more(this.ham)
    this.atime = more(this.atime)
    this.lines = more(this.lines)
  }
}

/**
 * Parses an `sa-learn --backup` file (its bytes, or its text); `file` names it in reports. Tokens
 * are normalised to lower case. Of two lines for one token or one msgid, the first counts and the
 * second is reported. Throws SaBackupError when line 1 is not `v 3 db_version`.
 */
export function parseSaBackup (input: Uint8Array | string, file: string): ParsedSaBackup {
  // A Buffer view, for its native line search and text slices; no copy of the bytes.
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  const parse = new LineParse(file, buf.length)
  parse.lines(buf, true)
  return parse.finish(wanted => linesNumbered(buf, wanted)) as ParsedSaBackup
}

/**
 * parseSaBackup over a file read in chunks (bounded memory: the file is never held whole), or
 * null when the file holds a token twice: the text of the duplicate lines, to report them, is
 * then only found by reading the file whole. A chunk is not read after the next one is asked
 * for, so the source may read each into the same buffer.
 */
export async function parseSaBackupChunks (chunks: AsyncIterable<Uint8Array>, file: string, sizeHint: number): Promise<ParsedSaBackup | null> {
  const parse = new LineParse(file, sizeHint)
  // Copies of the chunks of a line not ended yet: joined with the end of that line only once it
  // comes, so neither a long line nor a whole chunk is copied more than once.
  let held: Buffer[] = []
  for await (const chunk of chunks) {
    let view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const nl = view.indexOf(NL)
    if (nl < 0) {
      held.push(Buffer.from(view))
      continue
    }
    if (held.length > 0) {
      parse.lines(Buffer.concat([...held, view.subarray(0, nl + 1)]), false)
      view = view.subarray(nl + 1)
    }
    const rest = parse.lines(view, false)
    // A copy: the chunk may be read over next (the caller's buffer), and must not be kept alive.
    held = rest < view.length ? [Buffer.from(view.subarray(rest))] : []
  }
  parse.lines(Buffer.concat(held), true)
  return parse.finish(null)
}

/** A parse in progress: the lines read so far into the DB, the token rows and the bad lines. */
class LineParse {
  private readonly db: BayesDb = { numSpam: 0, numHam: 0, tokens: allocTokens(0), seen: new Map() }
  private readonly invalid: InvalidLine[] = []
  private invalidCount = 0
  private readonly varLines: VarLines = { num_spam: 0, num_nonspam: 0 }
  private readonly rows: TokenRows
  /** Number of the next line (1 is the version line). */
  private line = 1

  /** `sizeHint`: the file's size, to size the token columns (a token line takes about 30 bytes). */
  constructor (private readonly file: string, sizeHint: number) {
    this.rows = new TokenRows(Math.max(16, Math.ceil(sizeHint / 28)))
  }

  /**
   * Reads the lines of `buf` that end in it (and with `last`, a rest without a newline as the
   * file's last line); returns where the unread rest starts.
   */
  lines (buf: Buffer, last: boolean): number {
    const stop = buf.length
    let start = 0
    // The version line is line 1 even of an empty file.
    if (last && this.line === 1 && stop === 0) this.one(buf, 0, 0)
    while (start < stop) {
      if (buf[start] === T && buf[start + 1] === TAB && this.line > 1) {
        const ended = fastTokenLine(buf, start, stop)
        // A line that reaches `stop` may go on in the next chunk, unless this is the last.
        if (ended >= 0 && (ended < stop || last)) {
          this.rows.push(this.line++)
          start = ended + 1
          continue
        }
      }
      let end = buf.indexOf(NL, start)
      if (end < 0) {
        if (!last) return start
        end = stop
      }
      this.one(buf, start, end)
      start = end + 1
    }
    return stop
  }

  /**
   * The parse of every line read: the token rows in token order, the duplicates reported with
   * the text `textOf` finds for their line numbers; null when there are duplicates and no textOf.
   */
  finish (textOf: ((lines: ReadonlySet<number>) => Array<[number, string]>) | null): ParsedSaBackup | null {
    const { db, rows, invalid, file } = this
    const duplicates = sortRows(rows, db)
    if (duplicates.length > 0) {
      if (textOf === null) return null
      this.invalidCount += duplicates.length
      // Only the first ones by line can be among the first reported.
      const first = new Set(duplicates.map(i => rows.lines[i]).sort((a, b) => a - b).slice(0, REPORTED_INVALID_LINES))
      for (const [line, text] of textOf(first)) invalid.push({ file, line, reason: 'duplicate token', text })
      invalid.sort((a, b) => a.line - b.line)
      invalid.length = Math.min(invalid.length, REPORTED_INVALID_LINES)
    }
    return { db, invalid, invalidCount: this.invalidCount }
  }

  /** Reads the line buf[start, end). */
  private one (buf: Buffer, start: number, end: number): void {
    const line = this.line++
    if (line === 1) {
      checkVersionLine(buf.toString('utf8', start, end), this.file)
      return
    }
    const reason = this.problem(buf, start, end, line)
    if (reason === undefined) return
    this.invalidCount++
    if (this.invalid.length < REPORTED_INVALID_LINES) this.invalid.push({ file: this.file, line, reason, text: buf.toString('utf8', start, end) })
  }

  /** Reads a line after the first; returns why it is invalid, or undefined. */
  private problem (buf: Buffer, start: number, end: number, line: number): string | undefined {
    const kind = buf[start]
    if (kind === T && buf[start + 1] === TAB) {
      if (fastTokenLine(buf, start, end) === end) {
        this.rows.push(line)
        return undefined
      }
      return tokenLineProblem(buf.toString('utf8', start, end))
    }
    if (end === start) return 'empty line'
    if (kind !== T && kind !== V && kind !== S) return 'unknown line type (expected "v", "t" or "s")'
    if (start + 1 === end) return 'no fields after the line type'
    if (buf[start + 1] !== TAB) return 'fields must be separated by tabs'
    if (kind === V) return readVar(buf.toString('utf8', start, end), line, this.db, this.varLines)
    return readSeen(buf.toString('utf8', start, end), this.db)
  }
}

/** The text of the lines of these numbers (1 is the first), found in one pass. */
function linesNumbered (buf: Buffer, wanted: ReadonlySet<number>): Array<[number, string]> {
  const out: Array<[number, string]> = []
  for (let start = 0, line = 1; start < buf.length && out.length < wanted.size; line++) {
    let end = buf.indexOf(NL, start)
    if (end < 0) end = buf.length
    if (wanted.has(line)) out.push([line, buf.toString('utf8', start, end)])
    start = end + 1
  }
  return out
}

/**
 * Puts the rows into db.tokens in token order; of rows with one token the first in the file is
 * kept. Returns the rows left out as duplicates.
 */
function sortRows (rows: TokenRows, db: BayesDb): number[] {
  const n = rows.n
  let ascending = true
  for (let i = 1; i < n && ascending; i++) ascending = rows.keys[i - 1] < rows.keys[i]
  if (ascending) {
    // A file sa-learn or this module wrote: the columns as read are the table, no copy.
    db.tokens = trimTokens(rows, n)
    return []
  }
  const order = sortIndices(rows.keys, n)
  const out = allocTokens(n)
  const duplicates: number[] = []
  let count = 0
  for (let k = 0; k < n; k++) {
    const i = order[k]
    const v = rows.keys[i]
    if (count > 0 && out.keys[count - 1] === v) {
      duplicates.push(i)
      continue
    }
    out.keys[count] = v
    out.spam[count] = rows.spam[i]
    out.ham[count] = rows.ham[i]
    out.atime[count] = rows.atime[i]
    count++
  }
  db.tokens = trimTokens(out, count)
  return duplicates
}
