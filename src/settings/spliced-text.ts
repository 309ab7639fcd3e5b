/**
 * A text read as the pieces it was made of: an older text with one part replaced. A scan that
 * found a one-line edit of a 1M-line file makes the new text `old.slice + middle + old.slice`,
 * which V8 holds as a cons string and flattens into one new 15 MB string the first time it is
 * read (indexOf, charCodeAt, slice, isWellFormed all flatten). On a 2-core VM that new string cost
 * 50-100 ms of CPU time (fresh memory pages) between the scan and the upload, on the path of every
 * change. A {@link SplicedText} answers the reads a reparse, a scan's diff and the view's stored
 * patch make (a line, a key, a character, the next line break) from its pieces instead; whoever
 * needs the text as one string still has it (`whole`), and {@link SplicedText.settle} flattens it
 * once the agent is idle (file-views.ts). Pure: no I/O.
 */
import type { TextEdit } from './text-edit.js'
import { lastAtMost } from './sorted-search.js'

/** What a parse reads of its text: a string, or a text held in pieces. */
export type TextReader = string | SplicedText

/** Pieces a text is read from before a splice flattens it first: a read looks for its piece among at most this many. */
export const MAX_PIECES = 32

/**
 * `base` (a text or a text read in pieces) with its characters [start, oldEnd) replaced by
 * `inserted`, read from pieces: slices of the first flat text (V8 slices without copying) and the
 * parts put in. A splice of a spliced text takes its pieces, not the text itself, so a text flattened
 * meanwhile (someone read it as one string) is not kept alive by the next one.
 */
export class SplicedText {
  /** The text as one string (a cons string, flattened by V8 when first read as one). */
  readonly whole: string
  readonly length: number
  private pieces: string[]
  /** Where each piece starts, and the length last. */
  private starts: number[]

  /** `whole`: the text as one string when the caller made it already (it must be these pieces joined). */
  constructor (base: TextReader, start: number, oldEnd: number, inserted: string, whole?: string) {
    if (start < 0 || oldEnd < start || oldEnd > base.length) throw new RangeError(`a splice of [${start}, ${oldEnd}) in a text of ${base.length} characters`)
    // Too many pieces: the older text is flattened first (a read stays a short search).
    if (base instanceof SplicedText && base.pieces.length + 2 > MAX_PIECES) base.settle()
    const old = base instanceof SplicedText ? base.pieces : [base]
    const pieces = [...piecesBetween(old, 0, start), inserted, ...piecesBetween(old, oldEnd, base.length)].filter(p => p.length > 0)
    this.length = base.length - oldEnd + start + inserted.length
    this.whole = whole ?? pieces.reduce((text, piece) => text + piece, '')
    if (this.whole.length !== this.length) throw new RangeError(`a spliced text of ${this.length} characters given as one of ${this.whole.length}`)
    this.pieces = pieces
    this.starts = startsOf(pieces)
  }

  /** How many pieces it is read from. */
  get pieceCount (): number {
    return this.pieces.length
  }

  /** Whether it reads from one flat string now ({@link settle}). */
  get settled (): boolean {
    return this.pieces.length <= 1
  }

  /** Characters [from, to) (clamped as String.prototype.slice clamps non-negative bounds). */
  slice (from: number, to = this.length): string {
    from = Math.max(0, Math.min(from, this.length))
    to = Math.max(from, Math.min(to, this.length))
    const i = this.pieceAt(from)
    if (to <= this.starts[i + 1]) return this.pieces[i].slice(from - this.starts[i], to - this.starts[i])
    // Across pieces: a join of their parts (short for a line or a key).
    let out = ''
    for (let j = i; j < this.pieces.length && this.starts[j] < to; j++) out += this.pieces[j].slice(Math.max(0, from - this.starts[j]), to - this.starts[j])
    return out
  }

  /** The UTF-16 unit at `at` (NaN outside the text). */
  charCodeAt (at: number): number {
    if (at < 0 || at >= this.length) return NaN
    const i = this.pieceAt(at)
    return this.pieces[i].charCodeAt(at - this.starts[i])
  }

  /** Whether `search` is at `at`. */
  startsWith (search: string, at: number): boolean {
    return at >= 0 && at + search.length <= this.length && this.slice(at, at + search.length) === search
  }

