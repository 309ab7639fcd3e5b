/**
 * Merges a checked settings archive into the replicas: the one way an archive's content enters a
 * node, whether a slave applies the master's, the master merges an upload, or the operator runs
 * `spamsync import`, so the three cannot drift apart.
 */
import type { ListDataset } from '../constants.js'
import type { ListReplica, MergeOptions } from '../replica/list-replica.js'
import type { Entry } from '../crdt/lww-set.js'
import { compareStamps } from '../crdt/hlc.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { SettingsArchive } from './settings-archive.js'

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
  /** Check that every list entry was stored as carried ({@link Applied.asCarried}); off: not checked, false. */
  checkCarried?: boolean
}

/** What merging an archive changed. */
export interface Applied {
  /** Each list dataset the archive carries, in the archive's order. */
  lists: Array<{ dataset: ListDataset, changed: number, carried: number }>
  /** Bayes token records the merge changed (0: none carried, none new, or Bayes not synced). */
  bayesChanged: number
  /**
   * With checkCarried: every list entry carried won and was stored exactly as carried (no
   * stamp clamped, none already held), so the lists now hold what they held plus the archive.
   */
  asCarried: boolean
}

/** Merges the archive's lists, then its Bayes contributions, each in its own store batch. */
export async function applyArchive (archive: SettingsArchive, parts: ApplyParts, opts: ApplyOptions): Promise<Applied> {
  const lists: Applied['lists'] = []
  let asCarried = opts.checkCarried === true
  for (const [dataset, entries] of archive.lists) {
    const stored = await parts.replica.merge(dataset, entries, { synced: opts.synced, received: received(archive, dataset, entries) })
    if (asCarried) asCarried = storedAsCarried(entries, stored)
    lists.push({ dataset, changed: stored.length, carried: entries.length })
    if (stored.length > 0) await opts.listChanged?.(dataset)
  }
  const bayesChanged = archive.bayes === null || parts.bayes === undefined ? 0 : await parts.bayes.mergeSections(archive.bayes)
  return { lists, bayesChanged, asCarried }
}

/** True when `stored` (what a merge changed) is each of `carried` as it was carried. */
function storedAsCarried (carried: readonly Entry[], stored: readonly Entry[]): boolean {
  if (stored.length !== carried.length) return false
  const byKey = new Map(stored.map(e => [e.key, e]))
  return carried.every(c => {
    const s = byKey.get(c.key)
    return s !== undefined && s.present === c.present && s.value === (c.present ? c.value : '') && compareStamps(s.stamp, c.stamp) === 0
  })
}

/** The list file of `dataset` as received, deflated, for a replica that keeps it (MergeOptions.received). */
function received (archive: SettingsArchive, dataset: ListDataset, entries: Entry[]): MergeOptions['received'] {
  const deflated = archive.deflatedLists.get(dataset)
  return deflated === undefined ? undefined : { deflated, entries: entries.length }
}

/** The list datasets an apply changed. */
export function changedLists (applied: Applied): ListDataset[] {
  return applied.lists.filter(l => l.changed > 0).map(l => l.dataset)
}
