/**
 * Rendering a desired key -> field set back into the operator's list file, changing only the
 * lines it must, so whole-line comments, layout and bad lines survive every sync.
 */
import { InvalidKeyError, InvalidValueError } from '../errors.js'
import { checkKey } from './list-key.js'
import { ListLines, type ListLine, type ParsedListFile } from './list-file.js'
import { kindCode } from './list-lines.js'
import { KeyColumn } from './key-column.js'
import { IndexedEntries } from './key-index.js'
import { BOM, checkValue, fieldComment, fieldValue, scan, span } from './list-line.js'
import type { TextEdit } from './text-edit.js'

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
  if (previous === null) return render(null, desired, addedKeys(new Map(), desired, opts), () => true)
  return renderListFileChanges(previous, listFileChanges(previous, desired), opts)
}

/**
 * The keys whose value in `desired` differs from `previous`'s, with that value (undefined: not
 * desired), as renderListFileChanges takes them: only those lines are looked at then. The first
 * write after a start (the whole set desired) rebuilt and compared every line, seconds for 1M lines.
 */
export function listFileChanges (previous: ParsedListFile, desired: ReadonlyMap<string, string>): Map<string, string | undefined> {
  const changes = new Map<string, string | undefined>()
  for (const [key, value] of desired) if (previous.entries.get(key) !== value) changes.set(key, value)
  for (const key of previous.entries.keys()) if (!desired.has(key)) changes.set(key, undefined)
  return changes
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

/** Present entries to write, in key order: normalised, unique keys and their fields. */
export interface SortedEntries {
  keys: readonly string[]
  values: readonly string[]
}

const ENTRY = kindCode('entry')

/**
 * What renderListFile(previous, desired) returns, and its parse, for a `previous` that holds no
 * entry (an empty file, or comment and blank lines only: the file of an initial sync), `entries`
 * giving every desired one (called only then): previous's text with them appended, one `key field` line each; the
 * parse is built from previous's columns and the entries, as parseListFile would make it. Looking
 * each of 121k keys up in an empty file and parsing the written text again was most of writing
 * an initial sync's file (bench/initial-apply.ts). Null when previous holds an entry or an
 * invalid line, its lines are not exactly its text, or the keys are not in order: the caller
 * renders as usual then. InvalidValueError for a field that cannot be written (checkValue); keys
 * are not checked (the replica's are normalised).
 */
export function renderIntoEntryless (previous: ParsedListFile, entries: () => SortedEntries): { text: string, parsed: ParsedListFile } | null {
  const old = previous.lines
  // Checked before the entries are asked for: ordering them is most of this function's cost.
  if (previous.entries.size > 0 || previous.invalid.length > 0 || !old.exact) return null
  const { keys, values } = entries()
  if (!isSortedUnique(keys)) return null
  const eol = previous.eol
  const n = old.length
  const starts = new Int32Array(n + keys.length + 1)
  starts.set(old.columns.starts.subarray(0, n + 1))
  const kinds = new Uint8Array(n + keys.length)
  kinds.set(old.columns.kinds)
  kinds.fill(ENTRY, n)
  const lines: string[] = new Array(keys.length)
  let at = starts[n]
  for (let i = 0; i < keys.length; i++) {
    const value = values[i]
    if (value !== '') assertValue(keys[i], value)
    const line = value === '' ? keys[i] : `${keys[i]} ${value}`
    lines[i] = line
    at += line.length + eol.length
    starts[n + 1 + i] = at
  }
  if (keys.length === 0) return { text: old.text, parsed: previous }
  const text = old.text + lines.join(eol) + eol
  // previous's lines have no key (no entry, no invalid line).
  const lineKeys: Array<string | undefined> = n === 0 ? (keys as string[]) : new Array<string | undefined>(n).fill(undefined).concat(keys)
  const parsedLines = new ListLines(text, eol === '\r\n', true, { starts, kinds, keys: KeyColumn.of(text, starts, lineKeys), reasons: new Map() })
  const parsed: ParsedListFile = {
    lines: parsedLines,
    // Found through the lines, as parseListFile's are: a Map of every key held them all for as long as the file view.
    entries: IndexedEntries.lazy(parsedLines),
    invalid: [],
    eol,
    finalNewline: true
  }
  return { text, parsed }
}

function isSortedUnique (keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] >= keys[i]) return false
  return true
}

/**
 * What renderListFile(previous, desired) returns, where `desired` is `previous.entries` with the
 * keys of `changes` set to their value there (undefined: not desired). Reads only the changed keys
 * instead of comparing every line with a desired map, so a one-line change of a 100k-line file
 * needs no 100k-entry map. Same errors as renderListFile.
 */
export function renderListFileChanges (previous: ParsedListFile, changes: ReadonlyMap<string, string | undefined>, opts: RenderOptions = {}): string {
  const parts = renderListFileParts(previous, changes, opts)
  return parts.length === 1 ? parts[0] : parts.join('')
}

/**
 * renderListFileChanges' text as the parts it is made of, in order (slices of the previous text
 * and changed lines; one part when nothing changes: `previous.lines.text` itself): a writer can
 * write them without joining them into one string first (15 MB at 1M lines, ~100 ms on a loaded
 * machine, on the path of every change). Same errors.
 */
export function renderListFileParts (previous: ParsedListFile, changes: ReadonlyMap<string, string | undefined>, opts: RenderOptions = {}): string[] {
  return renderListFileEdit(previous, changes, opts).parts
}

