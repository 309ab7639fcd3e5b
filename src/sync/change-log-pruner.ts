/**
 * Keeps each list's change log (store/state-store.ts) about as long as the list: a log holding
 * more keys than the list has entries answers no "changed since" faster than looking at every
 * entry, and with churn (an auto-whitelist adding and dropping addresses all day) it would grow
 * without end. Prunes on the heartbeat, in the serial queue (no commit runs meanwhile), once a
 * log grew by as many keys as it keeps: so it holds at most twice the list, and each prune's
 * read of the log is paid for by as many changes.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { StateStore } from '../store/state-store.js'
import type { SerialQueue } from './serial-queue.js'

/** Keys a log keeps however small its list: a few edits to a short list need no pruning. */
export const MIN_CHANGE_LOG_KEYS = 4096

/** What the pruner works with. */
export interface ChangeLogParts {
  store: Pick<StateStore, 'changeLogGrowth' | 'pruneChangeLog'>
  replica: Pick<ListReplica, 'presentCount'>
  queue: SerialQueue
  report: (what: string, err: unknown) => void
}

/** Prunes the change logs of one node. */
export class ChangeLogPruner {
  private running = false

  constructor (private readonly parts: ChangeLogParts) {}

  /** Keys the log of `dataset` keeps: as many as the list has entries. */
  keep (dataset: ListDataset): number {
    return Math.max(MIN_CHANGE_LOG_KEYS, this.parts.replica.presentCount(dataset))
  }

  /** Prunes, in the queue, the logs that grew by as many keys as they keep; one prune at a time. */
  tick (): void {
    if (this.running) return
    const due = LIST_DATASETS.filter(ds => this.parts.store.changeLogGrowth(ds) >= this.keep(ds))
    if (due.length === 0) return
    this.running = true
    this.parts.queue.run(async () => {
      for (const ds of due) await this.parts.store.pruneChangeLog(ds, this.keep(ds))
    })
      .catch((err) => { this.parts.report('prune change log', err) })
      .finally(() => { this.running = false })
  }
}
