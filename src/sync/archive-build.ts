/**
 * Builds a settings archive from the replicas: the one way an archive leaves a node, whether a
 * slave uploads, the master answers a fetch or hands out its full archive, or the operator runs
 * `spamsync export`, so what goes into one cannot drift between them.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { buildSettingsArchive, type ArchiveMeta } from './settings-archive.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { EncodedList } from '../archive/list-codec.js'
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
  /** The list files it carries, encoded, by dataset. */
  lists: ReadonlyMap<ListDataset, EncodedList>
  /** List entries in it. */
  listEntries: number
  /** Whether it carries Bayes contributions. */
  bayes: boolean
}

/**
 * The list files `selection` names, encoded. Read as columns, not an object per entry (a delta
 * can be the whole list: an initial sync), and encoded once while a dataset is unchanged
 * (ListReplica.encoded): the version snapshot and every fetcher share it.
 */
async function selectLists (replica: ListReplica, selection: ListSelection): Promise<{ lists: Map<ListDataset, EncodedList>, n: number }> {
  const lists = new Map<ListDataset, EncodedList>()
  let n = 0
  for (const ds of LIST_DATASETS) {
    const encoded = await replica.encoded(ds, selection.kind === 'all' ? undefined : selection)
    // A delta leaves out a dataset without changes; the full state has each, an empty one as an empty file.
    if (selection.kind === 'all' || encoded.entries > 0) lists.set(ds, encoded)
    n += encoded.entries
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
