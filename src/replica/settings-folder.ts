/**
 * The settings folder as the mail server sees it: reads the list files into the replica and
 * writes the replica back into them, keeping every comment and bad line of the operator's.
 *
 * A missing list file is not "delete everything": a folder that is not mounted yet must not
 * wipe a cluster's lists. It is left alone by scans and created by the next write (at the
 * latest when the agent starts).
 *
 * A file that may not be read (a symlink out of the folder, not a regular file, larger than
 * maxSettingsFileBytes) is left alone by scans and writes alike; its error is shown in status.
 */
import { join } from 'node:path'
import { LIST_DATASETS, listFileName, type ListDataset } from '../constants.js'
import { parseListFile, reparseListFile, reportInvalid, type InvalidReport, type ParsedListFile } from '../settings/list-file.js'
import { listFileChanges, renderIntoEntryless, renderListFileEdit, renderNewListFile } from '../settings/list-render.js'
import type { TextEdit, TextEditOf } from '../settings/text-edit.js'
import { createSettingsFile, decodeFileText, DEFAULT_MAX_SETTINGS_FILE_BYTES, encodeFileText, openSettingsFile, readSettingsFile, replaceSettingsFile, resolveSettingsFile, type KnownFile, type OpenedSettingsFile, type ReadSettingsFile } from '../settings/settings-file.js'
import { settledSignature, type FileSignature } from '../settings/file-signature.js'
import { appendSettingsFile, renderedAppend, settleAppend } from '../settings/file-append.js'
import { fileTextFrom, fileTextIn } from '../settings/file-text.js'
import { splicedParts } from '../settings/spliced-text.js'
import { workAhead } from '../work-ahead.js'
import { SettingsFileBusyError, errorMessage } from '../errors.js'
import type { ListReplica } from './list-replica.js'
import type { StoredEntry } from '../store/state-store.js'
import type { FileView } from './file-view.js'
import { ReplacedFiles } from './replaced-files.js'
import { trace } from '../trace.js'

/** What one scan of the folder found. */
export interface ScanResult {
  /** Entries that changed the replica, per dataset (only datasets with changes). */
  changed: Map<ListDataset, StoredEntry[]>
  /** Files that cannot be read, with why, when that is new since the last scan (a known problem is not repeated). */
  failed: Array<{ dataset: ListDataset, error: unknown }>
  /**
   * Datasets with lines found in a replaced file (written to it after the rename): stamped, but
   * in no settings file; the caller writes them (SettingsWriter.scanLists).
   */
  late: ListDataset[]
}

/**
 * Rounds of read, render and conditional replace before a write gives up for now (an operator
 * or a program that rewrites the file without pause); the engine tries again at its next tick.
 */
const MAX_WRITE_ROUNDS = 20

/** Reads and writes the list files of one settings folder. */
export class SettingsFolder {
  /** Datasets whose file was missing at the last read. */
  private readonly missing = new Set<ListDataset>()
  /** Why a dataset's file could not be read or written at the last try (`Name: message`). */
  private readonly problems = new Map<ListDataset, string>()
  /**
   * Per dataset, the signature of the file while it holds exactly the text of `view` (the file
   * view then): a scan or write that finds it neither reads nor decodes the file (see
   * file-signature.ts). Void once the replica's file view is another (weak: an old view's parse is not kept).
   */
  private readonly signatures = new Map<ListDataset, { signature: FileSignature, view: WeakRef<FileView> }>()
  /** The files writes replaced, followed for lines written to them after the rename. */
  private readonly replacedFiles: ReplacedFiles
  /** Operator edits stamped by writes (found while writing, not by a scan); the engine uploads or versions them. */
  editsStampedByWrites = 0

  constructor (readonly dir: string, private readonly replica: ListReplica, private readonly maxFileBytes = DEFAULT_MAX_SETTINGS_FILE_BYTES) {
    this.replacedFiles = new ReplacedFiles(replica, maxFileBytes)
  }

  /** Path of a dataset's file. */
  path (dataset: ListDataset): string {
    return join(this.dir, listFileName(dataset))
  }

  /**
   * The bad lines of each file as last read or written, as reported to the operator (bounded;
   * none for a missing file). A file that did not change since it was stored is parsed only here.
   */
  get invalid (): Map<ListDataset, InvalidReport> {
    const out = new Map<ListDataset, InvalidReport>()
    for (const ds of LIST_DATASETS) out.set(ds, this.missing.has(ds) || this.problems.has(ds) ? reportInvalid([]) : this.replica.currentFileView(ds).invalid)
    return out
  }

  /** Why a dataset's file is left alone (`Name: message`), or undefined when it is not. */
  problem (dataset: ListDataset): string | undefined {
    return this.problems.get(dataset)
  }

