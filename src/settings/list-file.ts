/**
 * The list file format (whitelist.txt, blacklist.txt, autowhitelist.txt): the files the mail
 * server reads and the operator edits, one entry a line (the line grammar is in list-line.ts).
 * Blank lines are allowed. A line with an invalid key, a second line with an already seen key,
 * or an entry line with bytes that are not UTF-8 (see decodeFileText) is invalid: reported, kept
 * in the file byte for byte, never synced. Rendering is in list-render.ts; the lines are held as
 * columns (list-lines.ts).
 */
import { checkKey } from './list-key.js'
import { CR, scan, scannedField, span } from './list-line.js'
import { LayeredMap, MAX_LAYERS } from './layered-map.js'
import { IndexedEntries, KeyIndex } from './key-index.js'
import { commonPrefix, commonSuffix } from './common-ends.js'
import { kindCode, ListLines } from './list-lines.js'
import { KeyColumn, KeySpans, ownCopy } from './key-column.js'
import { finish } from '../pace.js'
import { editBetween, type ParseEdit, type TextEdit } from './text-edit.js'
import { editedText, readerWellFormed, wholeOf, type TextReader } from './spliced-text.js'

export type { ListLine, LineKind } from './list-lines.js'
export { ListLines } from './list-lines.js'

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
  /** Every line, in order, with the text they are of. */
  lines: ListLines
  /**
   * Normalised key -> field (value and comment), valid lines only, first occurrence of each key:
   * read through the lines (key-index.ts), not held in a Map of every key.
   */
  entries: ReadonlyMap<string, string>
  /** The invalid lines, in order. */
  invalid: InvalidLine[]
  /** Line break style, taken from the first line break ('\n' when there is none). */
  eol: '\n' | '\r\n'
  /** Whether the last line ends with a line break (true for an empty file). */
  finalNewline: boolean
  /** When reparsed from a parse before (reparseListFile): where the texts differ. */
  edit?: ParseEdit<ParsedListFile>
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
  return finish(parseSteps(text, file, null))
}

/**
 * Parses `text`, a new version of the file `before` was parsed from, as parseListFile would.
 * When before has no invalid line and the changed lines (between the texts' longest equal start
 * and end) are whole lines, valid and bring no duplicate, only those are read; the others'
 * columns and key map are taken from `before`, which is not changed. Else every line is parsed.
 */
export function reparseListFile (before: ParsedListFile, text: string, file: string, edit?: TextEdit): ParsedListFile {
  return finish(parseSteps(text, file, before, edit))
}

/** Lines read between two steps of a parse (pace.ts): a few ms of work. */
const LINES_PER_STEP = 1024

const ENTRY = kindCode('entry')
const INVALID = kindCode('invalid')

/**
 * One line read afresh; `escaped`: the text holds bytes that were not UTF-8, so the line is
 * checked for them. The field of an entry is read only when `withValue` (a full parse keeps no
 * field: IndexedEntries reads it from the line when asked). `at`: where the key is written.
 */
function parseLine (raw: string, first: boolean, escaped: boolean, withValue: boolean): { kind: number, key?: string, at?: number, value?: string, reason?: string } {
  const kind = scan(raw, first)
  if (kind !== 'entry') return { kind: kindCode(kind) }
  if (escaped && !isWellFormed(raw)) return { kind: INVALID, reason: NOT_UTF8 }
  const key = checkKey(raw.slice(span.keyStart, span.keyEnd))
  if (typeof key !== 'string') return { kind: INVALID, reason: key.reason }
  return withValue ? { kind: ENTRY, key, at: span.keyStart, value: scannedField(raw) } : { kind: ENTRY, key, at: span.keyStart }
}

/**
 * {@link parseListFile} (`before` null) or {@link reparseListFile} as a generator of its steps,
 * one every {@link LINES_PER_STEP} lines: the scan of a 1M-line file took seconds in one piece.
 * `edit`: where `text` differs from before's, when the caller knows (the texts are not compared then).
 */
