/**
 * How a file view is stored after a small change: as a patch of the text stored before it
 * (what it keeps of the start and of the end, and the text between), not the whole text again.
 * Rewriting the view of a 1M-line file (15 MB) in LevelDB after every one-line write was a
 * write of the whole list per change, on every node. A view is its full text and the patches on
 * it, applied in order at load ({@link applyViewPatches}: the text is joined once, not copied per
 * patch); a change whose patch is not much smaller than the text, or that would take the patches
 * past {@link MAX_VIEW_PATCHES} or their bytes past {@link MAX_PATCH_SHARE} of the text, stores
 * the full text again. With at most 16 patches the full text was stored every 17th change:
 * ~1.1 s, a whole-list write on a one-line change's path at 1M lines.
 */
import { StoreFormatError } from '../errors.js'
import { commonPrefix, commonSuffix } from '../settings/common-ends.js'
import { decodeFileText, encodeFileText } from '../settings/settings-file.js'
import type { TextEdit } from '../settings/text-edit.js'
import { wholeOf, type TextReader } from '../settings/spliced-text.js'

/** Patches on a stored full text before the next change stores the full text again: one-line changes of a 1M-line list store it once per 1024. */
export const MAX_VIEW_PATCHES = 1024

/** The patches' bytes stay under this share of the text's length (else the full text is stored): what a load reads and applies stays in proportion to the text. */
export const MAX_PATCH_SHARE = 1 / 8

/** A text shorter than this is always stored whole: a patch would save next to nothing. */
export const MIN_PATCHED_TEXT = 64 * 1024

/** Header: kept start and kept end, in UTF-16 units of the text before, each a uint32 LE. */
const HEADER = 8

/**
 * The patch that turns `before` into `after` when storing it beats storing `after` whole (see
 * the module comment), else null. Never splits a surrogate pair. `edit`: where the texts differ,
 * when the caller knows (text-edit.ts): they are not compared then. `after` may be read from its
 * pieces (spliced-text.ts): only the part stored is read then, the text is not made one string.
 */
export function viewPatch (before: TextReader, after: TextReader, edit?: TextEdit): Uint8Array | null {
  if (after.length < MIN_PATCHED_TEXT) return null
  let start = edit?.start ?? commonPrefix(wholeOf(before), wholeOf(after))
  if (start > 0 && isHigh(before.charCodeAt(start - 1))) start--
  const room = Math.min(before.length, after.length) - start
  let end = edit === undefined ? commonSuffix(wholeOf(before), wholeOf(after), room) : Math.min(before.length - edit.oldEnd, room)
  if (end > 0 && isLow(before.charCodeAt(before.length - end))) end--
  // A UTF-8 byte per character at least: most of the text changed, so no need to encode it to know.
  if ((after.length - start - end) * 4 > after.length) return null
  const middle = encodeFileText(after.slice(start, after.length - end))
  if (middle.length * 4 > after.length) return null
  const out = new Uint8Array(HEADER + middle.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, start, true)
  view.setUint32(4, end, true)
  out.set(middle, HEADER)
  return out
}

/** `text` with a patch from {@link viewPatch} applied; StoreFormatError when it does not fit. */
export function applyViewPatch (text: string, patch: Uint8Array, where: string): string {
  return applyViewPatches(text, [[where, patch]])
}

/**
 * `text` with patches from {@link viewPatch} applied in order (each named by where it is stored);
 * StoreFormatError when one does not fit. The text is held as pieces (slices of it and of the
 * patches, which V8 makes without copying) and joined once: joined after each patch, 1024
 * patches on a 15 MB text would copy 15 GB.
 */
export function applyViewPatches (text: string, patches: ReadonlyArray<readonly [string, Uint8Array]>): string {
  if (patches.length === 0) return text
  let pieces = [text]
  let length = text.length
  for (const [where, patch] of patches) {
    if (patch.length < HEADER) throw new StoreFormatError(`${where}: a file view patch of ${patch.length} bytes`)
    const view = new DataView(patch.buffer, patch.byteOffset, patch.byteLength)
    const start = view.getUint32(0, true)
    const end = view.getUint32(4, true)
    if (start + end > length) throw new StoreFormatError(`${where}: keeps ${start} + ${end} characters of a ${length}-character view`)
    const middle = decodeFileText(patch.subarray(HEADER))
    pieces = [...piecesBefore(pieces, start), middle, ...piecesAfter(pieces, end)]
    length = start + middle.length + end
  }
  return pieces.join('')
}

/** The pieces of the first `chars` characters of the text `pieces` make. */
function piecesBefore (pieces: readonly string[], chars: number): string[] {
  const out: string[] = []
  for (let i = 0, left = chars; left > 0; i++) {
    out.push(pieces[i].length <= left ? pieces[i] : pieces[i].slice(0, left))
    left -= pieces[i].length
  }
  return out
}

/** The pieces of the last `chars` characters of the text `pieces` make. */
function piecesAfter (pieces: readonly string[], chars: number): string[] {
  const out: string[] = []
  for (let i = pieces.length - 1, left = chars; left > 0; i--) {
    out.push(pieces[i].length <= left ? pieces[i] : pieces[i].slice(pieces[i].length - left))
    left -= pieces[i].length
  }
  return out.reverse()
}

function isHigh (c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}

function isLow (c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}
