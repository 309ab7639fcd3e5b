/**
 * `bayes.txt` in the settings folder: the SpamAssassin Bayes DB in `sa-learn --backup` form.
 * An optional export command refreshes it from the live DB before each scan
 * (`sa-learn --backup > settings/bayes.txt`), and an optional import command loads it back after
 * a sync rewrote it (`sa-learn --restore settings/bayes.txt`). A failing or hanging command is
 * an error for status; the last good state stays in place (nothing is applied from a failed
 * export, and a failed import leaves the written file for the next try).
 */
import { constants, type BigIntStats } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { parseSaBackup, parseSaBackupChunks, formatSaBackupChunks, formatSaBackupStream, type ParsedSaBackup, type SaBackupHead } from './sa-backup.js'
import { writeFileAtomic } from './atomic-write.js'
import { runCommand, assertSucceeded } from '../ops/command-runner.js'
import { DEFAULT_MAX_SETTINGS_FILE_BYTES, readSettingsFile, resolveSettingsFile } from './settings-file.js'
import { reportInvalid, type InvalidReport } from './list-file.js'
import { errorMessage, SettingsFileTooLargeError, UnsafeSettingsFileError } from '../errors.js'
import type { BayesDb, TokenTable } from '../crdt/bayes-counters.js'

/** File name of the Bayes dataset in the settings folder. */
export const BAYES_FILE = 'bayes.txt'

/** How the Bayes file is kept in step with SpamAssassin. */
export interface BayesFileOptions {
  /** Run before each scan; empty for none. */
  exportCommand: string
  /** Run after the file was rewritten by a sync; empty for none. */
  importCommand: string
  /** Time limit of each command. */
  commandTimeoutMs: number
  /** A larger bayes.txt is not read (SettingsFileTooLargeError); default DEFAULT_MAX_SETTINGS_FILE_BYTES. */
  maxFileBytes?: number
  /** Folder the commands run in (default: the working folder). */
  cwd?: string
  /**
   * The file as last read or written ({@link BayesFile.known}), remembered across a restart
   * (BayesReplica.fileKnown; default: unknown), so an unchanged file is not read again.
   */
  known?: KnownBayesFile | null
}

/** What a BayesFile knows of the file as it last read or wrote it. */
export interface KnownBayesFile {
  /** Inode, size and change times to the nanosecond: any write or replacement changes one. */
  signature: string
  /** Its bad lines, bounded, for status. */
  invalid: InvalidReport
}

/** The Bayes file of one settings folder. */
export class BayesFile {
  /** Bad lines found by the last read, bounded for status. */
  invalid: InvalidReport = reportInvalid([])
  /** Why the file could not be read or written at the last try (`Name: message`), or undefined. */
  problem: string | undefined
  /** The file as this object last read or wrote it (inode, size, times), '' when unknown. */
  private signature: string

  constructor (readonly dir: string, private readonly opts: BayesFileOptions) {
    const known = opts.known ?? null
    this.signature = known?.signature ?? ''
    if (known !== null) this.invalid = known.invalid
  }

  /**
   * The file as the last read or write saw it, null when unknown: remembered with what was read
   * or written, it tells at the next start that the file is the same, and what was wrong in it.
   */
  get known (): KnownBayesFile | null {
    return this.signature === '' ? null : { signature: this.signature, invalid: this.invalid }
  }

  /** Path of bayes.txt. */
  get path (): string {
    return join(this.dir, BAYES_FILE)
  }

  /**
   * Runs the export command (if any) and reads the file: the local DB now, or null when there
   * is no file (this node keeps no Bayes DB of its own yet). Throws CommandFailedError when the
   * export fails, so a half-written export is never taken for the DB.
   */
  async read (): Promise<BayesDb | null> {
    if (this.opts.exportCommand !== '') {
      assertSucceeded(await runCommand(this.opts.exportCommand, { cwd: this.opts.cwd ?? process.cwd(), timeoutMs: this.opts.commandTimeoutMs }))
    }
    const maxBytes = this.opts.maxFileBytes ?? DEFAULT_MAX_SETTINGS_FILE_BYTES
    const file = await this.tracked(async () => await openSettingsFile(this.dir, BAYES_FILE, maxBytes))
    if (file === null) return null
    try {
      // Chunk by chunk: a file of millions of tokens is never held whole beside its token columns.
      const parsed = await this.tracked(async () => await parseSaBackupChunks(chunksOf(file.handle, maxBytes, this.path), BAYES_FILE, Number(file.stat.size))) ??
        await this.readWhole(maxBytes)
      if (parsed === null) return null
      this.invalid = reportInvalid(parsed.invalid, parsed.invalidCount)
      // Taken before the read: a change during the read then shows as a change next time.
      this.signature = signatureOf(file.stat)
      return parsed.db
    } finally {
      await file.handle.close()
    }
  }

