/**
 * The settings folder as the mail server sees it: reads the list files into the replica and
 * writes the replica back into them, keeping every comment and bad line of the operator's.
 *
 * A missing list file is not "delete everything": a folder that is not mounted yet must not
 * wipe a cluster's lists. It is left alone by scans and created by the next write (at the
 * latest when the agent starts).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LIST_DATASETS, listFileName, type ListDataset } from '../constants.js'
import { renderListFile, renderListFileChanges, renderNewListFile, reparseListFile, type InvalidLine } from './list-file.js'
import { writeFileAtomic } from './atomic-write.js'
import type { ListReplica } from '../sync/list-replica.js'
import type { StoredEntry } from '../store/state-store.js'

/** What one scan of the folder found. */
export interface ScanResult {
  /** Entries that changed the replica, per dataset (only datasets with changes). */
  changed: Map<ListDataset, StoredEntry[]>
}

/** Reads and writes the list files of one settings folder. */
export class SettingsFolder {
  /** Datasets whose file was missing at the last read. */
  private readonly missing = new Set<ListDataset>()

  constructor (readonly dir: string, private readonly replica: ListReplica) {}

  /** Path of a dataset's file. */
  path (dataset: ListDataset): string {
    return join(this.dir, listFileName(dataset))
  }

  /**
   * The bad lines of each file as last read or written, as reported to the operator (none for
   * a missing file). A file that did not change since it was stored is parsed only here.
   */
  get invalid (): Map<ListDataset, InvalidLine[]> {
    const out = new Map<ListDataset, InvalidLine[]>()
    for (const ds of LIST_DATASETS) out.set(ds, this.missing.has(ds) ? [] : this.replica.fileView(ds).parsed.invalid)
    return out
  }

  /** Scans every list file and stamps what the operator changed. */
  async scan (): Promise<ScanResult> {
    const changed = new Map<ListDataset, StoredEntry[]>()
    for (const dataset of LIST_DATASETS) {
      const { changes } = await this.scanOne(dataset)
      if (changes.length > 0) changed.set(dataset, changes)
    }
    return { changed }
  }

  /**
   * Writes the replica's present entries into the dataset's file, after one more scan so an
   * edit made since the last scan is stamped first and not overwritten. Returns whether the
   * file's content changed.
   */
  async write (dataset: ListDataset): Promise<boolean> {
    const { text } = await this.scanOne(dataset)
    // After the scan the file view is the file as it is now.
    const before = text === null ? null : this.replica.fileView(dataset).parsed
    const changes = this.replica.unwrittenChanges(dataset)
    // The replica's keys are normalised already (a scan parsed them or a checked archive brought them).
    const next = before === null
      ? renderNewListFile(this.replica.entries(dataset), { keysNormalised: true })
      : changes === undefined
        ? renderListFile(before, this.replica.desired(dataset), { keysNormalised: true })
        : renderListFileChanges(before, changes, { keysNormalised: true })
    const changed = next !== text
    if (changed) await writeFileAtomic(this.path(dataset), next)
    // The new text's parse from the old one, reading only the changed lines: parsing a big file
    // anew after every one-line write was most of the cost of applying a change.
    await this.replica.recordFileView(dataset, next, before === null ? undefined : reparseListFile(before, next, listFileName(dataset)))
    return changed
  }

  private async scanOne (dataset: ListDataset): Promise<{ text: string | null, changes: StoredEntry[] }> {
    let text: string
    try {
      text = await readFile(this.path(dataset), 'utf8')
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw err
      this.missing.add(dataset)
      return { text: null, changes: [] }
    }
    this.missing.delete(dataset)
    return { text, changes: await this.replica.applyScan(dataset, text) }
  }
}
