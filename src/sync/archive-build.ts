/**
 * Builds a settings archive from the replicas: the one way an archive leaves a node, whether a
 * slave uploads, the master answers a fetch or hands out its full archive, or the operator runs
 * `spamsync export`, so what goes into one cannot drift between them.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { buildSettingsArchive, type ArchiveMeta } from './settings-archive.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { EntryColumns } from '../crdt/entry-columns.js'
import type { BayesContribution, EncodedBayes } from '../archive/bayes-codec.js'

/** Which list entries an archive carries. */
export type ListSelection =
  /**
   * Every entry of every dataset, tombstones too (so a delete travels), an empty dataset as an
   * empty file. Read as columns, never as an object per entry (a replica loaded on demand reads
   * an unchanged list straight from the store).
   */
  | { readonly kind: 'all' }
  /** The entries changed since a local change sequence; `ownOnly`: only those not from the central state. Datasets without any are left out. */
  | { readonly kind: 'changedSince', readonly lseq: number, readonly ownOnly: boolean }

/** What an archive carries. */
export interface ArchiveContent {
  lists: ListSelection
  /** Bayes contributions, or a Bayes file already encoded; null or none: no bayes.bin. */
  bayes: BayesContribution[] | EncodedBayes | null
}

/** A built archive and what it carries. */
export interface BuiltArchive {
  zip: Uint8Array
  /** The list entries it carries, by dataset. */
  lists: ReadonlyMap<ListDataset, EntryColumns>
  /** List entries in it. */
  listEntries: number
  /** Whether it carries Bayes contributions. */
  bayes: boolean
}

/** The list entries `selection` names. */
async function selectLists (replica: ListReplica, selection: ListSelection): Promise<{ lists: Map<ListDataset, EntryColumns>, n: number }> {
  const lists = new Map<ListDataset, EntryColumns>()
  let n = 0
  for (const ds of LIST_DATASETS) {
    if (selection.kind === 'all') {
      const entries = await replica.columns(ds)
      lists.set(ds, entries)
      n += entries.length
      continue
    }
    // As columns, not an object per entry (a delta can be the whole list: an initial sync); own
    // changes only: the central state's entries are skipped as they are read.
    const entries = await replica.columns(ds, selection)
    if (entries.length > 0) lists.set(ds, entries)
    n += entries.length
  }
  return { lists, n }
}

/** Whether a Bayes part carries any contribution. */
function carriesBayes (bayes: BayesContribution[] | EncodedBayes | null): bayes is BayesContribution[] | EncodedBayes {
  return bayes !== null && (Array.isArray(bayes) ? bayes.length : bayes.contributions) > 0
}

/** Builds an archive of the selected list entries and the given Bayes contributions. */
export async function buildArchive (meta: ArchiveMeta, replica: ListReplica, content: ArchiveContent): Promise<BuiltArchive> {
  const { lists, n } = await selectLists(replica, content.lists)
  const bayes = carriesBayes(content.bayes) ? content.bayes : null
  return { zip: buildSettingsArchive(meta, lists, bayes), lists, listEntries: n, bayes: bayes !== null }
}