/**
 * renderListFileParts' parts, and where they differ from the previous text when the render knows
 * it (spliced: undefined when rendered line by line), so the write's steps after it (its reparse,
 * the stored view's patch) need not compare the 15 MB texts of a 1M-line file to find it again.
 */
export function renderListFileEdit (previous: ParsedListFile, changes: ReadonlyMap<string, string | undefined>, opts: RenderOptions = {}): { parts: string[], edit?: TextEdit } {
  const desired = new Map<string, string>()
  for (const [key, value] of changes) if (value !== undefined) desired.set(key, value)
  const mayDiffer = (key: string): boolean => changes.has(key)
  const value = (key: string): string | undefined => changes.has(key) ? changes.get(key) : previous.entries.get(key)
  const lookup = { get: value, has: (key: string) => value(key) !== undefined }
  const added = addedKeys(previous.entries, desired, opts)
  return splice(previous, lookup, added, linesOfKeys(previous, changes.keys(), changes.size)) ?? { parts: [render(previous, lookup, added, mayDiffer)] }
}

/** Changed keys looked up one by one in the keys column; more are found in one pass over it. */
const KEYS_LOOKED_UP = 32

/**
 * The lines (indexes, in order) of `previous` that hold one of `keys` (`count` of them). In a file
 * without invalid lines a key the entries lack is on no line: an added key (the usual change) is
 * not searched for through the keys column, a million lines at 1M.
 */
function linesOfKeys (previous: ParsedListFile, keys: Iterable<string>, count: number): number[] {
  const lines = previous.lines
  if (count <= KEYS_LOOKED_UP) {
    const found: number[] = []
    const clean = previous.invalid.length === 0
    for (const key of keys) {
      if (clean && !previous.entries.has(key)) continue
      for (let i = lines.indexOfKey(key); i >= 0; i = lines.indexOfKey(key, i + 1)) found.push(i)
    }
    return found.sort((x, y) => x - y)
  }
  return lines.linesOfKeys(new Set(keys))
}

/**
 * What {@link render} returns, as parts to join, made from slices of the text `previous` was parsed from between
 * the lines that change (`changed`: every line whose key may differ, in order), instead of from
 * every line: pushing and joining a million lines was most of writing a one-line change into a
 * 1M-line file. Null when the text is not one the slices can stand for (a line break other than
 * `previous.eol`, no final newline, a changed first line with a byte-order mark): render does it then.
 */
function splice (
  previous: ParsedListFile,
  desired: Pick<ReadonlyMap<string, string>, 'get' | 'has'>,
  added: readonly string[],
  changed: readonly number[]
): { parts: string[], edit: TextEdit } | null {
  const lines = previous.lines
  if (!lines.exact) return null
  const eol = previous.eol
  const text = lines.text
  const parts: string[] = []
  let cut = 0
  // Where the first changed line starts.
  let start = -1
  for (const i of changed) {
    const line = lines.at(i) as ListLine
    if (i === 0 && line.raw.charCodeAt(0) === BOM) return null
    const next = changedLine(line, previous.entries, desired)
    if (next !== line.raw) {
      if (start < 0) start = lines.start(i)
      parts.push(text.slice(cut, lines.start(i)))
      if (next !== null) parts.push(next + eol)
      cut = lines.start(i + 1)
    }
  }
  // Nothing changes: the text itself, not a copy of it.
  if (cut === 0 && added.length === 0) return { parts: [text], edit: { start: text.length, oldEnd: text.length, newEnd: text.length } }
  // The new text up to the old one's `cut`, which the rest of the old text follows unchanged.
  let newCut = 0
  for (const part of parts) newCut += part.length
  parts.push(text.slice(cut))
  if (start < 0) start = text.length
  if (added.length === 0) return { parts, edit: { start, oldEnd: cut, newEnd: newCut } }
  let length = newCut + text.length - cut
  for (const key of added) {
    const value = desired.get(key) as string
    const line = (value === '' ? key : `${key} ${value}`) + eol
    parts.push(line)
    length += line.length
  }
  // Lines appended after the old text's end: the edit reaches both ends.
  return { parts, edit: { start, oldEnd: text.length, newEnd: length } }
}

/** A line whose key may differ, as render writes it: its new text, or null when it goes. `held`: the file's entries. */
function changedLine (line: ListLine, held: ReadonlyMap<string, string>, desired: Pick<ReadonlyMap<string, string>, 'get' | 'has'>): string | null {
  const key = line.key as string
  if (line.kind === 'entry') {
    const value = desired.get(key)
    if (value === undefined) return null
    // An entry line is its key's first: its field is the file's entry.
    return value === held.get(key) ? line.raw : withValue(line, value)
  }
  return line.kind === 'invalid' && !desired.has(key) ? '# ' + line.raw : line.raw
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
    const lines = previous.lines
    for (let i = 0; i < lines.length; i++) {
      const key = lines.key(i)
      if (key === undefined || !mayDiffer(key)) {
        out.push(lines.raw(i))
      } else {
        const next = changedLine(lines.at(i) as ListLine, previous.entries, desired)
        if (next !== null) out.push(next)
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
  const first = previous?.lines.at(0)?.raw
  if (first !== undefined && first.charCodeAt(0) === BOM && text.charCodeAt(0) !== BOM) text = '\uFEFF' + text
  return text
}
