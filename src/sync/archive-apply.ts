/**
 * Merges a checked settings archive into the replicas: the one way an archive's content enters a
 * node, whether a slave applies the master's, the master merges an upload, or the operator runs
 * `spamsync import`, so the three cannot drift apart.
 */
import type { ListDataset } from '../constants.js'
import type { ListReplica, MergeOptions } from '../replica/list-replica.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import { archiveFileName, type SettingsArchive } from './settings-archive.js'

/** The replicas an archive is merged into. */
export interface ApplyParts {
  replica: ListReplica
  /** The Bayes replica, when Bayes is synced: without it the archive's contributions are left out. */
  bayes?: BayesReplica
}

/** How an archive is merged. */
export interface ApplyOptions {
  /**
   * True for the central state (from the master, or merged by it): nothing to upload. False for
   * an import: its entries are this node's changes, which it then uploads.
   */
  synced: boolean
  /**
   * Runs after each list dataset the archive changed, before the next one is merged (a slave
   * writes that file at once: protocol/sync-v1.md, "Crash consistency").
   */
  listChanged?: (dataset: ListDataset) => Promise<void>
  /**
   * The master merging an upload: a list file that becomes a dataset's whole content is held as
   * its encoding for the deltas that follow (EntryBuckets.keepReceived). Not on a slave, which
   * serves no delta and would only hold the bytes longer (4.6 MB at 121k lines, ~40 MB at 1M).
   */
  passOn?: boolean
}

/** What merging an archive changed. */
export interface Applied {
  /** Each list dataset the archive carries, in the archive's order. */
  lists: Array<{ dataset: ListDataset, changed: number, carried: number }>
  /** Bayes token records the merge changed (0: none carried, none new, or Bayes not synced). */
  bayesChanged: number
}

/** Merges the archive's lists, then its Bayes contributions, each in its own store batch. */
export async function applyArchive (archive: SettingsArchive, parts: ApplyParts, opts: ApplyOptions): Promise<Applied> {
  const lists: Applied['lists'] = []
  for (const [dataset, entries] of archive.lists) {
    const changed = (await parts.replica.merge(dataset, entries, { synced: opts.synced, received: received(archive, dataset, opts.passOn === true) })).length
    lists.push({ dataset, changed, carried: entries.length })
    if (changed > 0) await opts.listChanged?.(dataset)
  }
  const bayesChanged = archive.bayes === null || parts.bayes === undefined ? 0 : await parts.bayes.mergeSections(archive.bayes)
  return { lists, bayesChanged }
}

/**
 * The list file of `dataset` as received, deflated, and as encoded when `passOn`, for a replica
 * that keeps it (MergeOptions.received), with the entries the file holds: fewer are merged when
 * the master's tombstone screen took some out, and the file is then not what the dataset holds.
 */
function received (archive: SettingsArchive, dataset: ListDataset, passOn: boolean): MergeOptions['received'] {
  const deflated = archive.deflatedLists.get(dataset)
  const encoded = passOn ? archive.encodedLists.get(dataset) : undefined
  const entries = archive.manifest.files.find(f => f.name === archiveFileName(dataset))?.entries
  return entries === undefined || (deflated === undefined && encoded === undefined) ? undefined : { deflated, encoded, entries }
}

/** The list datasets an apply changed. */
export function changedLists (applied: Applied): ListDataset[] {
  return applied.lists.filter(l => l.changed > 0).map(l => l.dataset)
}
