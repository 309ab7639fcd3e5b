/**
 * Atomic file replacement: a reader (the mail server, the operator's editor, a crash) sees the
 * old file or the new one, never a half-written one.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { errorMessage } from '../errors.js'

/** Options of writeFileAtomic. */
export interface WriteFileAtomicOptions {
  /** Permission bits of a new file (default 0o644); an existing file keeps its own. */
  mode?: number
  /**
   * False: a symlink at `path` is not followed but replaced like a file (for a settings file,
   * whose path was checked by resolveSettingsFile: a link put there since cannot lead the write
   * out of the folder). Default true.
   */
  followSymlink?: boolean
}

/**
 * Writes `data` (or its chunks, in order, also as they come from an async stream) to `path` atomically: temp file in the same folder (so the rename cannot cross
 * file systems), fsync, rename over the target, fsync the folder (so the rename itself survives
 * a crash). On failure the temp file is removed, the old file is untouched, and the error is
 * rethrown. A symlink at `path` is followed (unless `followSymlink` is false), so the link stays and its target is replaced.
 * Temp files of the target left by a writer that was killed mid-write (its pid is gone) are
 * removed first, so crashes do not pile up copies in the operator's folder.
 */
export async function writeFileAtomic (path: string, data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>, opts: WriteFileAtomicOptions = {}): Promise<void> {
  const follow = opts.followSymlink ?? true
  const target = follow ? await resolveTarget(path) : path
  const dir = dirname(target)
  let mode = opts.mode ?? 0o644
  let owner: { uid: number, gid: number } | undefined
  try {
    const st = follow ? await stat(target) : await lstat(target)
    if (st.isFile()) {
      mode = st.mode & 0o7777
      owner = { uid: st.uid, gid: st.gid }
    }
  } catch (err) {
    if (!isNotFound(err)) throw err
  }

  await removeStaleTemps(dir, basename(target))
  const tmp = join(dir, `.${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
  try {
    // Exclusive and no-follow: never reuse (or write through a link at) a name someone else made.
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
    try {
      await fh.writeFile(data)
      // The umask may have cleared bits at creation.
      await fh.chmod(mode)
      // Only root can give the file back to its owner (e.g. the mail server's user).
      if (owner !== undefined && process.getuid?.() === 0) await fh.chown(owner.uid, owner.gid)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, target)
  } catch (err) {
    try {
      await rm(tmp, { force: true })
    } catch (rmErr) {
      // The write's error is the one to show (its class and code kept), with the temp file it left.
      if (err instanceof Error) err.message += ` (and ${tmp} is left: ${errorMessage(rmErr)})`
    }
    throw err
  }
  await syncDir(dir)
}

/** Removes temp files of `name` in `dir` left by writers that were killed mid-write (their pid is gone). */
export async function removeStaleTemps (dir: string, name: string): Promise<void> {
  const prefix = `.${name}.tmp-`
  for (const file of await readdir(dir)) {
    if (!file.startsWith(prefix)) continue
    const pid = Number(file.slice(prefix.length).split('-')[0])
    if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) await rm(join(dir, file), { force: true })
  }
}

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it lives, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function resolveTarget (path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch (err) {
    if (isNotFound(err)) return path
    throw err
  }
}

/** fsyncs a folder, so a rename in it survives a crash. */
export async function syncDir (dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; NTFS journals the rename anyway.
  if (process.platform === 'win32') return
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

function isNotFound (err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}
