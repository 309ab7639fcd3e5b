/**
 * The lines of a parsed list file held as columns over the file's text: where each line starts,
 * its kind and its key (spans of the text, key-column.ts). No object and no string is kept per
 * line (a 1M-line file held 1M line objects and as many slices: ~100 MB of heap that every garbage collection walked), an edit's
 * reparse copies the columns around the changed lines instead of rebuilding them, and a line is
 * found from a character offset by binary search instead of a walk over every line before it.
 */
import { CR } from './list-line.js'
import { ownCopy, type KeyColumn } from './key-column.js'
import type { TextReader } from './spliced-text.js'
import { lastAtMost } from './sorted-search.js'

/** What a line is; `invalid` lines are kept in the file but never synced. */
export type LineKind = 'entry' | 'comment' | 'blank' | 'invalid'

/** Kinds by their code in the kinds column (append-only). */
const KINDS: readonly LineKind[] = ['entry', 'comment', 'blank', 'invalid']

/** Code of a kind in the kinds column. */
export function kindCode (kind: LineKind): number {
  return KINDS.indexOf(kind)
}

/** One line of a list file, as {@link ListLines.at} builds it when asked. */
export interface ListLine {
  /** What the line is; `invalid` lines are kept in the file but never synced. */
  kind: LineKind
  /** The line as written, without its line break. */
  raw: string
  /** 1-based line number. */
  line: number
  /** Normalised key: set on entries and on duplicates. */
  key?: string
  /** Why an `invalid` line is invalid. */
  reason?: string
}

/** The columns of a file's lines; see {@link ListLines}. */
export interface LineColumns {
  /** Offset of each line's start; the last element is one past the last line break (text.length + 1 without a final newline). */
  starts: Int32Array
  /** Kind code of each line ({@link kindCode}). */
  kinds: Uint8Array
  /** Normalised key of each line (entries and duplicates), undefined for the others: held over the same text and starts. */
  keys: KeyColumn
  /** Why each invalid line is invalid, by line index. */
  reasons: ReadonlyMap<number, string>
}

/** The lines of one text (see the module comment). Never changed once made. */
export class ListLines {
  /** Number of lines. */
  readonly length: number

  constructor (
    /** The text the lines are of. */
    readonly text: string,
    /** CRLF line breaks: a CR before a line's LF belongs to the break, not to the line. */
    readonly crlf: boolean,
    /**
     * Every line break is the file's (`crlf`) and the last line has one: the lines and their
     * breaks are exactly the text, so a line's text and break end where the next line starts.
     */
    readonly exact: boolean,
    private readonly cols: LineColumns,
    /** How the lines read `text`: from the pieces a reparse made it of (spliced-text.ts), so a read does not flatten it. */
    readonly reader: TextReader = text
  ) {
    this.length = cols.kinds.length
  }

  /** The columns, for a reparse that builds the next version's from them. */
  get columns (): Readonly<LineColumns> {
    return this.cols
  }

  /**
   * These lines without their text: made into the same lines over the same characters read back
   * (a file view's text let go, file-view.ts), sharing the columns. Holds nothing of the text.
   */
  detached (): (text: string) => ListLines {
    const { crlf, exact } = this
    const { starts, kinds } = this.cols
    const reasons = new Map([...this.cols.reasons].map(([i, reason]) => [i, ownCopy(reason)]))
    const keys = this.cols.keys.detached()
    return (text) => new ListLines(text, crlf, exact, { starts, kinds, reasons, keys: keys(text, starts) })
  }

  /** Offset of line `i`'s start (`i` = length: one past the last line break). */
  start (i: number): number {
    return this.cols.starts[i]
  }

  /** The kind of line `i`. */
  kind (i: number): LineKind {
    return KINDS[this.cols.kinds[i]]
  }

  /** The key of line `i` (entries and duplicates), or undefined. */
  key (i: number): string | undefined {
    return this.cols.keys.get(i)
  }

  /** Whether the key of line `i` is `key` (no string made). */
  keyIs (i: number, key: string): boolean {
    return this.cols.keys.keyIs(i, key)
  }

  /** Line `i` as written, without its line break. */
  raw (i: number): string {
    const start = this.cols.starts[i]
    const text = this.reader
    let end = Math.min(this.cols.starts[i + 1] - 1, text.length)
    // The CR belongs to the line break, except on an unterminated last line (kept byte-exact).
    if (this.crlf && end > start && end < text.length && text.charCodeAt(end - 1) === CR) end--
    return text.slice(start, end)
  }

  /** Line `i` as an object (built on each call), or undefined past the last line. */
  at (i: number): ListLine | undefined {
    if (i < 0 || i >= this.length) return undefined
    const line: ListLine = { kind: this.kind(i), raw: this.raw(i), line: i + 1 }
    const key = this.cols.keys.get(i)
    if (key !== undefined) line.key = key
    const reason = this.cols.reasons.get(i)
    if (reason !== undefined) line.reason = reason
    return line
  }

  /** The first line from `from` on with the key `key`, or -1 (a native search of the keys column). */
  indexOfKey (key: string, from = 0): number {
    return this.cols.keys.indexOf(key, from)
  }

  /** The lines (indexes, in order) whose key is in `keys`: one pass over the keys column. */
  linesOfKeys (keys: ReadonlySet<string>): number[] {
    return this.cols.keys.indexesOf(keys)
  }

  /** Number of first lines that end, line break included, within the first `offset` characters (binary search). */
  wholeLinesWithin (offset: number): number {
    return lastAtMost(this.cols.starts, this.length, offset)
  }

  /** The first line that starts at or after `offset` (`length` when none does). */
  firstStartingFrom (offset: number): number {
    if (offset <= 0) return 0
    return Math.min(this.wholeLinesWithin(offset - 1) + 1, this.length)
  }

  * [Symbol.iterator] (): IterableIterator<ListLine> {
    for (let i = 0; i < this.length; i++) yield this.at(i) as ListLine
  }
}
