/**
 * Reading and replacing one file of the settings folder safely:
 * - a symlink is followed only to a file in the settings folder itself; one that leads out of it
 *   (or to nothing) is refused with UnsafeSettingsFileError before anything of it is read, so
 *   `autowhitelist.txt -> <data>/cluster.key` can neither be shown nor overwritten;
 * - only regular files are read (a FIFO would block the agent), with O_NOFOLLOW, after their size
 *   was checked against maxSettingsFileBytes (SettingsFileTooLargeError), in bounded memory;
 * - a file is replaced only if it is still the file that was read: checked right before the
 *   rename, and the replaced file is checked once more right after it, so an operator's edit
 *   made while the agent rendered its version is scanned, not lost;
 * - bytes that are not UTF-8 survive a read and a write unchanged (see decodeFileText).
 */
import { constants, fstatSync, linkSync, lstatSync, renameSync, unlinkSync, type BigIntStats } from 'node:fs'
import { lstat, open, realpath, rm, type FileHandle } from 'node:fs/promises'
import { isAscii, isUtf8 } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { SettingsFileTooLargeError, UnsafeSettingsFileError } from '../errors.js'
import { removeStaleTemps, syncDir } from './atomic-write.js'
import { isWellFormed } from './list-file.js'
import { hasSignature, racyTimes, signatureOf, writtenSignature, type FileSignature } from './file-signature.js'
import { textBatches } from './text-batches.js'
import { readAt } from './read-at.js'

/** Default of maxSettingsFileBytes: a 1M-line list (about 40 MB) and a Bayes DB of millions of tokens fit. */
export const DEFAULT_MAX_SETTINGS_FILE_BYTES = 256 * 1024 * 1024

/**
 * Largest allowed maxSettingsFileBytes: a file's text must fit in one JavaScript string
 * (V8's limit is 2^29 - 24 UTF-16 units).
 */
export const MAX_SETTINGS_FILE_BYTES_LIMIT = 500 * 1024 * 1024

/** A settings file as read: the real path it was read from, its bytes and what it was on disk. */
export interface ReadSettingsFile {
  /** The path read and to write: the file itself, or the in-folder target of a symlink. */
  path: string
  bytes: Buffer
  /** fstat of the opened file before it was read. */
  stat: BigIntStats
  /** Open handle of the file read: after a replacement it still shows what others wrote to it. */
  handle: FileHandle
  /** When the read started (ms), to tell whether an mtime is too close to it to trust. */
  readAtMs: number
  /**
   * True when the file had the signature the caller knew, so `bytes` are the ones the caller gave
   * (made only if asked for) and nothing was read.
   */
  known: boolean
  /** The signature to record for `bytes` when a later write cannot go unseen in it (see file-signature.ts), else null. */
  signature: FileSignature | null
}

/** What the caller of readSettingsFile knows the file holds while it has a signature. */
export interface KnownFile {
  signature: FileSignature
  /** The bytes it holds (called only when needed). */
  bytes: () => Buffer
}

/** Where a settings file is, checked (see the module comment); null when it does not exist. */
export async function resolveSettingsFile (dir: string, name: string): Promise<string | null> {
  const realDir = await realpath(dir)
  const path = join(realDir, name)
  let st
  try {
    st = await lstat(path)
  } catch (err) {
    if (isNotFound(err)) return null
    throw err
  }
  if (!st.isSymbolicLink()) return path
  let target: string
  try {
    target = await realpath(path)
  } catch (err) {
    if (isNotFound(err)) throw new UnsafeSettingsFileError(`${join(dir, name)} is a symlink to a missing file; remove it or point it at a file in ${dir}`)
    throw err
  }
  if (dirname(target) !== realDir) throw new UnsafeSettingsFileError(`${join(dir, name)} is a symlink out of the settings folder ${dir}; it is neither read nor written`)
  return target
}

/** A settings file opened and checked (see the module comment), not read; `known`: it has the signature the caller knew. */
export type OpenedSettingsFile = Pick<ReadSettingsFile, 'path' | 'stat' | 'handle' | 'readAtMs' | 'known'>

