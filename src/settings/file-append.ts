/**
 * Appending lines to a settings file in place, when a write only adds lines at its end (the usual
 * sync change: an entry added): replacing the whole file (temp file, fsync, rename) wrote and
 * fsynced 15 MB on every node for a one-line change of a 1M-line list, where the append writes
 * the line. Crash-safe with a write-ahead record, stored (durably) before the append, that says
 * what the file held and what is appended: at the next start, or before the next scan or write,
 * {@link settleAppend} cuts an append that was cut short (or done but not yet recorded) back to
 * what the file held, so its half line is never scanned as the operator's.
 */
import { constants, fstatSync, ftruncateSync, writeSync, type BigIntStats } from 'node:fs'
import { lstat, open, type FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { writtenSignature, type FileSignature } from './file-signature.js'
import { encodeFileText, stillTheFileRead, type ReadSettingsFile } from './settings-file.js'
import type { TextEdit } from './text-edit.js'
import { readAt } from './read-at.js'

/**
 * Most bytes appended in place; a larger change replaces the file. One write call of at most a
 * page is what a `kill -9` or a reader can split only at a page boundary, if at all, where a
 * rename shows the old file or the new one whole.
 */
export const MAX_APPEND_BYTES = 4096

/** Bytes of the file before the append kept in the record, to tell it is still that file. */
export const TAIL_BYTES = 256

/** Tries to move the file's change time past the append's modification time (see ownSignature). */
const SIGNATURE_TRIES = 3

/** The write-ahead record of an append (JSON: stored as the store's meta). */
export interface AppendRecord {
  /** The file's inode (decimal). */
  ino: string
  /** Its size before the append. */
  size: number
  /** Its last bytes before the append (up to TAIL_BYTES), base64. */
  tail: string
  /** The bytes appended, base64. */
  bytes: string
}

/**
 * The bytes a render adds at the end of a text of `oldLength` characters, when that is all it
 * does (its `edit` says the old text is kept whole and ends the new one's start) and they fit an
 * append; else null. `parts` are the new text's, in order.
 */
export function renderedAppend (parts: readonly string[], edit: TextEdit | undefined, oldLength: number): Buffer | null {
  if (edit === undefined || edit.start !== oldLength || edit.oldEnd !== oldLength || edit.newEnd === oldLength) return null
  // Each character is a byte at least.
  if (edit.newEnd - oldLength > MAX_APPEND_BYTES) return null
  const added: string[] = []
  let at = 0
  for (const part of parts) {
    if (at >= oldLength) added.push(part)
    else if (at + part.length > oldLength) added.push(part.slice(oldLength - at))
    at += part.length
  }
  const bytes = encodeFileText(added.join(''))
  return bytes.length <= MAX_APPEND_BYTES ? bytes : null
}

/** What an append did. */
export type AppendOutcome =
  /** The file changed after it was read: nothing was appended. */
  | { kind: 'changed' }
  /**
   * Appended; `others`: someone else wrote to the file as well (before or after the bytes), so
   * it holds more than the text read and the bytes; `signature`: the file's, to record, when no
   * later write can go unseen in it (file-signature.ts), else null.
   */
  | { kind: 'appended', others: boolean, signature: FileSignature | null }

/**
 * Appends `bytes` (at most MAX_APPEND_BYTES) to `file` (as read by readSettingsFile) while it
 * is still the file read, checked right before the write as replaceSettingsFile checks before
 * its rename. `writeAhead` stores the record first (durably); it is left for the caller to clear
 * with the file view it records (a failed append is cut back here when it can be, and left to
 * settleAppend otherwise).
 */
export async function appendSettingsFile (file: ReadSettingsFile, bytes: Buffer, writeAhead: (record: AppendRecord) => Promise<void>): Promise<AppendOutcome> {
  if (bytes.length > MAX_APPEND_BYTES) throw new RangeError(`an append of ${bytes.length} bytes (at most ${MAX_APPEND_BYTES})`)
  const size = Number(file.stat.size)
  // O_APPEND: a line someone else appends at the same moment lands before or after, not over it.
  const fh = await open(file.path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW)
  try {
    const st = await fh.stat({ bigint: true })
    if (st.dev !== file.stat.dev || st.ino !== file.stat.ino) return { kind: 'changed' }
    await writeAhead({ ino: String(file.stat.ino), size, tail: readAt(file.handle.fd, Buffer.alloc(Math.min(size, TAIL_BYTES)), Math.max(0, size - TAIL_BYTES)).toString('base64'), bytes: bytes.toString('base64') })
    // No await from the check to the write, as for a rename.
    if (!stillTheFileRead(file)) return { kind: 'changed' }
    let written: BigIntStats
    try {
      writeAll(fh.fd, bytes)
      written = fstatSync(fh.fd, { bigint: true })
    } catch (err) {
      cutBack(fh.fd, size, bytes.length)
      throw err
    }
    await fh.datasync()
    const others = written.size !== BigInt(size + bytes.length)
    return { kind: 'appended', others, signature: others ? null : await ownSignature(fh, file.path, written) }
  } finally {
    await fh.close()
  }
}

/**
 * The signature of a file the agent appended to, `written` its fstat right after the write. The
 * write set its modification and change time in one tick, where a later write could keep both:
 * a chmod to the mode it has moves the change time on (as a rename does after a temp file's
 * write), so any later write gets a later modification time. Null when that cannot be done (not
 * the file's owner, a set-id mode a chmod may clear) or the file changed meanwhile.
 */
async function ownSignature (fh: FileHandle, path: string, written: BigIntStats): Promise<FileSignature | null> {
  const mode = Number(written.mode) & 0o7777
  if ((mode & 0o6000) !== 0) return null
  for (let n = 0; n < SIGNATURE_TRIES; n++) {
    try {
      await fh.chmod(mode)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPERM') return null
      throw err
    }
    const now = await lstat(path, { bigint: true })
    const signature = writtenSignature(written, now)
    if (signature !== null || now.ino !== written.ino || now.size !== written.size || now.mtimeNs !== written.mtimeNs) return signature
    // The same coarse clock tick (a kernel without fine-grained change times): wait for the next.
    await sleep(2)
  }
  return null
}

// A failed append (a full disk) is cut back to the file's size before it, when the file holds
// nothing past what this append may have written.
function cutBack (fd: number, size: number, length: number): void {
  const now = Number(fstatSync(fd).size)
  if (now > size && now <= size + length) ftruncateSync(fd, size)
}

/** What a write-ahead record finds in the file (see {@link appendFound}). */
export type AppendFound =
  /** The file is as it was before the append: nothing was appended. */
  | 'absent'
  /** The file holds what it held, then all or part of the appended bytes (or zeros in their place, a crash's unwritten blocks): the append's. */
  | 'ours'
  /** The file is not that file any more, or holds more or other bytes than the append's: the operator's, scanned as they are. */
  | 'foreign'

/** The file as a record's settling finds it: its inode, size, the bytes before the record's size, the bytes past it (up to the append's length + 1). */
export interface AppendedFile {
  ino: string
  size: number
  tail: Buffer
  past: Buffer
}

/** What `record` finds in a file (null: the file is missing). */
export function appendFound (record: AppendRecord, file: AppendedFile | null): AppendFound {
  const tail = Buffer.from(record.tail, 'base64')
  if (file === null || file.ino !== record.ino || file.size < record.size || !file.tail.equals(tail)) return 'foreign'
  if (file.size === record.size) return 'absent'
  const bytes = Buffer.from(record.bytes, 'base64')
  if (file.size - record.size > bytes.length) return 'foreign'
  for (let i = 0; i < file.past.length; i++) if (file.past[i] !== bytes[i] && file.past[i] !== 0) return 'foreign'
  return 'ours'
}

/**
 * Settles the append of `record` on the file at `path` (null: missing) before anything reads it:
 * bytes of the append found past its size (all of them or part, after a crash or a failed write
 * or record) are cut off, so the file is again what the file view says it held; anything else is
 * left as it is. Returns what was found.
 */
export async function settleAppend (path: string | null, record: AppendRecord): Promise<AppendFound> {
  if (path === null) return 'foreign'
  const found = await readAppended(path, record)
  if (found === null || found.found !== 'ours') return found?.found ?? 'foreign'
  const fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    // Only while it is the file read and no one wrote to it since (synchronous: no await in between).
    const st = fstatSync(fh.fd, { bigint: true })
    if (String(st.ino) !== record.ino || Number(st.size) !== found.size) return 'foreign'
    ftruncateSync(fh.fd, record.size)
    await fh.datasync()
    return 'ours'
  } finally {
    await fh.close()
  }
}

// What `record` finds in the file at `path`, and the file's size; null when it is missing or not a regular file.
async function readAppended (path: string, record: AppendRecord): Promise<{ found: AppendFound, size: number } | null> {
  let fh: FileHandle
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    const st = fstatSync(fh.fd, { bigint: true })
    if (!st.isFile()) return null
    const size = Number(st.size)
    const tailLength = Buffer.from(record.tail, 'base64').length
    const found = appendFound(record, {
      ino: String(st.ino),
      size,
      tail: size < record.size ? Buffer.alloc(0) : readAt(fh.fd, Buffer.alloc(tailLength), record.size - tailLength),
      past: size <= record.size ? Buffer.alloc(0) : readAt(fh.fd, Buffer.alloc(Math.min(size - record.size, MAX_APPEND_BYTES + 1)), record.size)
    })
    return { found, size }
  } finally {
    await fh.close()
  }
}

// A short write (rare on a regular file) is followed by the rest.
function writeAll (fd: number, bytes: Buffer): void {
  for (let n = 0; n < bytes.length;) n += writeSync(fd, bytes, n, bytes.length - n)
}
