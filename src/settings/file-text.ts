/**
 * A settings file's text found from its bytes and the text it held before, the two compared in
 * place with the old text's encoding, a chunk at a time (an encode into a small buffer, then one
 * native comparison), from the start and from the end. A file found unchanged is not decoded at all, and a changed one's edit is known
 * without comparing the two texts again (text-edit.ts): decoding a 1M-line file (15 MB) into a
 * new string and comparing it with the old text, twice per change at the origin (the scan, then
 * the write's round), was most of its scan of a one-line edit. Every byte is compared, so an
 * edit anywhere, of any size, is found. {@link fileTextIn} compares the file itself, read a chunk
 * at a time into one small buffer, and reads only the bytes that differ: a new 15 MB buffer for
 * every scan of a 1M-line file cost 50-100 ms of CPU time on a 2-core VM (fresh pages).
 */
import { Buffer } from 'node:buffer'
import { readAt } from './read-at.js'
import { isWellFormed } from './list-file.js'
import { readerWellFormed, wholeOf, type TextReader } from './spliced-text.js'
import { decodeFileText } from './settings-file.js'
import type { TextEdit } from './text-edit.js'

/** UTF-16 units of the old text encoded and compared at once. */
const CHUNK = 16 * 1024

/** Room for a chunk's UTF-8 (at most 3 bytes per UTF-16 unit). */
const scratch = Buffer.allocUnsafe(CHUNK * 3)

/** A file's text, and where it differs from the text before. */
export interface FileText {
  /** The bytes decoded as decodeFileText decodes them; `before` itself when they are its encoding. */
  text: string
  /** Where `text` differs from `before`. */
  edit: TextEdit
}

/** A file's bytes, read a window at a time: `window` gives the up to `n` bytes from `pos` (fewer at the end), valid until the next call. */
interface ByteSource {
  length: number
  window: (pos: number, n: number) => Uint8Array
}

/**
 * `bytes` as text (decodeFileText), found against `before`, the text the file held before; null
 * when `before` holds bytes that were not UTF-8 (lone surrogates: its encoding is not UTF-8's),
 * where the caller decodes the bytes whole. A changed file is decoded whole all the same: a text
 * pieced together from `before` and the changed bytes is flattened by its first reader into a
 * new string on V8's heap (at 1M lines slower than the decode into a string outside it, and
 * more work for the collector), so only the comparison of the texts is saved then.
 */
export function fileTextFrom (before: string, bytes: Uint8Array): FileText | null {
  if (!isWellFormed(before)) return null
  const found = commonParts(before, { length: bytes.length, window: (pos, n) => bytes.subarray(pos, pos + n) })
  if (found === null) return { text: before, edit: unchanged(before) }
  const text = decodeFileText(bytes)
  return { text, edit: { start: found.start.chars, oldEnd: before.length - found.end.chars, newEnd: text.length - found.end.chars } }
}

/**
 * What the file open as `fd` holds, its first `size` bytes, as text (decodeFileText of those
 * bytes), found against `before` as {@link fileTextFrom} finds it, without reading the file into
 * memory: it is compared a chunk at a time, and only the bytes between the common start and end
 * are read and decoded, the text being `before`'s start, those and `before`'s end. Null as for
 * fileTextFrom. The caller makes sure the file did not change while it was compared. `before`
 * may be read from pieces (spliced-text.ts): it is not made one string then.
 */
export function fileTextIn (before: TextReader, fd: number, size: number): FileText | null {
  if (!readerWellFormed(before)) return null
  const found = commonParts(before, fileWindows(fd, size))
  if (found === null) return { text: wholeOf(before), edit: unchanged(before) }
  const { start, end } = found
  const middle = decodeFileText(readAt(fd, Buffer.allocUnsafe(size - start.bytes - end.bytes), start.bytes, size - start.bytes - end.bytes))
  const text = before.slice(0, start.chars) + middle + before.slice(before.length - end.chars)
  // The middle apart too: a reparse reads the text from its pieces (spliced-text.ts), not as one new string.
  return { text, edit: { start: start.chars, oldEnd: before.length - end.chars, newEnd: text.length - end.chars, inserted: middle } }
}

/** The edit of a text that stayed as it was. */
function unchanged (text: TextReader): TextEdit {
  return { start: text.length, oldEnd: text.length, newEnd: text.length }
}