/** Opens and reads a settings file (see the module comment); null when it does not exist. The caller closes `handle`. */
export async function readSettingsFile (dir: string, name: string, maxBytes: number, known?: KnownFile): Promise<ReadSettingsFile | null> {
  const opened = await openSettingsFile(dir, name, maxBytes, known)
  if (opened === null) return null
  const { path, stat, handle: fh, readAtMs } = opened
  if (known !== undefined && opened.known) return knownFile(path, stat, fh, readAtMs, known)
  try {
    // What was there at the fstat, then whatever was appended since, up to the limit.
    let bytes = Buffer.allocUnsafe(Number(stat.size))
    let n = 0
    for (;;) {
      if (n === bytes.length) {
        // Full: a small read tells whether anything follows, before a larger buffer and a copy
        // of all of it (which doubled the memory and the time of reading a 40 MB list).
        if (await appended(fh, n) === 0) break
        if (n >= maxBytes + 1) throw tooLarge(dir, name, `more than ${maxBytes}`, maxBytes)
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(64 * 1024, n * 2)))
        bytes.copy(grown, 0, 0, n)
        bytes = grown
      }
      const { bytesRead } = await fh.read(bytes, n, bytes.length - n, n)
      if (bytesRead === 0) break
      n += bytesRead
    }
    if (n > maxBytes) throw tooLarge(dir, name, `more than ${maxBytes}`, maxBytes)
    const trusted = n === Number(stat.size) && !racy({ readAtMs, known: false }, stat)
    return { path, bytes: bytes.subarray(0, n), stat, handle: fh, readAtMs, known: false, signature: trusted ? signatureOf(stat) : null }
  } catch (err) {
    await fh.close()
    throw err
  }
}

/** readSettingsFile without the read (null: no file), for a caller that reads what it needs (file-text.ts fileTextIn), then asks settledSignature. */
export async function openSettingsFile (dir: string, name: string, maxBytes: number, known?: KnownFile): Promise<OpenedSettingsFile | null> {
  const path = await resolveSettingsFile(dir, name)
  if (path === null) return null
  const readAtMs = Date.now()
  let fh: FileHandle
  try {
    // No-follow: a symlink put there since the check is refused (ELOOP), not followed.
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err: any) {
    if (isNotFound(err)) return null
    if (err?.code === 'ELOOP') throw new UnsafeSettingsFileError(`${join(dir, name)} became a symlink while it was opened; it is not read`)
    throw err
  }
  try {
    const stat = await fh.stat({ bigint: true })
    if (!stat.isFile()) throw new UnsafeSettingsFileError(`${join(dir, name)} is not a regular file; it is neither read nor written`)
    if (stat.size > BigInt(maxBytes)) throw tooLarge(dir, name, String(stat.size), maxBytes)
    return { path, stat, handle: fh, readAtMs, known: known !== undefined && hasSignature(stat, known.signature) }
  } catch (err) {
    await fh.close()
    throw err
  }
}

// A file the caller knows: its bytes are made from what the caller holds, and only when asked for.
function knownFile (path: string, stat: BigIntStats, handle: FileHandle, readAtMs: number, known: KnownFile): ReadSettingsFile {
  let bytes: Buffer | undefined
  return {
    path,
    get bytes () { return (bytes ??= known.bytes()) },
    stat,
    handle,
    readAtMs,
    known: true,
    signature: known.signature
  }
}

/** How many bytes (0 or 1) the file has at `position`. */
async function appended (fh: FileHandle, position: number): Promise<number> {
  return (await fh.read(Buffer.alloc(1), 0, 1, position)).bytesRead
}

// `size`: the size, or "more than N" when the file grew while it was read.
function tooLarge (dir: string, name: string, size: string, max: number): SettingsFileTooLargeError {
  return new SettingsFileTooLargeError(`${join(dir, name)} has ${size} bytes, more than maxSettingsFileBytes (${max}); it is not read or written until it is smaller or the limit is raised`)
}

/**
 * The bytes a file read by readSettingsFile holds now (it may have been replaced and written to
 * since), 'unchanged' when its size and mtime tell it holds `file.bytes` still (they are not
 * made then), or null when it grew past `maxBytes`.
 */
export async function readReplaced (file: ReadSettingsFile, maxBytes: number): Promise<Buffer | 'unchanged' | null> {
  const st = await file.handle.stat({ bigint: true })
  if (st.size > BigInt(maxBytes)) return null
  if (st.size === file.stat.size && st.mtimeNs === file.stat.mtimeNs && !racy(file, st)) return 'unchanged'
  return readAt(file.handle.fd, Buffer.allocUnsafe(Number(st.size)), 0)
}