  /**
   * Scans every list file and stamps what the operator changed. A file that cannot be read is
   * skipped (see {@link problem}); the others are scanned. A file that still holds the file view
   * (its signature says so) is not read, nor is the view's text read back if it was let go.
   */
  async scan (): Promise<ScanResult> {
    return await this.replica.holdingFileViews(async () => await this.scanHeld())
  }

  private async scanHeld (): Promise<ScanResult> {
    const changed = new Map<ListDataset, StoredEntry[]>()
    const failed: ScanResult['failed'] = []
    const lateIn: ListDataset[] = []
    for (const dataset of LIST_DATASETS) {
      const late = await this.replacedFiles.check(dataset)
      if (late.length > 0) {
        changed.set(dataset, late)
        lateIn.push(dataset)
      }
      const known = this.problems.get(dataset)
      let file: OpenedSettingsFile | null
      try {
        file = await this.open(dataset, openSettingsFile)
      } catch (error) {
        if (this.problems.get(dataset) !== known) failed.push({ dataset, error })
        continue
      }
      if (file === null) continue
      let found: Awaited<ReturnType<SettingsFolder['scanText']>>
      try {
        if (file.known) continue
        workAhead(Number(file.stat.size))
        trace('scan-read', `${dataset} ${file.stat.size}`)
        found = await this.scanText(dataset, file)
      } finally {
        await file.handle.close()
      }
      if (found === null) continue
      const { text, edit, signature } = found
      trace('scan-compared', `${dataset} ${edit === undefined ? 'decoded' : `${edit.start}-${edit.oldEnd}`}`)
      const changes = await this.replica.applyScan(dataset, text, undefined, undefined, edit)
      trace('scan-applied', `${dataset} ${changes.length}`)
      this.remember(dataset, signature)
      if (changes.length > 0) changed.set(dataset, [...(changed.get(dataset) ?? []), ...changes])
    }
    return { changed, failed, late: lateIn }
  }

  /**
   * The text of a file a scan opened (`file`, not read yet), where it differs from the file view's
   * and the signature to record for it: compared with the view in place and only the bytes that
   * differ read (file-text.ts fileTextIn). A file that changed while it was compared, or a view
   * with bytes that were not UTF-8, is read whole as a write reads it (null: it is gone now).
   */
  private async scanText (dataset: ListDataset, file: OpenedSettingsFile): Promise<{ text: string, edit?: TextEditOf, signature: FileSignature | null } | null> {
    const view = await this.replica.fileView(dataset)
    const viewText = view.text
    // Compared with the view's pieces when it is read from them: not made one string for it.
    const found = fileTextIn(view.reader, file.handle.fd, Number(file.stat.size))
    const signature = found === null ? 'changed' : await settledSignature(file)
    if (found !== null && signature !== 'changed') return { text: found.text, edit: { from: viewText, ...found.edit }, signature }
    const read = await this.open(dataset, readSettingsFile)
    if (read === null) return null
    try {
      return { ...await this.textOf(dataset, read), signature: read.signature }
    } finally {
      await read.handle.close()
    }
  }

  /**
   * Writes the replica's present entries into the dataset's file, after one more scan so an
   * edit made since the last scan is stamped first and not overwritten. The file is replaced
   * only while it is still the one scanned (replaceSettingsFile): when the operator changed it
   * meanwhile, it is scanned and rendered again, so no edit is lost to the write. Returns whether
   * the file's content changed. Throws what open() throws, and SettingsFileBusyError when the file
   * never held still; nothing was overwritten then.
   */
  async write (dataset: ListDataset): Promise<boolean> {
    return await this.replica.holdingFileViews(async () => {
      // Read back first if let go: a known file's bytes are the view's text (see known()).
      await this.replica.fileView(dataset)
      return await this.writeHeld(dataset)
    })
  }

