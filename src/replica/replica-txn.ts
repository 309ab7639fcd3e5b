/** The staged change ListReplica makes to one dataset, for a scan or an operator's edit. */
import type { StoredEntry } from '../store/state-store.js'
import type { FileView } from './file-view.js'

/** A staged change to one dataset of the replica. */
export interface ReplicaTxn {
  /** An entry as the transaction sees it (staged first). */
  get: (key: string) => StoredEntry | undefined
  /** True when the dataset held no entry as the transaction began: {@link get} finds only what was put. */
  heldNothing: boolean
  /** The next local change sequence number. */
  nextLseq: () => number
  /** Stages a new state of an entry. */
  put: (next: StoredEntry) => void
  /** Writes the staged entries (and the new file view, unless null) in one batch, then makes them visible. */
  commit: (fileView: FileView | null) => Promise<StoredEntry[]>
}
