/**
 * The list file format (whitelist.txt, blacklist.txt, autowhitelist.txt): the files the mail
 * server reads and the operator edits.
 *
 * One entry a line: `KEY [VALUE] [# COMMENT]`. KEY is the first whitespace-free token (see
 * list-key.ts); VALUE is the rest of the line up to the comment, trimmed, '' when there is none.
 * A line whose first non-blank character is `#` is a whole-line comment: it stays in this file
 * only. Later in a line, a `#` after whitespace starts the entry's comment (so `a#b` inside a key
 * or value is kept), which belongs to the entry and travels with it to every node.
 * Blank lines are allowed.
 *
 * What syncs for an entry is its FIELD: VALUE and the comment as one string, `VALUE #COMMENT`
 * (one space between), `#COMMENT` without a value, or VALUE alone; trailing whitespace of the
 * comment is dropped. fieldValue() and fieldComment() take it apart; outputs read only the value.
 * A line with an invalid key, a second line with an already seen key, or an entry line with
 * bytes that are not UTF-8 (see decodeFileText) is invalid: reported, kept in the file byte for
 * byte, never synced.
 *
 * Rendering writes a desired key -> value set back into the operator's file, changing only the
 * lines it must, so comments, layout and bad lines survive every sync.
 */
import { InvalidKeyError, InvalidValueError } from '../errors.js'
import { checkKey } from './list-key.js'

/** One line of a list file as parsed. */
export interface ListLine {
  /** What the line is; `invalid` lines are kept in the file but never synced. */
  kind: 'entry' | 'comment' | 'blank' | 'invalid'
  /** The line as written, without its line break. */
  raw: string
  /** 1-based line number. */
  line: number
  /** Normalised key: set on entries and on duplicates. */
  key?: string
  /** The entry's field (value and comment, see the file's header): set on entries and on duplicates. */
  value?: string
  /** Why an `invalid` line is invalid. */
  reason?: string
}

/** A bad line, reported to the operator (file, line, reason) and never synced. */
export interface InvalidLine {
  /** The file's name or path, as given to parseListFile. */
  file: string
  /** 1-based line number. */
  line: number
  /** Why the line is invalid. */
  reason: string
  /** The line as written. */
  text: string
}

/** A list file as parsed: its lines (for rendering) and its valid entries (for syncing). */
export interface ParsedListFile {
  /** Every line, in order. */
  lines: ListLine[]
  /** Normalised key -> field (value and comment), valid lines only, first occurrence of each key. */
  entries: Map<string, string>
  /** The invalid lines, in order. */
  invalid: InvalidLine[]
  /** Line break style, taken from the first line break ('\n' when there is none). */
  eol: '\n' | '\r\n'
  /** Whether the last line ends with a line break (true for an empty file). */
  finalNewline: boolean
}

/** False when the text holds a lone surrogate (String.prototype.isWellFormed, ES2024). */
export function isWellFormed (text: string): boolean {
  return (text as unknown as { isWellFormed: () => boolean }).isWellFormed()
}

/** Reason of an entry line with bytes that are not UTF-8. */
export const NOT_UTF8 = 'not valid UTF-8 (kept as it is, never synced)'

/** Status reports at most this many invalid lines of a file (and their total count). */
export const REPORTED_INVALID_LINES = 100

/** A reported invalid line's text is cut to this many characters. */
export const REPORTED_LINE_CHARS = 200

/** A file's invalid lines as status reports them: bounded, whatever the file holds. */
export interface InvalidReport {
  /** How many invalid lines the file has. */
  invalidCount: number
  /** The first {@link REPORTED_INVALID_LINES} of them, each text cut to {@link REPORTED_LINE_CHARS} characters ('…' marks a cut). */
  invalidLines: InvalidLine[]
}

/** The bounded report of `invalid` (`count` when the list itself was cut already). */
export function reportInvalid (invalid: readonly InvalidLine[], count = invalid.length): InvalidReport {
  const invalidLines = invalid.slice(0, REPORTED_INVALID_LINES).map(l => {
    if (l.text.length <= REPORTED_LINE_CHARS) return l
    let end = REPORTED_LINE_CHARS
    // Do not split a surrogate pair.
    const c = l.text.charCodeAt(end - 1)
    if (c >= 0xd800 && c <= 0xdbff) end--
    return { ...l, text: l.text.slice(0, end) + '…' }
  })
  return { invalidCount: count, invalidLines }
}

const HASH = 0x23
const CR = 0x0d
const BOM = 0xfeff

