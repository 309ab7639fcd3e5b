/**
 * What tells, without reading it, that a settings file still holds the text the agent last read
 * or wrote: its lstat (device, inode, size, modification and change time, in ns), recorded only
 * when no later write can leave all of them as they were (git's "racy" rule: a write in the same
 * clock tick as the recorded one may keep the times, so such a record is not made). Reading and
 * decoding a 1M-line file (15 MB) to find it unchanged was most of a one-line change's cost on
 * every node, and the watcher did it again after each of the agent's own writes.
 */
import type { BigIntStats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/** The lstat fields that change with every write, rename over or replacement of a file. */
export interface FileSignature {
  /** Device and inode: a file renamed over it is another inode. */
  dev: bigint
  ino: bigint
  /** Size in bytes. */
  size: bigint
  /** Last write and last inode change (chmod, rename, link), ns, from the file system's clock. */
  mtimeNs: bigint
  ctimeNs: bigint
}

/** The signature of a stat. */
export function signatureOf (st: BigIntStats): FileSignature {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs }
}

/** Whether a stat has the recorded signature. */
export function hasSignature (st: BigIntStats, sig: FileSignature): boolean {
  return st.dev === sig.dev && st.ino === sig.ino && st.size === sig.size && st.mtimeNs === sig.mtimeNs && st.ctimeNs === sig.ctimeNs
}

/**
 * The signature to record for a file the agent wrote (temp file, fsync, rename): `written` is
 * the temp file's fstat after its fsync, `renamed` its lstat at the settings file's path right
 * after the rename. Null when it cannot be trusted: the path is not that inode with those bytes
 * any more, or the rename's change time (the file system's clock, as the write's) is not past the
 * write's tick, so a write after the rename could still get the same mtime. A file system that
 * does not set the change time on rename only loses the shortcut (its files are read).
 */
export function writtenSignature (written: BigIntStats, renamed: BigIntStats): FileSignature | null {
  if (renamed.dev !== written.dev || renamed.ino !== written.ino || renamed.size !== written.size || renamed.mtimeNs !== written.mtimeNs) return null
  return renamed.ctimeNs > written.mtimeNs ? signatureOf(renamed) : null
}

/**
 * Whether a stat's mtime is too close to a read started at `readAtMs` to prove anything: file
 * times come from a coarse kernel clock (a few ms).
 */
export function racyTimes (readAtMs: number, st: BigIntStats): boolean {
  return Number(st.mtimeMs) >= readAtMs - 50
}

/**
 * After a file opened at `readAtMs` with the fstat `stat` was read in parts: 'changed' when its
 * size or times moved meanwhile (what was read may mix two versions), else the signature to record,
 * or null when that cannot be trusted ({@link racyTimes}).
 */
export async function settledSignature (file: { stat: BigIntStats, handle: FileHandle, readAtMs: number }): Promise<FileSignature | null | 'changed'> {
  const now = await file.handle.stat({ bigint: true })
  if (now.size !== file.stat.size || now.mtimeNs !== file.stat.mtimeNs || now.ctimeNs !== file.stat.ctimeNs) return 'changed'
  return racyTimes(file.readAtMs, now) ? null : signatureOf(now)
}