/** What a conditional replacement did. */
export type ReplaceOutcome =
  /** The file changed after it was read: nothing was written. */
  | { kind: 'changed' }
  /**
   * Replaced; `lost` is what the replaced file held afterwards when someone wrote to it after the
   * check (else undefined); `signature` the new file's, to record, unless it cannot be trusted.
   */
  | { kind: 'replaced', lost: Buffer | undefined, signature: FileSignature | null }

/**
 * Replaces `file` (as read by readSettingsFile) with `data`, atomically (temp file, fsync,
 * rename, fsync of the folder), but only while it is still the file read: same inode, size and
 * modification time (and same bytes when its mtime is too recent to tell). The check and the
 * rename run back to back with no await between them, and the replaced file is looked at once
 * more right after the rename, through the descriptor kept from the read: what someone wrote to
 * it in that gap is returned as `lost`, for the caller to scan.
 */
export async function replaceSettingsFile (file: ReadSettingsFile, data: Uint8Array | readonly string[]): Promise<ReplaceOutcome> {
  const mode = Number(file.stat.mode) & 0o7777
  const owner = { uid: Number(file.stat.uid), gid: Number(file.stat.gid) }
  const { tmp, written } = await writeTemp(file.path, data, mode, owner)
  let signature: FileSignature | null
  try {
    if (!stillTheFileRead(file)) {
      unlinkSync(tmp)
      return { kind: 'changed' }
    }
    renameSync(tmp, file.path)
    signature = writtenSignature(written, lstatSync(file.path, { bigint: true }))
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  const after = fstatSync(file.handle.fd, { bigint: true })
  let lost: Buffer | undefined
  if (after.size !== file.stat.size || after.mtimeNs !== file.stat.mtimeNs || racy(file, after)) {
    const now = readAt(file.handle.fd, Buffer.allocUnsafe(Number(after.size)), 0)
    if (!now.equals(file.bytes)) lost = now
  }
  await syncDir(dirname(file.path))
  return { kind: 'replaced', lost, signature }
}

/**
 * Creates the settings file `name` in `dir` with `data`, atomically, unless a file (or link) of
 * that name appeared meanwhile: then nothing is written and false returned. A hard link is used
 * instead of a rename because it fails on an existing name.
 */
export async function createSettingsFile (dir: string, name: string, data: Uint8Array | readonly string[]): Promise<boolean> {
  const path = join(await realpath(dir), name)
  const { tmp } = await writeTemp(path, data, 0o644, undefined)
  try {
    linkSync(tmp, path)
  } catch (err: any) {
    if (err?.code !== 'EEXIST') throw err
    return false
  } finally {
    await rm(tmp, { force: true })
  }
  await syncDir(dirname(path))
  return true
}

// Writes `data` (bytes, or the parts of a text, see writeText) to a new temp file next to `path`;
// returns its name and its fstat after the fsync.
async function writeTemp (path: string, data: Uint8Array | readonly string[], mode: number, owner: { uid: number, gid: number } | undefined): Promise<{ tmp: string, written: BigIntStats }> {
  const dir = dirname(path)
  await removeStaleTemps(dir, basename(path))
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
  // Exclusive and no-follow: never reuse, or write through a link at, a name someone else made.
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
  let written: BigIntStats
  try {
    if (data instanceof Uint8Array) await fh.writeFile(data)
    else for (const batch of textBatches(data, WRITE_CHARS)) await writeText(fh, batch)
    // The umask may have cleared bits at creation.
    await fh.chmod(mode)
    // Only root can give the file back to its owner (e.g. the mail server's user).
    if (owner !== undefined && process.getuid?.() === 0) await fh.chown(owner.uid, owner.gid)
    await fh.sync()
    written = await fh.stat({ bigint: true })
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  return { tmp, written }
}

/** Characters of a text encoded and written at once (see writeText). */
const WRITE_CHARS = 1 << 20

/**
 * Writes `text` as encodeFileText encodes it, a slice at a time: encoding a 1M-line list whole
 * took a fresh 15 MB buffer per write (~60 ms, most of it page faults on a loaded machine), where
 * slices reuse the same memory. A text with lone surrogates is encoded whole. The parts of one
 * text are written one after the other, so none may end inside a surrogate pair (whole lines do not).
 */
async function writeText (fh: FileHandle, text: string): Promise<void> {
  if (!isWellFormed(text)) {
    await fh.writeFile(encodeFileText(text))
    return
  }
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + WRITE_CHARS)
    // Never between the two halves of a pair.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--
    const slice = text.slice(at, end)
    let written = 0
    const bytes = Buffer.byteLength(slice, 'utf8')
    // A short write leaves the rest: write from bytes then (rare; a regular file writes whole).
    while (written < bytes) {
      const { bytesWritten } = written === 0 ? await fh.write(slice, null, 'utf8') : await fh.write(Buffer.from(slice, 'utf8').subarray(written))
      written += bytesWritten
    }
    at = end
  }
}

