/**
 * The list side of a rollback: every entry that differs from a kept version's snapshot is
 * stamped anew with the snapshot's value (rollback.ts), so the rollback syncs like any edit and
 * nothing is rewritten in place. Bayes is not rolled back: its counters only grow.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { ROLLBACK_LISTED_KEYS, summarizeDataset, type RollbackOutcome } from '../archive/change-summary.js'
import { rollbackEntries } from './rollback.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { VersionContent } from './version-history.js'

/** What restoring the lists did (or, as a dry run, would do). */
export interface RestoredLists {
  /** The datasets whose entries changed (none for a dry run). */
  changed: ListDataset[]
  /** Per dataset, the keys that differ, for the operator. */
  lists: RollbackOutcome['lists']
}

/** Brings every list of `replica` back to `content`; a dry run only says what would change. */
export async function restoreLists (replica: ListReplica, content: VersionContent, dryRun: boolean): Promise<RestoredLists> {
  const changed: ListDataset[] = []
  const lists: RollbackOutcome['lists'] = {}
  for (const ds of LIST_DATASETS) {
    const restamped = rollbackEntries(replica.entries(ds), await content.entries(ds), () => replica.clock.now())
    const summary = summarizeDataset(restamped.map(after => ({ before: replica.get(ds, after.key), after })), ROLLBACK_LISTED_KEYS)
    if (summary.keys.length > 0) lists[ds] = summary
    if (!dryRun && (await replica.merge(ds, restamped, { synced: false })).length > 0) changed.push(ds)
  }
  return { changed, lists }
}
