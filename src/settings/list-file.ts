/**
 * The list file format (whitelist.txt, blacklist.txt, autowhitelist.txt): the files the mail
 * server reads and the operator edits, one entry a line (the line grammar is in list-line.ts).
 * Blank lines are allowed. A line with an invalid key, a second line with an already seen key,
 * or an entry line with bytes that are not UTF-8 (see decodeFileText) is invalid: reported, kept
 * in the file byte for byte, never synced. Rendering is in list-render.ts.
 */
import { checkKey } from './list-key.js'
import { CR, scan, scannedField, span } from './list-line.js'
import { LayeredMap } from './layered-map.js'
import { commonPrefix, commonSuffix } from './common-ends.js'

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
  entries: ReadonlyMap<string, string>
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

/** Parses a list file's text; `file` names it in the invalid-line reports. */
export function parseListFile (text: string, file: string): ParsedListFile {
  return parse(text, file, null)
}

/**
 * Parses `text`, a new version of the file `before` was parsed from, as parseListFile would,
 * but reads only the lines between the longest run of equal first lines and of equal last lines
 * again (the key check is most of a parse); the other lines' parses are taken from `before`,
 * which is not changed. With `beforeText` (the text `before` was parsed from), only the lines
 * between the texts' longest equal start and end are split, when that can be done (see editedLines).
 */