function isHighSurrogate (c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}

/** Whether the file at file.path is still the one read, unchanged. Synchronous on purpose (see replaceSettingsFile, appendSettingsFile). */
export function stillTheFileRead (file: ReadSettingsFile): boolean {
  let now: BigIntStats
  try {
    now = lstatSync(file.path, { bigint: true })
  } catch (err) {
    if (isNotFound(err)) return false
    throw err
  }
  const then = file.stat
  if (now.dev !== then.dev || now.ino !== then.ino || now.size !== then.size || now.mtimeNs !== then.mtimeNs || now.ctimeNs !== then.ctimeNs) return false
  // A write in the same clock tick as the read may leave the times as they were: compare the bytes.
  return !racy(file, now) || readAt(file.handle.fd, Buffer.allocUnsafe(Number(now.size)), 0).equals(file.bytes)
}

// A known file's signature was recorded only once no later write could keep its times.
function racy (file: Pick<ReadSettingsFile, 'readAtMs' | 'known'>, st: BigIntStats): boolean {
  return !file.known && racyTimes(file.readAtMs, st)
}

/**
 * A settings file's bytes as text. Valid UTF-8 is decoded as usual; every byte that is not part
 * of valid UTF-8 becomes a lone surrogate U+DC80..U+DCFF (as Python's "surrogateescape" does), which
 * valid UTF-8 can never produce. The list parser refuses lines holding one (so they are never
 * synced), and encodeFileText turns them back into the same bytes.
 */
export function decodeFileText (bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // The same text, decoded an order of magnitude faster than as UTF-8 (a 15 MB list: 10 ms against 180).
  if (isAscii(buf)) return buf.toString('ascii')
  if (isUtf8(buf)) return buf.toString('utf8')
  const parts: string[] = []
  let start = 0
  for (let i = 0; i < buf.length;) {
    const n = utf8SequenceLength(buf, i)
    if (n > 0) {
      i += n
      continue
    }
    if (i > start) parts.push(buf.toString('utf8', start, i))
    parts.push(String.fromCharCode(0xdc00 | buf[i]))
    start = ++i
  }
  if (start < buf.length) parts.push(buf.toString('utf8', start))
  return parts.join('')
}

/** The bytes of a text from decodeFileText (or any text): escaped bytes go back as they were. */
export function encodeFileText (text: string): Buffer {
  if (isWellFormed(text)) return Buffer.from(text, 'utf8')
  const parts: Buffer[] = []
  let start = 0
  for (const m of text.matchAll(LONE_SURROGATE)) {
    const i = m.index
    parts.push(Buffer.from(text.slice(start, i), 'utf8'))
    const c = text.charCodeAt(i)
    // Only U+DC80..U+DCFF stand for bytes; another lone surrogate is written as U+FFFD, as Node does.
    parts.push(c >= 0xdc80 && c <= 0xdcff ? Buffer.of(c & 0xff) : Buffer.from('\ufffd', 'utf8'))
    start = i + 1
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'))
  return Buffer.concat(parts)
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g


/** Length of the valid UTF-8 sequence at buf[i], or 0 when the byte there starts none. */
function utf8SequenceLength (buf: Buffer, i: number): number {
  const b = buf[i]
  if (b < 0x80) return 1
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < buf.length && buf[i + k] >= lo && buf[i + k] <= hi
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return cont(1) && cont(2) ? 3 : 0
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0
  return 0
}

function isNotFound (err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}