/** The common start and end of `before` and the bytes; null when they are all of both (the bytes are before's encoding). */
function commonParts (before: TextReader, bytes: ByteSource): { start: Span, end: Span } | null {
  const start = commonStart(before, bytes)
  const end = commonEnd(before, bytes, start)
  return start.chars + end.chars === before.length && start.bytes + end.bytes === bytes.length ? null : { start, end }
}

/** The file's bytes held at once for the comparison: a read per 16 chunks of the old text, not one for each. */
const held = Buffer.allocUnsafe(CHUNK * 3 * 16)

/**
 * The first `size` bytes of the file open as `fd`, read into {@link held} a part at a time: from
 * the window asked for on, or up to its end when it lies before the part held (the comparison
 * from the end walks backwards).
 */
function fileWindows (fd: number, size: number): ByteSource {
  let from = 0
  let bytes: Buffer = held.subarray(0, 0)
  return {
    length: size,
    window: (pos, n) => {
      const end = Math.min(size, pos + n)
      if (pos < from || end > from + bytes.length) {
        from = pos < from ? Math.max(0, end - held.length) : pos
        bytes = readAt(fd, held, from, Math.min(held.length, size - from))
      }
      return bytes.subarray(pos - from, end - from)
    }
  }
}

/** A common part of the old text and the bytes, in UTF-16 units and in bytes. */
interface Span { chars: number, bytes: number }

/** The longest start of `text` whose UTF-8 is a start of `bytes`; it never ends inside a character. */
function commonStart (text: TextReader, bytes: ByteSource): Span {
  let at = 0
  let pos = 0
  while (at < text.length) {
    let end = Math.min(text.length, at + CHUNK)
    if (end < text.length && isHigh(text.charCodeAt(end - 1))) end--
    const n = scratch.write(text.slice(at, end), 0, 'utf8')
    const got = bytes.window(pos, n)
    if (got.length === n && scratch.compare(got, 0, n, 0, n) === 0) {
      at = end
      pos += n
      continue
    }
    // The chunk differs: its characters one by one, up to the first that does.
    for (let k = 0; at < end;) {
      const units = isHigh(text.charCodeAt(at)) ? 2 : 1
      const len = utf8Length(text.charCodeAt(at), units)
      if (k + len > got.length || scratch.compare(got, k, k + len, k, k + len) !== 0) break
      at += units
      pos += len
      k += len
    }
    break
  }
  return { chars: at, bytes: pos }
}

/** The longest end of `text` whose UTF-8 is an end of `bytes`, not reaching into `start`; it never starts inside a character. */
function commonEnd (text: TextReader, bytes: ByteSource, start: Span): Span {
  const minAt = start.chars
  const minPos = start.bytes
  let at = text.length
  let pos = bytes.length
  while (at > minAt) {
    let from = Math.max(minAt, at - CHUNK)
    if (from > minAt && isLow(text.charCodeAt(from))) from++
    const n = scratch.write(text.slice(from, at), 0, 'utf8')
    // The bytes before `pos` that the chunk may match, `lo` the first of them.
    const lo = Math.max(minPos, pos - n)
    const got = bytes.window(lo, pos - lo)
    if (pos - n >= minPos && got.length === n && scratch.compare(got, 0, n, 0, n) === 0) {
      at = from
      pos -= n
      continue
    }
    // The chunk differs: its characters one by one from its end, up to the first that does.
    for (let k = n; at > from;) {
      const units = isLow(text.charCodeAt(at - 1)) ? 2 : 1
      const len = utf8Length(text.charCodeAt(at - units), units)
      if (pos - len < minPos || pos - lo > got.length || scratch.compare(got, pos - len - lo, pos - lo, k - len, k) !== 0) break
      at -= units
      pos -= len
      k -= len
    }
    break
  }
  return { chars: text.length - at, bytes: bytes.length - pos }
}

/** UTF-8 length of the character whose first UTF-16 unit is `c` (`units`: 2 for a surrogate pair). */
function utf8Length (c: number, units: number): number {
  if (units === 2) return 4
  return c < 0x80 ? 1 : c < 0x800 ? 2 : 3
}

function isHigh (c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}

function isLow (c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}
