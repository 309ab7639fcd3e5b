/**
 * What a settings file held when last read or written. A scan is diffed against it, never
 * against the replica, so an entry merged but not yet written to the file is never taken for a
 * local delete.
 */
import { listFileName, type ListDataset } from '../constants.js'
import { parseListFile, parseSteps, type ParsedListFile } from '../settings/list-file.js'
import { editBetween, type TextEdit } from '../settings/text-edit.js'

/**
 * A settings file's text as it was, so an unchanged file is recognised without parsing it, and
 * its parse, made only when someone asks for it.
 */
export class FileView {
  private parse: ParsedListFile | undefined

  constructor (readonly dataset: ListDataset, readonly text: string, parsed?: ParsedListFile) {
    this.parse = parsed
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
}
