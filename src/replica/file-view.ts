/**
 * What a settings file held when last read or written. A scan is diffed against it, never
 * against the replica, so an entry merged but not yet written to the file is never taken for a
 * local delete.
 */
import { isUtf8 } from 'node:buffer'
import { createHash } from 'node:crypto'
import { listFileName, type ListDataset } from '../constants.js'
import { FileViewReleasedError, StoreFormatError } from '../errors.js'
import { isWellFormed, parseListFile, parseSteps, reportInvalid, type InvalidReport, type ParsedListFile } from '../settings/list-file.js'
import { editBetween, type TextEdit } from '../settings/text-edit.js'
import { ownCopy } from '../settings/key-column.js'
import { keptParseSteps, type KeptParse } from '../settings/kept-parse.js'
import { SplicedText, type TextReader } from '../settings/spliced-text.js'

/**
 * A settings file's text as it was, so an unchanged file is recognised without parsing it, and
 * its parse, made only when someone asks for it. The text and the parse can be let go while
 * the agent is idle ({@link release}; file-views.ts reads the text back from the store), the
 * object, its report of bad lines and the columns of its parse stay (kept-parse.ts).
 */
export class FileView {
  private held: string | null
  private parse: ParsedListFile | undefined
  private report: InvalidReport | undefined
  /** The length and digest of the text let go, to check the text given back against. */
  private gone: { length: number, digest: string } | null = null
  /** What of the parse is kept while the text is let go (kept-parse.ts), once {@link releaseSteps} made it. */
  private kept: KeptParse | null = null

  constructor (readonly dataset: ListDataset, text: string, parsed?: ParsedListFile) {
    this.held = text
    this.parse = parsed
  }

  /** The text; FileViewReleasedError while it is let go. */
  get text (): string {
    if (this.held === null) throw new FileViewReleasedError(`the file view of ${this.dataset} was used while let go`)
    return this.held
  }

  /**
   * The text as its parse reads it: from the pieces a reparse made it of (spliced-text.ts), so a
   * step that reads a part of it (the stored view's patch) does not make it one new string.
   */
  get reader (): TextReader {
    const lines = this.parse?.lines
    return lines !== undefined && lines.text === this.text ? lines.reader : this.text
  }

  /** Makes the text one string if it is read from pieces (spliced-text.ts): they keep the text before alive. */
  settle (): void {
    const reader = this.held === null ? undefined : this.parse?.lines.reader
    if (reader instanceof SplicedText) reader.settle()
  }

  /** True while the text is let go. */
  get released (): boolean {
    return this.held === null
  }

  /** The text parsed (once). */
  get parsed (): ParsedListFile {
    this.parse ??= parseListFile(this.text, listFileName(this.dataset))
    return this.parse
  }

  /** {@link parsed} when made already, else undefined (not made for asking). */
  get parsedIfMade (): ParsedListFile | undefined {
    return this.parse
  }

  /** Where this text differs from `before`'s, when this parse was made from before's and knows it (text-edit.ts). */
  editFrom (before: FileView): TextEdit | undefined {
    return editBetween(before.parse, this.parse)
  }

  /** {@link parsed} as a generator of its steps (pace.ts). */
  * parsedSteps (): Generator<void, ParsedListFile> {
    this.parse ??= yield * parseSteps(this.text, listFileName(this.dataset), null)
    return this.parse
  }

  /** The bad lines as status reports them (bounded), kept while the text is let go. */
  get invalid (): InvalidReport {
    if (this.report === undefined) {
      const report = reportInvalid(this.parsed.invalid)
      // Copies: a line's text is a slice of the whole text and would keep all of it.
      this.report = { ...report, invalidLines: report.invalidLines.map(l => ({ ...l, text: ownCopy(l.text) })) }
    }
    return this.report
  }

  /**
   * Makes, in steps (pace.ts), what {@link release} keeps: the parse (the report of bad lines is
   * made from it) and what of it outlives the text (kept-parse.ts), so the text given back is not
   * parsed again.
   */
  * releaseSteps (): Generator<void, void> {
    const parsed = yield * this.parsedSteps()
    this.kept ??= yield * keptParseSteps(parsed)
  }

  /**
   * Lets go of the text and its parse (made first when there is none, for {@link invalid}), keeping
   * what {@link releaseSteps} made of the parse; returns the text's length.
   */
  release (): number {
    if (this.held === null) return 0
    void this.invalid
    this.gone = { length: this.held.length, digest: viewDigest(this.held) }
    this.held = null
    this.parse = undefined
    return this.gone.length
  }

  /**
   * Takes the text back after {@link release}, and its parse when kept; StoreFormatError when it is
   * not the text let go (`where` names its source). `digest`: the text's {@link viewDigest} when the
   * caller has it (bytesDigest of the bytes it was decoded from).
   */
  restore (text: string, where: string, digest?: string): void {
    if (this.gone === null) return
    if (text.length !== this.gone.length || (digest ?? viewDigest(text)) !== this.gone.digest) {
      throw new StoreFormatError(`${where}: the stored file view of ${this.dataset} is not the text the agent held (${text.length} characters, held ${this.gone.length})`)
    }
    this.held = text
    this.gone = null
    this.parse = this.kept?.(text)
    this.kept = null
  }
}

/**
 * SHA-256 of a text: of its UTF-8 bytes when it is well-formed (one to one then), else of its
 * UTF-16 units (lone surrogates, bytes that were not UTF-8, which UTF-8 would not keep apart);
 * the prefix keeps the two apart. At 1M lines the UTF-16 copy was 30 MB hashed on the first
 * change after an idle spell (3x the time of the 15 MB of UTF-8).
 */
export function viewDigest (text: string): string {
  const wellFormed = isWellFormed(text)
  return createHash('sha256').update(wellFormed ? 'utf8:' : 'utf16:').update(text, wellFormed ? 'utf8' : 'utf16le').digest('hex')
}

/**
 * {@link viewDigest} of the text `bytes` decode to (decodeFileText), from the bytes themselves
 * when they are UTF-8 (the text's UTF-8 is then those bytes), else undefined. A 1M-line view read
 * back after an idle spell was encoded again, 15 MB of new memory, only to be hashed.
 */
export function bytesDigest (bytes: Uint8Array): string | undefined {
  return isUtf8(bytes) ? createHash('sha256').update('utf8:').update(bytes).digest('hex') : undefined
}