  private async writeHeld (dataset: ListDataset): Promise<boolean> {
    let changed = false
    // After an edit that reached the replaced file only after the rename: the text the file on
    // disk holds (ours) while the file view holds the operator's text.
    let ours: string | undefined
    this.editsStampedByWrites += (await this.replacedFiles.check(dataset)).length
    for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
      const file = await this.open(dataset)
      let keep = false
      try {
        // A file the operator created meanwhile is read in the next round.
        if (file === null) {
          if (await this.create(dataset)) return true
          continue
        }
        const { text, edit: read } = await this.textOf(dataset, file)
        ours = await this.scanRound(dataset, file, text, ours, read)
        // After the scan the file view is the file as it is now, or the operator's text.
        const view = await this.replica.fileView(dataset)
        const before = view.parsed
        // Written as parts, joined only after the rename: the line is in the file the sooner.
        const { parts, parsed: rendered, edit } = this.render(dataset, before)
        if (parts.length === 1 && parts[0] === text) {
          await this.replica.recordFileView(dataset, text, view.text === text ? before : undefined)
          this.remember(dataset, file.signature)
          return changed
        }
        trace('write-rendered', `${dataset} ${parts.length}`)
        // Lines added at the end of the file as it is (the usual change) are appended in place:
        // replacing a 1M-line file wrote 15 MB for one line on every node.
        const appended = text === view.text ? renderedAppend(parts, edit, text.length) : null
        if (appended !== null) {
          const outcome = await this.append(dataset, file, appended, before, parts, edit)
          if (outcome !== 'changed') changed = true
          if (outcome === 'appended') return true
          // Changed before the append: read again; someone else wrote to the file too: the next round scans it.
          ours = undefined
          continue
        }
        const outcome = await this.replace(dataset, file, before, { parts, parsed: rendered, edit })
        if (outcome === 'changed') continue
        // The replaced file is kept open (replaced-files.ts).
        keep = true
        changed = true
        if (outcome === 'replaced') return true
        ours = outcome.late
      } finally {
        if (!keep) await file?.handle.close()
      }
    }
    throw new SettingsFileBusyError(`${this.path(dataset)} changed on every one of ${MAX_WRITE_ROUNDS} tries to write it; it is written at the next try`)
  }

  // Creates a missing file with the present entries; false when the operator created it meanwhile.
  private async create (dataset: ListDataset): Promise<boolean> {
    // The replica's keys come unique and in order; renderNewListFile stays for keys that would not.
    const next = renderIntoEntryless(parseListFile('', listFileName(dataset)), () => this.replica.presentInKeyOrder(dataset)) ??
      { text: renderNewListFile(this.replica.entries(dataset), { keysNormalised: true }), parsed: undefined }
    if (!await createSettingsFile(this.dir, listFileName(dataset), [next.text])) return false
    this.missing.delete(dataset)
    await this.replica.recordFileView(dataset, next.text, next.parsed)
    return true
  }

  /**
   * Replaces the file with a render of `before` (settings-file.ts) and records the new text as the
   * file view: 'changed' when the file changed before the rename (nothing written); `late`: the
   * text written, when lines written to a replaced file meanwhile are not in it (stamped here,
   * still unwritten: write again).
   */
  private async replace (dataset: ListDataset, file: ReadSettingsFile, before: ParsedListFile, render: ReturnType<SettingsFolder['render']>): Promise<'changed' | 'replaced' | { late: string }> {
    const { parts, parsed: rendered, edit } = render
    const outcome = await replaceSettingsFile(file, parts)
    if (outcome.kind === 'changed') return 'changed'
    this.signatures.delete(dataset)
    const late = await this.replacedFiles.keep(dataset, file, outcome.lost)
    this.editsStampedByWrites += late
    const { text: next, edit: spliced } = parts.length === 1 || rendered !== undefined ? { text: parts.join(''), edit } : splicedParts(before.lines.reader, parts, edit)
    // The new text's parse from the old one, reading only the changed lines: parsing a big
    // file anew after every one-line write was most of the cost of applying a change.
    const parsed = rendered ?? reparseListFile(before, next, listFileName(dataset), spliced)
    trace('write-reparsed', dataset)
    if (outcome.lost === undefined && late === 0) {
      await this.replica.recordFileView(dataset, next, parsed)
      this.remember(dataset, outcome.signature)
      return 'replaced'
    }
    // Lines written to the old file between the check and the rename (scanned here), or to an
    // older replaced file after the render, are not in `next`.
    if (outcome.lost !== undefined) this.editsStampedByWrites += (await this.replica.applyScan(dataset, decodeFileText(outcome.lost))).length
    return { late: next }
  }

  /**
   * Appends `bytes`, the lines a render (`parts`, `edit`) adds after `before`'s text, to the file
   * (file-append.ts), and records the new text as the file view: 'others' when someone else wrote
   * to the file as well, 'changed' when it changed before the append (nothing appended).
   */
  private async append (dataset: ListDataset, file: ReadSettingsFile, bytes: Buffer, before: ParsedListFile, parts: string[], edit: TextEdit | undefined): Promise<'changed' | 'appended' | 'others'> {
    const outcome = await appendSettingsFile(file, bytes, async (record) => { await this.replica.appends.begin(dataset, record) })
    if (outcome.kind === 'changed') return 'changed'
    this.signatures.delete(dataset)
    // Read from before's text and the lines appended (spliced-text.ts), not joined into one new string.
    const { text: next, edit: spliced } = splicedParts(before.lines.reader, parts, edit)
    await this.replica.recordFileView(dataset, next, reparseListFile(before, next, listFileName(dataset), spliced))
    trace('write-appended', dataset)
    this.remember(dataset, outcome.signature)
    return outcome.others ? 'others' : 'appended'
  }

  /**
   * The parts of the text a write puts in place of `before` (the file view's parse), and its parse
   * when made with them: into a file without entries (an initial sync) the present entries are
   * appended and their lines' parse built from them (renderIntoEntryless).
   */
  private render (dataset: ListDataset, before: ParsedListFile): { parts: string[], parsed?: ParsedListFile, edit?: TextEdit } {
    const changes = this.replica.unwrittenChanges(dataset)
    const appended = changes === undefined ? renderIntoEntryless(before, () => this.replica.presentInKeyOrder(dataset)) : null
    if (appended !== null) return { parts: [appended.text], parsed: appended.parsed }
    // The replica's keys are normalised already (a scan parsed them or a checked archive brought them).
    return renderListFileEdit(before, changes ?? listFileChanges(before, this.replica.desired(dataset)), { keysNormalised: true })
  }

  /**
   * The text of a file a scan or a write round read, and where it differs from the file view's
   * (`edit.from`), when found by comparing the bytes with the view in place (file-text.ts): only
   * the bytes that differ are decoded. A known file holds the view's text: nothing to read or
   * scan. A text equal to the view's is the view's own string: the comparisons after this one
   * (the scan, the render, the record) are then of references, not of 15 MB each at 1M lines.
   */
  private async textOf (dataset: ListDataset, file: ReadSettingsFile): Promise<{ text: string, edit?: TextEditOf }> {
    const viewText = (await this.replica.fileView(dataset)).text
    if (file.known) return { text: viewText }
    const found = fileTextFrom(viewText, file.bytes)
    if (found === null) {
      const read = decodeFileText(file.bytes)
      return { text: read === viewText ? viewText : read }
    }
    return { text: found.text, edit: { from: viewText, ...found.edit } }
  }

  /**
   * Scans the file a write round read (`text`), unless it still holds `ours`, the text this loop
   * wrote: the file view (the operator's text) is rendered on then; `edit`: where `text` differs
   * from the view's, when known. Returns what `ours` is now:
   * kept until a scan made the view the file's text, as a scan from the view would take the
   * lines it holds and the file lacks (a line found in the replaced file) for removals.
   */
  private async scanRound (dataset: ListDataset, file: ReadSettingsFile, text: string, ours: string | undefined, edit: TextEditOf | undefined): Promise<string | undefined> {
    if (file.known || (ours !== undefined && file.bytes.equals(encodeFileText(ours)))) return ours
    this.editsStampedByWrites += (await this.replica.applyScan(dataset, text, undefined, ours, edit)).length
    return undefined
  }

  /** Closes the files kept open (replaced files followed for appends). */
  async close (): Promise<void> {
    await this.replacedFiles.close()
  }

  // Settles an append to the file that a crash or a failure left unfinished (file-append.ts)
  // before the file is read: its bytes are never scanned as the operator's.
  private async settleAppend (dataset: ListDataset): Promise<void> {
    const record = this.replica.appends.pending(dataset)
    if (record === undefined) return
    const found = await settleAppend(await resolveSettingsFile(this.dir, listFileName(dataset)), record)
    trace('append-settled', `${dataset} ${found}`)
    await this.replica.appends.drop(dataset)
  }

  // What the file holds while it has the signature recorded for the present file view. Its
  // bytes are asked for only by a write (a file it replaced), which read the view back first.
  private known (dataset: ListDataset): KnownFile | undefined {
    const known = this.signatures.get(dataset)
    const view = this.replica.currentFileView(dataset)
    if (known === undefined || known.view.deref() !== view) return undefined
    if (view.released) return { signature: known.signature, bytes: () => encodeFileText(view.text) }
    // The text only: the view would keep its parse (a key map of the whole list) alive.
    const text = view.text
    return { signature: known.signature, bytes: () => encodeFileText(text) }
  }

  // Records that the file, with `signature` (none: not to be trusted), holds the file view's text.
  private remember (dataset: ListDataset, signature: FileSignature | null): void {
    if (signature === null) this.signatures.delete(dataset)
    else this.signatures.set(dataset, { signature, view: new WeakRef(this.replica.currentFileView(dataset)) })
  }

  /**
   * Reads a dataset's file (null when missing) and keeps track of why it cannot be, for status.
   * The caller closes the handle.
   */
  private async open<F extends OpenedSettingsFile = ReadSettingsFile> (dataset: ListDataset, how: (dir: string, name: string, maxBytes: number, known?: KnownFile) => Promise<F | null> = readSettingsFile as never): Promise<F | null> {
    let file: F | null
    try {
      await this.settleAppend(dataset)
      file = await how(this.dir, listFileName(dataset), this.maxFileBytes, this.known(dataset))
    } catch (err: any) {
      this.problems.set(dataset, `${err?.name ?? 'Error'}: ${errorMessage(err)}`)
      throw err
    }
    this.problems.delete(dataset)
    if (file === null) this.missing.add(dataset)
    else this.missing.delete(dataset)
    return file
  }
}
