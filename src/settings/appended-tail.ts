/**
 * What was appended to a replaced settings file that is still open, read without its whole
 * content: a program that opened the file before a rename (a script's `>>`, an editor) may write
 * to the old file long after, and only what lies past the size last seen needs scanning.
 */
import type { FileHandle } from 'node:fs/promises'

/** Bytes read back before `from` to find the start of the line an append continues. */
const LINE_BACK = 4096

/** The file's size now, and its text from the start of the line holding `from`: before and after the append. */
export interface AppendedTail {
  size: number
  /** From the line's start up to `from` (empty when `from` starts a line). */
  before: Buffer
  /** From the line's start up to `size`. */
  after: Buffer
}

/**
 * Reads what `handle`'s file holds past `from` (nothing when it did not grow); null when it grew
 * past `maxBytes`. A file that shrank is followed from its new size.
 */
export async function readAppendedTail (handle: FileHandle, from: number, maxBytes: number): Promise<AppendedTail | null> {
  const { size } = await handle.stat()
  if (size > maxBytes) return null
  if (size <= from) return { size, before: Buffer.alloc(0), after: Buffer.alloc(0) }
  const start = Math.max(0, from - LINE_BACK)
  const buf = Buffer.allocUnsafe(size - start)
  let n = 0
  while (n < buf.length) {
    const { bytesRead } = await handle.read(buf, n, buf.length - n, start + n)
    if (bytesRead === 0) break
    n += bytesRead
  }
  const head = buf.subarray(0, from - start)
  const newline = head.lastIndexOf(0x0a)
  const lineStart = newline >= 0 ? newline + 1 : 0
  return { size: start + n, before: buf.subarray(lineStart, from - start), after: buf.subarray(lineStart, n) }
}