/** Whitespace that separates key, value and trailing comment (space, tab, LF, VT, FF, CR). */
function isWs (c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

// Token boundaries of the last scanned line. One shared object so parsing allocates nothing per
// line for them; scan() is synchronous, so no caller can see another caller's values.
const span = { keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0, commentStart: 0, commentEnd: 0 }

/**
 * Finds the key, value and comment of a line and stores their bounds in `span` (an absent value
 * or comment is an empty span).
 * Returns 'blank', 'comment' or 'entry'.
 */
function scan (raw: string, first: boolean): 'blank' | 'comment' | 'entry' {
  const n = raw.length
  let i = first && raw.charCodeAt(0) === BOM ? 1 : 0
  while (i < n && isWs(raw.charCodeAt(i))) i++
  if (i === n) return 'blank'
  if (raw.charCodeAt(i) === HASH) return 'comment'
  span.keyStart = i
  while (i < n && !isWs(raw.charCodeAt(i))) i++
  span.keyEnd = i
  // A trailing comment starts at the first '#' that follows whitespace.
  let comment = n
  for (let p = raw.indexOf('#', i); p >= 0; p = raw.indexOf('#', p + 1)) {
    if (isWs(raw.charCodeAt(p - 1))) {
      comment = p
      break
    }
  }
  while (i < comment && isWs(raw.charCodeAt(i))) i++
  let end = comment
  while (end > i && isWs(raw.charCodeAt(end - 1))) end--
  span.valueStart = i
  span.valueEnd = end
  let commentEnd = n
  while (commentEnd > comment && isWs(raw.charCodeAt(commentEnd - 1))) commentEnd--
  span.commentStart = comment
  span.commentEnd = commentEnd
  return 'entry'
}

/** The field of the line `scan` read last: its value and comment as one string. */
function scannedField (raw: string): string {
  const value = raw.slice(span.valueStart, span.valueEnd)
  if (span.commentStart === span.commentEnd) return value
  const comment = raw.slice(span.commentStart, span.commentEnd)
  return value === '' ? comment : `${value} ${comment}`
}

// Where the comment of a field starts: its first '#' that begins the field or follows
// whitespace (a value never holds one there, see checkValue); -1 when it has none.
function commentAt (field: string): number {
  for (let p = field.indexOf('#'); p >= 0; p = field.indexOf('#', p + 1)) {
    if (p === 0 || isWs(field.charCodeAt(p - 1))) return p
  }
  return -1
}

/** The value part of an entry's field (what the mail server reads): the field without its comment. */
export function fieldValue (field: string): string {
  const p = commentAt(field)
  return p < 0 ? field : field.slice(0, p === 0 ? 0 : p - 1)
}

/** The comment part of an entry's field, from its `#`; '' when it has none. */
export function fieldComment (field: string): string {
  const p = commentAt(field)
  return p < 0 ? '' : field.slice(p)
}

/** True when the field carries a comment (cheap for the common field without a `#`). */
export function hasComment (field: string): boolean {
  return field.includes('#') && commentAt(field) >= 0
}

/** Parses a list file's text; `file` names it in the invalid-line reports. */
export function parseListFile (text: string, file: string): ParsedListFile {
  return parse(text, file, null)
}

/**
 * Parses `text`, a new version of the file `before` was parsed from, as parseListFile would,
 * but reads only the lines between the longest run of equal first lines and of equal last lines
 * again (the key check is most of a parse); the other lines' parses are taken from `before`,
 * which is not changed. A one-line edit of a 100k-line file costs a split and a map build.
 */
export function reparseListFile (before: ParsedListFile, text: string, file: string): ParsedListFile {
  return parse(text, file, before)
}

// Where the lines of `before` can stand in for those of the new text: its first `head` lines
// and its last `tail` lines, which equal the new text's first and last ones.
function commonRuns (before: ParsedListFile, raws: string[]): { head: number, tail: number } {
  const a = before.lines
  let head = 0
  while (head < a.length && head < raws.length && a[head].raw === raws[head]) head++
  let tail = 0
  // The first line is read apart (a byte-order mark), so it only matches another first line.
  for (let i = a.length - 1, j = raws.length - 1; i >= head && j >= head && (i === 0) === (j === 0) && a[i].raw === raws[j]; i--, j--) tail++
  return { head, tail }
}

function parse (text: string, file: string, before: ParsedListFile | null): ParsedListFile {
  const lines: ListLine[] = []
  const entries = new Map<string, string>()
  const invalid: InvalidLine[] = []
  if (text.length === 0) return { lines, entries, invalid, eol: '\n', finalNewline: true }

  const nl = text.indexOf('\n')
  const eol = nl > 0 && text.charCodeAt(nl - 1) === CR ? '\r\n' : '\n'
  const finalNewline = text.charCodeAt(text.length - 1) === 0x0a
  const stop = finalNewline ? text.length - 1 : text.length
  // Duplicates, and their reports, completed after the loop: naming the first line needs a
  // key -> line index that would cost a third of the parse if kept for every line.
  const duplicates: ListLine[] = []
  const duplicateReports: InvalidLine[] = []

  // Bytes that are not UTF-8 were decoded to lone surrogates: only then is each line checked for them.
  const escaped = !isWellFormed(text)
  const raws: string[] = []
  for (let start = 0; start <= stop;) {
    let end = text.indexOf('\n', start)
    if (end < 0 || end > stop) end = stop
    const next = end + 1
    // The CR belongs to the line break, except on an unterminated last line (kept byte-exact).
    if (eol === '\r\n' && end > start && text.charCodeAt(end - 1) === CR && end < text.length) end--
    raws.push(text.slice(start, end))
    start = next
  }
  const { head, tail } = before === null ? { head: 0, tail: 0 } : commonRuns(before, raws)
  const shift = before === null ? 0 : before.lines.length - raws.length

  for (let i = 0; i < raws.length; i++) {
    const line = i + 1
    const raw = raws[i]
    let parsed: ListLine
    if (i < head || i >= raws.length - tail) {
      // Taken from `before`, never changed in place: a copy where its number or kind moves.
      const old = (before as ParsedListFile).lines[i < head ? i : i + shift]
      if (old.kind === 'invalid' && old.key !== undefined) {
        // A duplicate there; whether it is one here is found below.
        parsed = { kind: 'entry', raw, line, key: old.key, value: old.value }
      } else {
        parsed = old.line === line ? old : { ...old, line }
      }
    } else {
      const kind = scan(raw, line === 1)
      if (kind !== 'entry') {
        parsed = { kind, raw, line }
      } else if (escaped && !isWellFormed(raw)) {
        parsed = { kind: 'invalid', raw, line, reason: NOT_UTF8 }
      } else {
        const key = checkKey(raw.slice(span.keyStart, span.keyEnd))
        parsed = typeof key === 'string'
          ? { kind: 'entry', raw, line, key, value: scannedField(raw) }
          : { kind: 'invalid', raw, line, reason: key.reason }
      }
    }
    lines.push(parsed)
    if (parsed.kind !== 'entry') {
      if (parsed.kind === 'invalid') invalid.push({ file, line, reason: parsed.reason as string, text: raw })
      continue
    }
    // One map operation a line: a set that does not grow the map found a duplicate.
    const size = entries.size
    entries.set(parsed.key as string, parsed.value as string)
    if (entries.size !== size) continue
    if (parsed === (before?.lines[i < head ? i : i + shift])) {
      parsed = { ...parsed }
      lines[i] = parsed
    }
    parsed.kind = 'invalid'
    duplicates.push(parsed)
    const report = { file, line, reason: '', text: raw }
    duplicateReports.push(report)
    invalid.push(report)
  }
  if (duplicates.length > 0) nameFirstLines(lines, entries, duplicates, duplicateReports)
  return { lines, entries, invalid, eol, finalNewline }
}

/**
 * Completes the duplicates found by parseListFile: their reason names the key's first line, and
 * the entries map gets back the first line's value (the duplicate's set overwrote it).
 */
function nameFirstLines (lines: readonly ListLine[], entries: Map<string, string>, duplicates: ListLine[], reports: InvalidLine[]): void {
  const first = new Map<string, ListLine | undefined>()
  for (const d of duplicates) first.set(d.key as string, undefined)
  // Every key has one `entry` line by now, the first; later ones were made `invalid`.
  for (const l of lines) if (l.kind === 'entry' && first.has(l.key as string)) first.set(l.key as string, l)
  for (let i = 0; i < duplicates.length; i++) {
    const original = first.get(duplicates[i].key as string) as ListLine
    const reason = `duplicate of line ${original.line}`
    duplicates[i].reason = reason
    reports[i].reason = reason
    entries.set(original.key as string, original.value as string)
  }
}

/**
 * The keys whose entry may differ between two parses of a file: the keys on the lines between
 * the longest run of equal first lines and the longest run of equal last lines. A key with lines
 * only in those runs has the same first line in both, so the same value (or none), which makes
 * a one-line edit of a 100k-line file a diff of one or two keys. (A line's key and value
 * depend only on its text, and for the first line on its being first.)
 */
export function keysOnChangedLines (before: ParsedListFile, after: ParsedListFile): Set<string> {
  const a = before.lines
  const b = after.lines
  let start = 0
  let endA = a.length
  let endB = b.length
  while (start < endA && start < endB && a[start].raw === b[start].raw) start++
  // The first line is read apart (a byte-order mark), so it only matches another first line.
  while (endA > start && endB > start && (endA === 1) === (endB === 1) && a[endA - 1].raw === b[endB - 1].raw) {
    endA--
    endB--
  }
  const keys = new Set<string>()
  for (let i = start; i < endA; i++) if (a[i].key !== undefined) keys.add(a[i].key as string)
  for (let i = start; i < endB; i++) if (b[i].key !== undefined) keys.add(b[i].key as string)
  return keys
}

/**
 * Why a field (value and comment, see the file's header) cannot be written to a list file so
 * that it reads back unchanged, or undefined when it can. Fields read from a list file always
 * can; check fields from elsewhere (an archive) with this.
 */
export function checkValue (field: string): string | undefined {
  const n = field.length
  if (n === 0) return undefined
  for (let i = 0; i < n; i++) {
    const c = field.charCodeAt(i)
    if (c === 0x0a || c === CR) return 'contains a line break'
  }
  if (isWs(field.charCodeAt(0)) || isWs(field.charCodeAt(n - 1))) return 'starts or ends with whitespace'
  const p = commentAt(field)
  // Read back, whitespace before the comment is trimmed and the field rebuilt with one space.
  if (p > 0 && (field.charCodeAt(p - 1) !== 0x20 || isWs(field.charCodeAt(p - 2)))) return 'needs exactly one space before its comment'
  return undefined
}

function assertValue (key: string, value: string): void {
  const problem = checkValue(value)
  if (problem !== undefined) {
    throw new InvalidValueError(`value of ${JSON.stringify(key)} cannot be written: ${problem}`)
  }
}

/** Options of {@link renderListFile}. */
export interface RenderOptions {
  /**
   * The caller vouches that every key is normalised, so new keys are not checked again: the
   * replica's are (a scan parsed them, a merge decoded them from a checked archive), and checking
   * 121k keys was a sixth of an import.
   */
  keysNormalised?: boolean
}

function checkNormalised (key: string): void {
  const canonical = checkKey(key)
  if (typeof canonical !== 'string') throw new InvalidKeyError(`invalid key ${JSON.stringify(key)}: ${canonical.reason}`)
  if (canonical !== key) {
    throw new InvalidKeyError(`key ${JSON.stringify(key)} is not normalised (${JSON.stringify(canonical)})`)
  }
}

function isSorted (keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false
  return true
}

/**
 * An entry line with a new field: original key spelling and separator kept; when the comment
 * stays the same, its bytes and alignment are kept too.
 */
function withValue (line: ListLine, field: string): string {
  const raw = line.raw
  scan(raw, line.line === 1)
  const head = raw.slice(0, span.keyEnd)
  if (fieldComment(field) !== raw.slice(span.commentStart, span.commentEnd)) {
    if (field === '') return head
    const sep = span.valueStart > span.keyEnd ? raw.slice(span.keyEnd, span.valueStart) : ' '
    return head + sep + field
  }
  const value = fieldValue(field)
  if (span.valueStart === span.valueEnd) {
    // No old value: whatever followed the key (spaces, comment) follows the new value.
    return value === '' ? raw : `${head} ${value}${raw.slice(span.keyEnd)}`
  }
  const tail = raw.slice(span.valueEnd)
  return value === '' ? head + tail : head + raw.slice(span.keyEnd, span.valueStart) + value + tail
}

/**
 * The text of a list file holding exactly `desired` (normalised key -> value), written into
 * `previous` (the file as it is now; null for a new file) with as few changes as possible:
 * - comment, blank and invalid lines stay in place, byte-identical;
 * - an entry whose key is still desired with the same value stays byte-identical; with another
 *   value it keeps its key spelling and trailing comment and gets the new value;
 * - an entry whose key is not desired is removed; its duplicate lines are commented out (`# `
 *   prepended, text kept), because left as they are they would bring the key back on the next
 *   parse;
 * - desired keys not in the file are appended, sorted, as `key value` (or `key`).
 * Line breaks and the final-newline convention follow `previous` ('\n' and a final newline for a
 * new file). Throws InvalidKeyError for a key that is not normalised (unchecked with
 * `keysNormalised`) and InvalidValueError for a value that cannot be written (see checkValue),
 * before anything is produced.
 */
export function renderListFile (previous: ParsedListFile | null, desired: ReadonlyMap<string, string>, opts: RenderOptions = {}): string {
  const known = previous?.entries ?? new Map<string, string>()
  return render(previous, desired, addedKeys(known, desired, opts), () => true)
}

/**
 * What renderListFile(null, desired) returns, `desired` being the present ones of `entries`
 * (unique keys): one pass, without the desired map and the added-keys list, which were most of
 * writing the file of a 121k-entry import. Same errors as renderListFile.
 */
export function renderNewListFile (entries: Iterable<{ key: string, value: string, present: boolean }>, opts: RenderOptions = {}): string {
  const keys: string[] = []
  const values: string[] = []
  const checkKeys = opts.keysNormalised !== true
  for (const e of entries) {
    if (!e.present) continue
    if (checkKeys) checkNormalised(e.key)
    if (e.value !== '') assertValue(e.key, e.value)
    keys.push(e.key)
    values.push(e.value)
  }
  // Usually sorted already (the replica's entries of an import come in archive order).
  const order = isSorted(keys) ? null : keys.map((_, i) => i).sort((a, b) => keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0)
  const lines: string[] = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) {
    const k = order === null ? i : order[i]
    lines[i] = values[k] === '' ? keys[k] : `${keys[k]} ${values[k]}`
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n'
}

/**
 * What renderListFile(previous, desired) returns, where `desired` is `previous.entries` with the
 * keys of `changes` set to their value there (undefined: not desired). Reads only the changed keys
 * instead of comparing every line with a desired map, so a one-line change of a 100k-line file
 * needs no 100k-entry map. Same errors as renderListFile.
 */
export function renderListFileChanges (previous: ParsedListFile, changes: ReadonlyMap<string, string | undefined>, opts: RenderOptions = {}): string {
  const desired = new Map<string, string>()
  for (const [key, value] of changes) if (value !== undefined) desired.set(key, value)
  const mayDiffer = (key: string): boolean => changes.has(key)
  const value = (key: string): string | undefined => changes.has(key) ? changes.get(key) : previous.entries.get(key)
  return render(previous, { get: value, has: (key) => value(key) !== undefined }, addedKeys(previous.entries, desired, opts), mayDiffer)
}

/** Desired keys that `known` lacks, sorted; checks keys and values as renderListFile documents. */
function addedKeys (known: ReadonlyMap<string, string>, desired: ReadonlyMap<string, string>, opts: RenderOptions): string[] {
  const added: string[] = []
  const checkKeys = opts.keysNormalised !== true
  for (const [key, value] of desired) {
    const old = known.get(key)
    if (old === undefined) {
      if (checkKeys) checkNormalised(key)
      added.push(key)
    }
    if (old !== value) assertValue(key, value)
  }
  // Already in order when they came so (an import of a sorted archive): no sort needed then.
  if (!isSorted(added)) added.sort()
  return added
}

/**
 * The rendering itself. `mayDiffer(key)` false promises that `desired` holds the key with the
 * value `previous.entries` has, so its lines are kept without a look-up.
 */
function render (
  previous: ParsedListFile | null,
  desired: Pick<ReadonlyMap<string, string>, 'get' | 'has'>,
  added: readonly string[],
  mayDiffer: (key: string) => boolean
): string {
  const out: string[] = []
  if (previous !== null) {
    for (const line of previous.lines) {
      if (line.key === undefined || !mayDiffer(line.key)) {
        out.push(line.raw)
      } else if (line.kind === 'entry') {
        const value = desired.get(line.key)
        if (value === undefined) continue
        out.push(value === line.value ? line.raw : withValue(line, value))
      } else if (line.kind === 'invalid' && !desired.has(line.key)) {
        out.push('# ' + line.raw)
      } else {
        out.push(line.raw)
      }
    }
  }
  for (const key of added) {
    const value = desired.get(key) as string
    out.push(value === '' ? key : `${key} ${value}`)
  }

  const eol = previous?.eol ?? '\n'
  const finalNewline = previous?.finalNewline ?? true
  let text = out.join(eol)
  // Without a final newline an empty last line would vanish, so it keeps its line break (the
  // bytes it had when a removed entry followed it).
  if (out.length > 0 && (finalNewline || out[out.length - 1] === '')) text += eol
  // A byte-order mark belongs to the file, not to its first line: keep it if that line went.
  const first = previous?.lines[0]?.raw
  if (first !== undefined && first.charCodeAt(0) === BOM && text.charCodeAt(0) !== BOM) text = '\uFEFF' + text
  return text
}
