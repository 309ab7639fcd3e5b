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
import { parseListFile, renderListFile, type InvalidLine, type ParsedListFile } from './list-file.js'
import { writeFileAtomic } from './atomic-write.js'
import type { ListReplica } from '../sync/list-replica.js'
import type { StoredEntry } from '../store/state-store.js'

/** What one scan of the folder found. */
export interface ScanResult {
  /** Entries that changed the replica, per dataset (only datasets with changes). */
  changed: Map<ListDataset, StoredEntry[]>
  /** Bad lines per dataset, as reported to the operator. */
  invalid: Map<ListDataset, InvalidLine[]>
}

/** Reads and writes the list files of one settings folder. */
export class SettingsFolder {
  /** The bad lines found by the last read of each file. */
  readonly invalid = new Map<ListDataset, InvalidLine[]>()

  constructor (readonly dir: string, private readonly replica: ListReplica) {}

  /** Path of a dataset's file. */
  path (dataset: ListDataset): string {
    return join(this.dir, listFileName(dataset))
  }

  /** Scans every list file and stamps what the operator changed. */
  async scan (): Promise<ScanResult> {
    const changed = new Map<ListDataset, StoredEntry[]>()
    for (const dataset of LIST_DATASETS) {
      const { changes } = await this.scanOne(dataset)
      if (changes.length > 0) changed.set(dataset, changes)
    }
    return { changed, invalid: this.invalid }
  }

  /**
   * Writes the replica's present entries into the dataset's file, after one more scan so an
   * edit made since the last scan is stamped first and not overwritten. Returns whether the
   * file's content changed.
   */
  async write (dataset: ListDataset): Promise<boolean> {
    const { parsed, text } = await this.scanOne(dataset)
    const desired = this.replica.desired(dataset)
    const next = renderListFile(parsed, desired)
    const changed = next !== text
    if (changed) await writeFileAtomic(this.path(dataset), next)
    await this.replica.recordFileView(dataset, desired)
    return changed
  }

  private async scanOne (dataset: ListDataset): Promise<{ parsed: ParsedListFile | null, text: string | null, changes: StoredEntry[] }> {
    const file = this.path(dataset)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw err
      this.invalid.set(dataset, [])
      return { parsed: null, text: null, changes: [] }
    }
    const parsed = parseListFile(text, listFileName(dataset))
    this.invalid.set(dataset, parsed.invalid)
    const changes = await this.replica.applyScan(dataset, parsed.entries)
    return { parsed, text, changes }
  }
}