  /** The first `char` (one UTF-16 unit) at or after `from`, or -1. */
  indexOf (char: string, from = 0): number {
    if (char.length !== 1) throw new RangeError('SplicedText.indexOf looks for one character')
    if (from >= this.length) return -1
    for (let i = this.pieceAt(Math.max(0, from)); i < this.pieces.length; i++) {
      const found = this.pieces[i].indexOf(char, Math.max(0, from - this.starts[i]))
      if (found >= 0) return found + this.starts[i]
    }
    return -1
  }

  /** False when the text holds a lone surrogate (see readerWellFormed). */
  wellFormed (): boolean {
    // Well-formed pieces cut between characters make a well-formed text; else it is read whole.
    for (let i = 1; i < this.pieces.length; i++) if (isHigh(this.pieces[i - 1].charCodeAt(this.pieces[i - 1].length - 1)) || isLow(this.pieces[i].charCodeAt(0))) return isWellFormedString(this.whole)
    return this.pieces.every(isWellFormedString) || isWellFormedString(this.whole)
  }

  /** Reads from {@link whole}, flattened, from now on: the pieces (and the older text they keep alive) are let go. */
  settle (): void {
    if (this.settled) return
    flatten(this.whole)
    this.pieces = [this.whole]
    this.starts = [0, this.length]
  }

  // The piece holding character `at` (0 <= at < length; the last piece for at = length).
  private pieceAt (at: number): number {
    return lastAtMost(this.starts, this.pieces.length - 1, at)
  }
}

/** The pieces of characters [from, to) of the text `pieces` make. */
function piecesBetween (pieces: readonly string[], from: number, to: number): string[] {
  const out: string[] = []
  for (let i = 0, at = 0; i < pieces.length && at < to; at += pieces[i].length, i++) {
    const end = at + pieces[i].length
    if (end <= from) continue
    out.push(from <= at && end <= to ? pieces[i] : pieces[i].slice(Math.max(0, from - at), Math.min(pieces[i].length, to - at)))
  }
  return out
}

function startsOf (pieces: readonly string[]): number[] {
  const starts = [0]
  for (const piece of pieces) starts.push(starts[starts.length - 1] + piece.length)
  return starts
}

/**
 * The text `parts` make, a render of `base` whose `edit` says where it differs (text-edit.ts),
 * as one string that is not joined yet, and the edit with its inserted part: a reparse reads it
 * from the pieces then. `parts` joined (a new 15 MB string at 1M lines) without an edit.
 */
export function splicedParts (base: TextReader, parts: readonly string[], edit: TextEdit | undefined): { text: string, edit?: TextEdit } {
  if (edit === undefined) return { text: parts.join('') }
  const inserted: string[] = []
  let at = 0
  for (const part of parts) {
    const from = Math.max(at, edit.start)
    const to = Math.min(at + part.length, edit.newEnd)
    if (from < to) inserted.push(part.slice(from - at, to - at))
    at += part.length
  }
  const middle = inserted.join('')
  // An edit that does not fit the parts (never from a render) is not trusted for the pieces.
  if (edit.oldEnd > base.length || base.length - edit.oldEnd + edit.start + middle.length !== at) return { text: parts.join(''), edit }
  return { text: new SplicedText(base, edit.start, edit.oldEnd, middle).whole, edit: { start: edit.start, oldEnd: edit.oldEnd, newEnd: edit.newEnd, inserted: middle } }
}

/** How a reparse reads `text`, an edit of `base`: from base's pieces and the part the edit put in, when the edit has that part apart and fits; else `text` itself. */
export function editedText (text: string, base: TextReader | undefined, edit: TextEdit | undefined): TextReader {
  if (base === undefined || edit?.inserted === undefined || edit.inserted.length !== edit.newEnd - edit.start || base.length - edit.oldEnd + edit.newEnd !== text.length) return text
  return new SplicedText(base, edit.start, edit.oldEnd, edit.inserted, text)
}

/** The text as one string: `text` itself, or a spliced text's whole. */
export function wholeOf (text: TextReader): string {
  return typeof text === 'string' ? text : text.whole
}

/** False when the text holds a lone surrogate (String.prototype.isWellFormed, ES2024), read from the pieces when it is spliced. */
export function readerWellFormed (text: TextReader): boolean {
  return typeof text === 'string' ? isWellFormedString(text) : text.wellFormed()
}

function isWellFormedString (text: string): boolean {
  return (text as unknown as { isWellFormed: () => boolean }).isWellFormed()
}

/** Makes V8 flatten a cons string now (a search reads it as one string). */
function flatten (text: string): void {
  text.indexOf('\u0000')
}

function isHigh (c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}

function isLow (c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}
