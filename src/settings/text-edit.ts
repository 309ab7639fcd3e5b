/**
 * Where a new version of a list file's text differs from the one before, as known by what made
 * it (the render that spliced a write's lines in, the reparse that found the edited lines), so
 * the steps after it (the reparse, a scan's diff, the stored view's patch) need not compare the
 * two texts again: each such comparison read the whole 15 MB text of a 1M-line file, several
 * times per one-line change on every node.
 */
/** The texts agree on their first `start` characters, and the old one from `oldEnd` on is the new one from `newEnd` on. */
export interface TextEdit {
  readonly start: number
  readonly oldEnd: number
  readonly newEnd: number
  /** The new text's characters [start, newEnd), when its maker has them apart (file-text.ts): a reparse reads the new text from its pieces then (spliced-text.ts). */
  readonly inserted?: string
}

/** An edit of the text `from`, found by whoever compared it with the new one (file-text.ts). */
export interface TextEditOf extends TextEdit {
  readonly from: string
}

/** A parse's edit from the parse `P` it was made from; that one is not kept alive by it (a chain of every version's text). */
export interface ParseEdit<P extends object> extends TextEdit {
  readonly base: WeakRef<P>
}

/** The edit that turns `before`'s text into `after`'s, when `after` was parsed from `before` and knows it; else undefined. */
export function editBetween<P extends { edit?: ParseEdit<P> }> (before: P | undefined, after: P | undefined): TextEdit | undefined {
  const edit = after?.edit
  return before !== undefined && edit !== undefined && edit.base.deref() === before ? edit : undefined
}

/** Whether `edit` leaves the text as it was. */
export function changesNothing (edit: TextEdit): boolean {
  return edit.start === edit.oldEnd && edit.start === edit.newEnd
}