export function * parseSteps (text: string, file: string, before: ParsedListFile | null, edit?: TextEdit): Generator<void, ParsedListFile> {
  if (text.length === 0) {
    const starts = Int32Array.of(0)
    return { lines: new ListLines(text, false, true, { starts, kinds: new Uint8Array(0), keys: KeyColumn.of(text, starts, []), reasons: new Map() }), entries: new Map(), invalid: [], eol: '\n', finalNewline: true }
  }
  const read = editedText(text, before?.lines.reader, edit)
  const nl = read.indexOf('\n')
  const eol = nl > 0 && read.charCodeAt(nl - 1) === CR ? '\r\n' : '\n'
  const finalNewline = read.charCodeAt(text.length - 1) === 0x0a
  // Bytes that are not UTF-8 were decoded to lone surrogates: only then is each line checked for them.
  const escaped = !readerWellFormed(read)
  const region = before === null || !finalNewline ? null : editedLines(before, read, eol, edit)
  const edited = region === null ? null : yield * reparseEdit(before as ParsedListFile, text, read, region, escaped)
  if (edited !== null) return { ...edited, eol, finalNewline, edit: regionEdit(before as ParsedListFile, text, region as EditedRegion) }
  const lines: LineRead = { text, file, escaped, crlf: eol === '\r\n', stop: finalNewline ? text.length - 1 : text.length, start: 0, exact: finalNewline, entryLines: 0, starts: [], kinds: [], keys: [], spans: new KeySpans(), reasons: new Map(), invalid: [] }
  while (readLines(lines)) yield
  lines.starts.push(lines.stop + 1)
  // The key index, built once the lines are known: a line whose key an earlier line holds is a duplicate.
  const index = new KeyIndex(lines.entryLines, lines.keys.length)
  const duplicates: InvalidLine[] = []
  for (let from = 0; from < lines.keys.length; from += LINES_PER_STEP) {
    if (from > 0) yield
    indexKeys(lines, index, from, duplicates)
  }
  const { crlf, exact, kinds, spans, reasons, invalid, entryLines } = lines
  const starts = Int32Array.from(lines.starts)
  const made = new ListLines(text, crlf, exact, { starts, kinds: Uint8Array.from(kinds), keys: KeyColumn.fromSpans(text, starts, spans), reasons })
  return { lines: made, entries: new IndexedEntries(made, index, entryLines), invalid: duplicates.length === 0 ? invalid : byLine(invalid, duplicates), eol, finalNewline }
}

/**
 * A full parse's lines as read so far, from `start` on. The loops over them are plain functions
 * a step long ({@link readLines}, {@link indexKeys}), not the generator's own: V8 optimises those,
 * and the same loop inside the generator, run once per file, parsed ~40% slower.
 */
interface LineRead {
  text: string
  file: string
  escaped: boolean
  crlf: boolean
  /** Offset of the last line's end. */
  stop: number
  /** Offset of the next line to read. */
  start: number
  exact: boolean
  entryLines: number
  starts: number[]
  kinds: number[]
  /** The keys as strings, for the key index; the lines keep them as {@link spans}. */
  keys: Array<string | undefined>
  spans: KeySpans
  reasons: Map<number, string>
  invalid: InvalidLine[]
}

/** Reads up to {@link LINES_PER_STEP} lines into `s`; false once every line is read. */
function readLines (s: LineRead): boolean {
  const { text, stop, crlf, escaped, starts, kinds, keys, spans } = s
  let start = s.start
  for (let n = 0; n < LINES_PER_STEP && start <= stop; n++) {
    let end = text.indexOf('\n', start)
    if (end < 0 || end > stop) end = stop
    const next = end + 1
    if (crlf && end < text.length) {
      if (end > start && text.charCodeAt(end - 1) === CR) end--
      else s.exact = false
    }
    const i = starts.push(start) - 1
    const raw = text.slice(start, end)
    const parsed = parseLine(raw, i === 0, escaped, false)
    kinds.push(parsed.kind)
    keys.push(parsed.key)
    spans.add(raw, 0, raw.length, parsed.key, parsed.at)
    start = next
    if (parsed.key !== undefined) s.entryLines++
    else if (parsed.reason !== undefined) {
      s.reasons.set(i, parsed.reason)
      s.invalid.push({ file: s.file, line: i + 1, reason: parsed.reason, text: raw })
    }
  }
  s.start = start
  return start <= stop
}

/** Adds the keys of up to {@link LINES_PER_STEP} lines from `from` to `index`; a line whose key an earlier line holds is marked a duplicate. */
function indexKeys (s: LineRead, index: KeyIndex, from: number, duplicates: InvalidLine[]): void {
  const { keys, kinds } = s
  const keyIs = (l: number, key: string): boolean => keys[l] === key
  for (let i = from; i < Math.min(keys.length, from + LINES_PER_STEP); i++) {
    const key = keys[i]
    if (key === undefined) continue
    const first = index.add(key, i, keyIs)
    if (first < 0) continue
    kinds[i] = INVALID
    s.entryLines--
    const reason = `duplicate of line ${first + 1}`
    s.reasons.set(i, reason)
    duplicates.push({ file: s.file, line: i + 1, reason, text: rawLine(s.text, s.starts, i, s.crlf) })
  }
}

/** Line `i` of `text` as written (see ListLines.raw), before the lines are made. */
function rawLine (text: string, starts: readonly number[], i: number, crlf: boolean): string {
  const start = starts[i]
  let end = Math.min(starts[i + 1] - 1, text.length)
  if (crlf && end > start && end < text.length && text.charCodeAt(end - 1) === CR) end--
  return text.slice(start, end)
}

