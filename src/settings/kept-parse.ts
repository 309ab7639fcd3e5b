/**
 * What of a list file's parse is kept while its text is let go (a file view of an idle agent,
 * replica/file-view.ts): its columns and its key table, which hold nothing of the text, made
 * into the parse of the same text when it is read back, without parsing it again. The full parse
 * of a 1M-line file after an idle spell was ~2.8 s of CPU (11-15 s under load) on the first change
 * after it, which at that size is most of what an operator's edits are: for ~17 MB held (at 1M
 * lines: line starts 4, kinds 1, key spans 4, key table 8) against the text's 15 MB let go.
 */
import { IndexedEntries } from './key-index.js'
import { ownCopy } from './key-column.js'
import type { ParsedListFile } from './list-file.js'

/** Makes the parse of the text `parsed` was made from, given back. */
export type KeptParse = (text: string) => ParsedListFile

/**
 * What of `parsed` to keep, as a generator of its steps (pace.ts); null when its entries are not
 * exactly its entry lines' keys (then the text read back is parsed again). Entries layered on a
 * parse before (LayeredMap, whose keys are slices of the texts) are indexed afresh over the lines.
 */
export function * keptParseSteps (parsed: ParsedListFile): Generator<void, KeptParse | null> {
  const entries = parsed.entries instanceof IndexedEntries ? parsed.entries : yield * IndexedEntries.steps(parsed.lines)
  if (entries.size !== parsed.entries.size) return null
  const table = yield * entries.tableSteps()
  const lines = parsed.lines.detached()
  const invalid = parsed.invalid.map(l => ({ file: ownCopy(l.file), line: l.line, reason: ownCopy(l.reason), text: ownCopy(l.text) }))
  const { eol, finalNewline } = parsed
  return (text) => {
    const made = lines(text)
    return { lines: made, entries: table(made), invalid: [...invalid], eol, finalNewline }
  }
}
