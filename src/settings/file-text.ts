/**
 * A settings file's text found from its bytes and the text it held before, the two compared in
 * place with the old text's encoding, a chunk at a time (an encode into a small buffer, then one
 * native comparison), from the start and from the end. A file found unchanged is not decoded at all, and a changed one's edit is known
 * without comparing the two texts again (text-edit.ts): decoding a 1M-line file (15 MB) into a
 * new string and comparing it with the old text, twice per change at the origin (the scan, then
 * the write's round), was most of its scan of a one-line edit. Every byte is compared, so an
 * edit anywhere, of any size, is found.
 */
import { Buffer } from 'node:buffer'
import { isWellFormed } from './list-file.js'
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
  const start = commonStart(before, bytes)
  const end = commonEnd(before, bytes, start)
  if (start.chars + end.chars === before.length && start.bytes + end.bytes === bytes.length) {
    return { text: before, edit: { start: before.length, oldEnd: before.length, newEnd: before.length } }
  }
  const text = decodeFileText(bytes)
  return { text, edit: { start: start.chars, oldEnd: before.length - end.chars, newEnd: text.length - end.chars } }
}

/** A common part of the old text and the bytes, in UTF-16 units and in bytes. */
interface Span { chars: number, bytes: number }

/** The longest start of `text` whose UTF-8 is a start of `bytes`; it never ends inside a character. */
function commonStart (text: string, bytes: Uint8Array): Span {
  let at = 0
  let pos = 0
  while (at < text.length) {
    let end = Math.min(text.length, at + CHUNK)
    if (end < text.length && isHigh(text.charCodeAt(end - 1))) end--
    const n = scratch.write(text.slice(at, end), 0, 'utf8')
    if (pos + n <= bytes.length && scratch.compare(bytes, pos, pos + n, 0, n) === 0) {
      at = end
      pos += n
      continue
    }
    // The chunk differs: its characters one by one, up to the first that does.
    for (let k = 0; at < end;) {
      const units = isHigh(text.charCodeAt(at)) ? 2 : 1
      const len = utf8Length(text.charCodeAt(at), units)
      if (pos + len > bytes.length || scratch.compare(bytes, pos, pos + len, k, k + len) !== 0) break
      at += units
      pos += len
      k += len
    }
    break
  }
  return { chars: at, bytes: pos }
}

/** The longest end of `text` whose UTF-8 is an end of `bytes`, not reaching into `start`; it never starts inside a character. */
function commonEnd (text: string, bytes: Uint8Array, start: Span): Span {
  const minAt = start.chars
  const minPos = start.bytes
  let at = text.length
  let pos = bytes.length
  while (at > minAt) {
    let from = Math.max(minAt, at - CHUNK)
    if (from > minAt && isLow(text.charCodeAt(from))) from++
    const n = scratch.write(text.slice(from, at), 0, 'utf8')
    if (pos - n >= minPos && scratch.compare(bytes, pos - n, pos, 0, n) === 0) {
      at = from
      pos -= n
      continue
    }
    // The chunk differs: its characters one by one from its end, up to the first that does.
    for (let k = n; at > from;) {
      const units = isLow(text.charCodeAt(at - 1)) ? 2 : 1
      const len = utf8Length(text.charCodeAt(at - units), units)
      if (pos - len < minPos || scratch.compare(bytes, pos - len, pos, k - len, k) !== 0) break
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