export function reparseListFile (before: ParsedListFile, text: string, file: string, beforeText?: string): ParsedListFile {
  return parse(text, file, before, beforeText)
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

function parse (text: string, file: string, before: ParsedListFile | null, beforeText?: string): ParsedListFile {
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
  const region = before === null || beforeText === undefined || !finalNewline ? null : editedLines(before, beforeText, text, eol)
  const fromRegion = region === null ? null : reparseEdit(before as ParsedListFile, region.middle, region.head, region.tail, escaped)
  if (fromRegion !== null) return { ...fromRegion, eol, finalNewline }
  const raws = splitLines(text, eol, stop)
  const { head, tail } = before === null ? { head: 0, tail: 0 } : commonRuns(before, raws)
  const shift = before === null ? 0 : before.lines.length - raws.length
  const edited = before === null ? null : reparseEdit(before, raws.slice(head, raws.length - tail), head, tail, escaped)
  if (edited !== null) return { ...edited, eol, finalNewline }

  for (let i = 0; i < raws.length; i++) {
    const line = i + 1
    const raw = raws[i]
    let parsed = i < head || i >= raws.length - tail
      ? reusedLine((before as ParsedListFile).lines[i < head ? i : i + shift], raw, line)
      : parseLine(raw, line, escaped)
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
 * The parse of a new version of a file whose parse `before` has no invalid line, when the changed
 * lines (between the first `head` and the last `tail`, which equal before's) are valid and bring
 * no duplicate: before's lines are reused around them and its key map is shared, with only the
 * changed keys on top ({@link LayeredMap}). Null when that does not hold: the caller parses every line.
 */
function reparseEdit (before: ParsedListFile, middle: string[], head: number, tail: number, escaped: boolean): Pick<ParsedListFile, 'lines' | 'entries' | 'invalid'> | null {
  // A mostly new text (a first scan: nothing kept) is parsed as fast in full, and then with a
  // plain map: reusing it here parsed the 121k-line first scan up to three times (+20%).
  if (before.invalid.length > 0 || head + tail < middle.length) return null
  const changes = new Map<string, string | null>()
  for (let i = head; i < before.lines.length - tail; i++) {
    const key = before.lines[i].key
    if (key !== undefined) changes.set(key, null)
  }
  const lines = before.lines.slice(0, head)
  for (let i = 0; i < middle.length; i++) {
    const parsed = parseLine(middle[i], head + i + 1, escaped)
    if (parsed.kind === 'invalid') return null
    if (parsed.kind === 'entry') {
      const key = parsed.key as string
      // A second line of a key (here, or in the lines kept): a duplicate, which the full parse reports.
      if (changes.get(key) !== null && (changes.has(key) || before.entries.has(key))) return null
      changes.set(key, parsed.value as string)
    }
    lines.push(parsed)
  }
  for (let i = before.lines.length - tail; i < before.lines.length; i++) {
    const old = before.lines[i]
    lines.push(reusedLine(old, old.raw, lines.length + 1))
  }
  return { lines, entries: new LayeredMap(before.entries, changes), invalid: [] }
}

/**
 * Where a new text differs from the text `before` was parsed from, found on the texts: the
 * number of before's first and last lines it keeps, and its lines between them (split from that
 * part only, so a one-line edit of a 1M-line file is not a million slices). Null when before's
 * lines and line breaks are not exactly its text (a line break other than `eol`, no final
 * newline) or the changed part is not made of whole `eol` lines: the caller splits every line.
 */
function editedLines (before: ParsedListFile, beforeText: string, text: string, eol: string): { head: number, tail: number, middle: string[] } | null {
  if (before.eol !== eol || !before.finalNewline) return null
  const lines = before.lines
  let length = 0
  for (let i = 0; i < lines.length; i++) length += lines[i].raw.length + eol.length
  if (length !== beforeText.length) return null
  const prefix = commonPrefix(beforeText, text)
  let head = 0
  let headChars = 0
  while (head < lines.length && headChars + lines[head].raw.length + eol.length <= prefix) headChars += lines[head++].raw.length + eol.length
  const suffix = commonSuffix(beforeText, text, Math.min(beforeText.length, text.length) - headChars)
  let tail = 0
  let tailChars = 0
  while (head + tail < lines.length && tailChars + lines[lines.length - 1 - tail].raw.length + eol.length <= suffix) tailChars += lines[lines.length - 1 - tail++].raw.length + eol.length
  // The kept last lines must start a line in the new text too, and not be its first (read apart: a byte-order mark).
  while (tail > 0 && (text.length - tailChars === 0 || text.charCodeAt(text.length - tailChars - 1) !== 0x0a || head + tail === lines.length && head === 0)) tailChars -= lines[lines.length - tail--].raw.length + eol.length
  const middle: string[] = []
  for (let at = headChars, end = text.length - tailChars; at < end;) {
    const nl = text.indexOf('\n', at)
    if (nl < 0 || nl >= end) return null
    const lineEnd = nl + 1 - eol.length
    // A CRLF file's line ending in a bare LF: the full split keeps it apart.
    if (eol.length === 2 && text.charCodeAt(lineEnd) !== CR) return null
    middle.push(text.slice(at, lineEnd))
    at = nl + 1
  }
  return { head, tail, middle }
}

/** The lines of `text` up to `stop`, without their line breaks. */
function splitLines (text: string, eol: '\n' | '\r\n', stop: number): string[] {
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
  return raws
}

/** A line of the earlier parse standing in for `raw`: never changed in place, a copy where its number or kind moves. */
function reusedLine (old: ListLine, raw: string, line: number): ListLine {
  // A duplicate there; whether it is one here is found by the caller.
  if (old.kind === 'invalid' && old.key !== undefined) return { kind: 'entry', raw, line, key: old.key, value: old.value }
  return old.line === line ? old : { ...old, line }
}

/** One line read afresh; `escaped`: the text holds bytes that were not UTF-8, so the line is checked for them. */
function parseLine (raw: string, line: number, escaped: boolean): ListLine {
  const kind = scan(raw, line === 1)
  if (kind !== 'entry') return { kind, raw, line }
  if (escaped && !isWellFormed(raw)) return { kind: 'invalid', raw, line, reason: NOT_UTF8 }
  const key = checkKey(raw.slice(span.keyStart, span.keyEnd))
  return typeof key === 'string'
    ? { kind: 'entry', raw, line, key, value: scannedField(raw) }
    : { kind: 'invalid', raw, line, reason: key.reason }
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