/** Two lists of invalid lines, each in line order, as one in line order. */
function byLine (a: readonly InvalidLine[], b: readonly InvalidLine[]): InvalidLine[] {
  const out: InvalidLine[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i].line < b[j].line) ? a[i++] : b[j++])
  return out
}

/** The lines of a new text that differ from before's: before's first `head` and last `tail` lines are kept; `middle` replaces the others and starts at `middleStart`. */
interface EditedRegion { head: number, tail: number, middleStart: number, middle: string[] }

/**
 * The parse of a new version of a file whose parse `before` has no invalid line, when the changed
 * lines (`region`) are valid and bring no duplicate: before's columns are copied around them and
 * its key map is shared, with only the changed keys on top ({@link LayeredMap}). Null when that
 * does not hold: the caller parses every line.
 */
function * reparseEdit (before: ParsedListFile, text: string, read: TextReader, region: EditedRegion, escaped: boolean): Generator<void, Pick<ParsedListFile, 'lines' | 'entries' | 'invalid'> | null> {
  const { head, tail, middle } = region
  // A mostly new text (a first scan: nothing kept) is parsed as fast in full, and then with a
  // plain map: reusing it here parsed the 121k-line first scan up to three times (+20%).
  if (before.invalid.length > 0 || head + tail < middle.length) return null
  const old = before.lines
  const cols = old.columns
  const n = old.length
  const changes = new Map<string, string | null>()
  for (let i = head; i < n - tail; i++) {
    if (i % LINES_PER_STEP === LINES_PER_STEP - 1) yield
    const key = cols.keys.get(i)
    // Own copies: a key or value sliced from a text keeps all of that text alive for as long as
    // the layer holds it (up to MAX_LAYERS edits: 15 MB more per one-line edit of a 1M-line file).
    if (key !== undefined) changes.set(ownCopy(key), null)
  }
  const size = head + middle.length + tail
  const starts = new Int32Array(size + 1)
  const kinds = new Uint8Array(size)
  starts.set(cols.starts.subarray(0, head))
  kinds.set(cols.kinds.subarray(0, head))
  const middleKeys = new KeySpans()
  const eolLength = old.crlf ? 2 : 1
  for (let j = 0, at = region.middleStart; j < middle.length; j++) {
    if (j % LINES_PER_STEP === LINES_PER_STEP - 1) yield
    const parsed = parseLine(middle[j], head + j === 0, escaped, true)
    if (parsed.kind === INVALID) return null
    if (parsed.key !== undefined) {
      // A second line of a key (here, or in the lines kept): a duplicate, which the full parse reports.
      if (changes.get(parsed.key) !== null && (changes.has(parsed.key) || before.entries.has(parsed.key))) return null
      changes.set(ownCopy(parsed.key), ownCopy(parsed.value as string))
    }
    starts[head + j] = at
    kinds[head + j] = parsed.kind
    middleKeys.add(middle[j], 0, middle[j].length, parsed.key, parsed.at)
    at += middle[j].length + eolLength
  }
  // The kept last lines are the same characters at the same distance from the text's end.
  const shift = text.length - old.text.length
  for (let i = n - tail, k = head + middle.length; i <= n; i++, k++) starts[k] = cols.starts[i] + shift
  kinds.set(cols.kinds.subarray(n - tail), head + middle.length)
  const lines = new ListLines(text, old.crlf, true, { starts, kinds, keys: cols.keys.splice(head, n - tail - head, middleKeys, read, starts), reasons: new Map() }, read)
  // Layered on the entries before, up to MAX_LAYERS edits; then indexed afresh over these lines
  // (LayeredMap's own flattening would make a Map of every key again).
  const deep = before.entries instanceof LayeredMap && before.entries.layers >= MAX_LAYERS
  return { lines, entries: deep ? IndexedEntries.of(lines) : new LayeredMap(before.entries, changes), invalid: [] }
}

/**
 * Where a new text differs from the text `before` was parsed from, found on the texts: the
 * number of before's first and last lines it keeps, and its lines between them (split from that
 * part only, so a one-line edit of a 1M-line file is not a million slices). Null when before's
 * lines and line breaks are not exactly its text (a line break other than `eol`, no final
 * newline) or the changed part is not made of whole `eol` lines: the caller parses every line.
 */
