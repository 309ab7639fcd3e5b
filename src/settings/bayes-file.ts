/**
 * `bayes.txt` in the settings folder: the SpamAssassin Bayes DB in `sa-learn --backup` form.
 * An optional export command refreshes it from the live DB before each scan
 * (`sa-learn --backup > settings/bayes.txt`), and an optional import command loads it back after
 * a sync rewrote it (`sa-learn --restore settings/bayes.txt`). A failing or hanging command is
 * an error for status; the last good state stays in place (nothing is applied from a failed
 * export, and a failed import leaves the written file for the next try).
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseSaBackup, formatSaBackupChunks } from './sa-backup.js'
import { writeFileAtomic } from './atomic-write.js'
import { runCommand, assertSucceeded } from './command-runner.js'
import type { BayesDb } from '../crdt/bayes-counters.js'
import type { InvalidLine } from './list-file.js'

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
  /** Folder the commands run in (default: the working folder). */
  cwd?: string
}

/** The Bayes file of one settings folder. */
export class BayesFile {
  /** Bad lines found by the last read. */
  invalid: InvalidLine[] = []
  /** The file as this object last read or wrote it (inode, size, times), '' when unknown. */
  private known = ''

  constructor (readonly dir: string, private readonly opts: BayesFileOptions) {}

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
    // Taken before the read: a change during the read then shows as a change next time.
    const seen = await this.signature()
    let data: Uint8Array
    try {
      data = await readFile(this.path)
    } catch (err: any) {
      if (err?.code === 'ENOENT') return null
      throw err
    }
    const parsed = parseSaBackup(data, BAYES_FILE)
    this.invalid = parsed.invalid
    this.known = seen
    return parsed.db
  }

  /**
   * True when reading would give what the last read or write had: there is no export command
   * (which would rewrite the file) and the file is the one this object last read or wrote.
   * Spares reading a file of millions of tokens after every sync.
   */
  async unchanged (): Promise<boolean> {
    return this.opts.exportCommand === '' && this.known !== '' && await this.signature() === this.known
  }

  /** Writes the DB atomically, formatted chunk by chunk, and runs the import command (if any). */
  async write (db: BayesDb): Promise<void> {
    this.known = ''
    await writeFileAtomic(this.path, formatSaBackupChunks(db))
    this.known = await this.signature()
    if (this.opts.importCommand !== '') {
      assertSucceeded(await runCommand(this.opts.importCommand, { cwd: this.opts.cwd ?? process.cwd(), timeoutMs: this.opts.commandTimeoutMs }))
    }
  }

  // Inode, size and change times to the nanosecond: any write or replacement changes one.
  private async signature (): Promise<string> {
    const s = await stat(this.path, { bigint: true }).catch(() => null)
    return s === null ? '' : `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
  }
}
