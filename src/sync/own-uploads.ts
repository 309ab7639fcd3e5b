/**
 * The list files this node uploaded lately, by sha256. A master that merged an upload into an
 * empty list passes the upload's file on as its delta (EntryBuckets.keepReceived), so the
 * origin fetches its own bytes back: an initial sync of 121,570 lines cost it ~0.5 s of decode
 * and ~0.2 s of merge (1M: several seconds) that change nothing, while the other slaves, on
 * the critical path, wait for the CPU. Every entry of such a file is one this node held with
 * that stamp when it built the upload; stamps it holds only grow (a local edit, a merge and a
 * rollback stamp anew), so merging the file again changes nothing as long as nothing else
 * changed the dataset since (a clamp of stamps from the future lowers them, and counts as a
 * change). The file is then left undecoded (settings-archive.ts `leaveUndecoded`) and not merged.
 */
import type { ListDataset } from '../constants.js'
import type { EncodedList } from '../archive/list-codec.js'
import { packed } from '../archive/packed-file.js'
import type { ListReplica } from '../replica/list-replica.js'

/** Uploaded list files remembered: an upload is fetched back with the next version or not at all. */
const KEPT = 8

/** What is known of one uploaded list file. */
interface OwnFile {
  dataset: ListDataset
  /** The replica's change sequence when the upload was built: the entries it held then. */
  lseq: number
  /** Entries of the file, tombstones included, as this node encoded them (not as a peer's manifest says). */
  entries: number
}

/** The list files of this node's recent uploads. */
export class OwnUploads {
  private readonly files = new Map<string, OwnFile>()
  /**
   * True while an upload waits for the master's answer: a version announced meanwhile right after
   * the one this node applied is most likely the one that holds it (Downloader).
   */
  answerDue = false

  constructor (private readonly replica: Pick<ListReplica, 'changedSince'>) {}

  /** An upload was built of `lists` at change sequence `lseq`. */
  remember (lists: ReadonlyMap<ListDataset, EncodedList>, lseq: number): void {
    for (const [dataset, list] of lists) {
      // Computed when the archive was packed: packed() keeps it per bytes object.
      const sha256 = packed(list.data).sha256
      this.files.delete(sha256)
      this.files.set(sha256, { dataset, lseq, entries: list.entries })
    }
    for (const sha of this.files.keys()) {
      if (this.files.size <= KEPT) break
      this.files.delete(sha)
    }
  }

  /** Whether a file of this sha256 was uploaded from here (its bytes need no decode to be known valid). */
  uploaded (sha256: string): boolean {
    return this.files.has(sha256)
  }

  /** The number of entries of this node's uploaded file `sha256`, or undefined: the count a snapshot kept from it is checked against (ListReplica.keepFile). */
  entriesOf (sha256: string): number | undefined {
    return this.files.get(sha256)?.entries
  }

  /**
   * Whether merging the uploaded file `sha256` into `dataset` now would change nothing: it is
   * this node's upload of that dataset, and no entry of the dataset changed since it was built.
   * Asked in the apply queue, so nothing changes between the answer and the merge it spares.
   */
  async changesNothing (dataset: ListDataset, sha256: string): Promise<boolean> {
    const own = this.files.get(sha256)
    if (own === undefined || own.dataset !== dataset) return false
    return (await this.replica.changedSince(dataset, own.lseq)).length === 0
  }
}