function editedLines (before: ParsedListFile, text: TextReader, eol: string, edit: TextEdit | undefined): EditedRegion | null {
  const old = before.lines
  if (before.eol !== eol || !old.exact || old.length === 0) return null
  const beforeText = old.text
  const n = old.length
  const prefix = edit?.start ?? commonPrefix(beforeText, wholeOf(text))
  const head = old.wholeLinesWithin(prefix)
  const headChars = old.start(head)
  const suffix = Math.min(edit === undefined ? commonSuffix(beforeText, wholeOf(text), Math.min(beforeText.length, text.length) - headChars) : beforeText.length - edit.oldEnd, Math.min(beforeText.length, text.length) - headChars)
  // The first of before's lines that start within the common end (and after the kept first lines).
  const from = beforeText.length - suffix
  let tail = n - Math.max(head, old.firstStartingFrom(from))
  const tailChars = (t: number): number => beforeText.length - old.start(n - t)
  // The kept last lines must start a line in the new text too, and not be its first (read apart: a byte-order mark).
  while (tail > 0 && (text.length - tailChars(tail) === 0 || text.charCodeAt(text.length - tailChars(tail) - 1) !== 0x0a || head + tail === n && head === 0)) tail--
  const middle: string[] = []
  for (let at = headChars, end = text.length - tailChars(tail); at < end;) {
    const nl = text.indexOf('\n', at)
    if (nl < 0 || nl >= end) return null
    const lineEnd = nl + 1 - eol.length
    // A CRLF file's line ending in a bare LF: the full parse marks the file as not exact.
    if (eol.length === 2 && text.charCodeAt(lineEnd) !== CR) return null
    middle.push(text.slice(at, lineEnd))
    at = nl + 1
  }
  return { head, tail, middleStart: headChars, middle }
}

/** The edit a reparse found: before's text with its lines between `head` and `tail` replaced. */
function regionEdit (before: ParsedListFile, text: string, { tail, middleStart }: EditedRegion): ParseEdit<ParsedListFile> {
  const old = before.lines
  const kept = old.text.length - old.start(old.length - tail)
  return { start: middleStart, oldEnd: old.text.length - kept, newEnd: text.length - kept, base: new WeakRef(before) }
}

/**
 * The keys whose entry may differ between two parses of a file: the keys on the lines between
 * the longest run of equal first lines and the longest run of equal last lines. A key with lines
 * only in those runs has the same first line in both, so the same value (or none), which makes
 * a one-line edit of a 100k-line file a diff of one or two keys. (A line's key and value
 * depend only on its text, and for the first line on its being first.) A generator of its
 * steps (pace.ts), one every {@link LINES_PER_STEP} lines.
 */
export function * keysOnChangedLines (before: ParsedListFile, after: ParsedListFile): Generator<void, Set<string>> {
  const a = before.lines
  const b = after.lines
  let { start, endA, endB } = equalEnds(a, b, editBetween(before, after))
  while (start < endA && start < endB && a.raw(start) === b.raw(start)) {
    start++
    if (start % LINES_PER_STEP === 0) yield
  }
  // The first line is read apart (a byte-order mark), so it only matches another first line.
  while (endA > start && endB > start && (endA === 1) === (endB === 1) && a.raw(endA - 1) === b.raw(endB - 1)) {
    endA--
    endB--
    if (endA % LINES_PER_STEP === 0) yield
  }
  const keys = new Set<string>()
  for (const [lines, end] of [[a, endA], [b, endB]] as const) {
    for (let from = start; from < end; from += LINES_PER_STEP) {
      if (from > start) yield
      addKeys(lines, from, Math.min(end, from + LINES_PER_STEP), keys)
    }
  }
  return keys
}

/** Adds the keys of lines [from, to) to `keys` (a plain function: V8 optimises it, not a long loop in a generator run once). */
function addKeys (lines: ListLines, from: number, to: number, keys: Set<string>): void {
  for (let i = from; i < to; i++) {
    const key = lines.key(i)
    if (key !== undefined) keys.add(key)
  }
}

/**
 * Lines that are certainly equal, found on the texts instead of line by line: the first `start`
 * lines of both, and a's lines from `endA` on and b's from `endB` on. A line whose characters,
 * line break and the line break before it lie in the texts' common start (or end) is read the
 * same from both, when both read their line breaks alike. A known `edit` stands for the texts' comparison.
 */
function equalEnds (a: ListLines, b: ListLines, edit: TextEdit | undefined): { start: number, endA: number, endB: number } {
  if (a.crlf !== b.crlf) return { start: 0, endA: a.length, endB: b.length }
  const start = Math.min(a.wholeLinesWithin(edit?.start ?? commonPrefix(a.text, b.text)), b.length)
  const limit = Math.min(a.text.length, b.text.length) - a.start(start)
  const suffix = Math.min(edit === undefined ? commonSuffix(a.text, b.text, limit) : a.text.length - edit.oldEnd, limit)
  // a's first line (not its first: read apart) whose line break before it lies in the common end.
  const tail = Math.max(0, Math.min(a.length - Math.max(start, 1, a.firstStartingFrom(a.text.length - suffix + 1)), b.length - start))
  return { start, endA: a.length - tail, endB: b.length - tail }
}