  // A file that holds a token twice is read again whole, for the text of its duplicate lines.
  private async readWhole (maxBytes: number): Promise<ParsedSaBackup | null> {
    const file = await this.tracked(async () => await readSettingsFile(this.dir, BAYES_FILE, maxBytes))
    if (file === null) return null
    try {
      return parseSaBackup(file.bytes, BAYES_FILE)
    } finally {
      await file.handle.close()
    }
  }

  /**
   * True when reading would give what the last read or write had: there is no export command
   * (which would rewrite the file) and the file is the one this object last read or wrote.
   * Spares reading a file of millions of tokens after every sync.
   */
  async unchanged (): Promise<boolean> {
    return this.opts.exportCommand === '' && this.signature !== '' && await this.currentSignature() === this.signature
  }

  /** Writes the DB atomically, formatted chunk by chunk, and runs the import command (if any). */
  async write (db: BayesDb): Promise<void> {
    await this.writeChunks(formatSaBackupChunks(db))
  }

  /**
   * {@link write} of a DB whose tokens come as a stream of tables in token order (the cluster's
   * DB summed from its contributions as it is written): never held whole in memory.
   */
  async writeStream (head: SaBackupHead, rows: AsyncIterable<TokenTable>): Promise<void> {
    await this.writeChunks(formatSaBackupStream(head, rows))
  }

  private async writeChunks (chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    this.signature = ''
    // A missing file is created in the folder itself; a symlink out of it is refused.
    const path = await this.tracked(async () => await resolveSettingsFile(this.dir, BAYES_FILE)) ?? this.path
    await writeFileAtomic(path, chunks, { followSymlink: false })
    this.signature = await this.currentSignature()
    if (this.opts.importCommand !== '') {
      assertSucceeded(await runCommand(this.opts.importCommand, { cwd: this.opts.cwd ?? process.cwd(), timeoutMs: this.opts.commandTimeoutMs }))
    }
  }

  // Inode, size and change times to the nanosecond: any write or replacement changes one. A file
  // that cannot be resolved or stat'ed reads as changed (''), so the read that follows runs; why
  // it could not be goes to status at once (a file gone in between is no problem: it is new).
  private async currentSignature (): Promise<string> {
    try {
      const path = await resolveSettingsFile(this.dir, BAYES_FILE)
      return path === null ? '' : signatureOf(await stat(path, { bigint: true }))
    } catch (err: any) {
      if (err?.code !== 'ENOENT') this.problem = `${err?.name ?? 'Error'}: ${errorMessage(err)}`
      return ''
    }
  }

  // Runs a step that checks the file and keeps `problem` up to date for status.
  private async tracked<T> (step: () => Promise<T>): Promise<T> {
    try {
      const out = await step()
      this.problem = undefined
      return out
    } catch (err: any) {
      this.problem = `${err?.name ?? 'Error'}: ${errorMessage(err)}`
      throw err
    }
  }
}

/** Bytes read at a time: the parse holds about this much of the file. */
const CHUNK_BYTES = 1024 * 1024

/**
 * Opens a settings file to read it in chunks, with readSettingsFile's checks (settings-file.ts):
 * a symlink only to a file in the folder, no-follow, a regular file, at most `maxBytes`.
 */
async function openSettingsFile (dir: string, name: string, maxBytes: number): Promise<{ handle: FileHandle, stat: BigIntStats } | null> {
  const path = await resolveSettingsFile(dir, name)
  if (path === null) return null
  let handle: FileHandle
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err: any) {
    if (err?.code === 'ENOENT') return null
    if (err?.code === 'ELOOP') throw new UnsafeSettingsFileError(`${join(dir, name)} became a symlink while it was opened; it is not read`)
    throw err
  }
  try {
    const s = await handle.stat({ bigint: true })
    if (!s.isFile()) throw new UnsafeSettingsFileError(`${join(dir, name)} is not a regular file; it is neither read nor written`)
    if (s.size > BigInt(maxBytes)) throw tooLarge(join(dir, name), String(s.size), maxBytes)
    return { handle, stat: s }
  } catch (err) {
    await handle.close()
    throw err
  }
}

/**
 * The bytes of an open file, chunk by chunk, each read into the same buffer (a fresh 1 MB one per
 * chunk was 30 allocations outside the heap for a 1M-token file); SettingsFileTooLargeError past
 * `maxBytes` (it grew while read).
 */
async function * chunksOf (handle: FileHandle, maxBytes: number, path: string): AsyncGenerator<Uint8Array> {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES)
  for (let position = 0; ;) {
    const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES, position)
    if (bytesRead === 0) return
    position += bytesRead
    if (position > maxBytes) throw tooLarge(path, `more than ${maxBytes}`, maxBytes)
    yield buf.subarray(0, bytesRead)
  }
}

function tooLarge (path: string, size: string, max: number): SettingsFileTooLargeError {
  return new SettingsFileTooLargeError(`${path} has ${size} bytes, more than maxSettingsFileBytes (${max}); it is not read or written until it is smaller or the limit is raised`)
}

function signatureOf (s: { ino: bigint, size: bigint, mtimeNs: bigint, ctimeNs: bigint }): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
}
