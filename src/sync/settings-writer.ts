/**
 * Writes the settings files a sync changed: the list files, and bayes.txt with its import and
 * Bayes baseline. A failed write is reported, not thrown, and remembered, so the next heartbeat
 * (or the next change) writes it again; a passing fault (a full disk) heals without an operator.
 */
import type { ListDataset } from '../constants.js'
import type { ScanResult, SettingsFolder } from '../replica/settings-folder.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { BayesFile } from '../settings/bayes-file.js'

/** The parts of the Bayes dataset. */
export interface BayesParts {
  replica: BayesReplica
  file: BayesFile
  /** Keep only this many newest tokens in the written DB (0 = all). */
  maxTokens: number
}

/** What the writer writes to, and where it tells what went wrong. */
export interface SettingsWriterParts {
  folder: SettingsFolder
  bayes?: BayesParts
  /** A write (or the export before it) failed: for the error log; the writer keeps it due. */
  report: (what: string, err: unknown) => void
  /** A list write found an operator's edit made while it wrote: version or upload it like a scanned one. */
  editsFoundByWrite: () => void
}

/**
 * bayes.txt against the replica. `behind`: its write or import failed, or it was left to a newer
 * change already on its way (a waiting upload merge, an announced version), which writes it once
 * for both; the next heartbeat writes it when nothing newer is under way.
 */
export type BayesFileState =
  | { readonly kind: 'current' }
  | { readonly kind: 'behind', readonly why: 'failed' | 'superseded' }

const CURRENT: BayesFileState = { kind: 'current' }

/** Writes list files and bayes.txt for the engine (and for `spamsync import`). */
export class SettingsWriter {
  /** Files whose write failed (a full disk): the next heartbeat writes them again. */
  private readonly unwritten = new Set<ListDataset>()
  private bayesFile: BayesFileState = CURRENT
  /** Tokens in the Bayes DB last written to bayes.txt. */
  bayesTokens = 0

  constructor (private readonly parts: SettingsWriterParts) {}

  /** False while a list file cannot be written: the node is then no fit master. */
  get listsWritten (): boolean {
    return this.unwritten.size === 0
  }

  /** List files whose last write failed. */
  get unwrittenLists (): ListDataset[] {
    return [...this.unwritten]
  }

  /** Where bayes.txt stands against the replica. */
  get bayesState (): BayesFileState {
    return this.bayesFile
  }

  /** Writes a dataset's file; true when it changed. A failure is reported and kept due, not thrown. */
  async writeList (dataset: ListDataset): Promise<boolean> {
    const { folder } = this.parts
    const edits = folder.editsStampedByWrites
    try {
      const changed = await folder.write(dataset)
      this.unwritten.delete(dataset)
      return changed
    } catch (err) {
      this.unwritten.add(dataset)
      // tick() retries every heartbeat: the error log keeps a repeat as one entry with a count.
      this.parts.report(`write ${dataset}`, err)
      return false
    } finally {
      if (folder.editsStampedByWrites !== edits) this.parts.editsFoundByWrite()
    }
  }

  /**
   * Scans the list files (SettingsFolder.scan) and writes those where lines reached a replaced
   * file: else they would reach the file only with the next change.
   */
  async scanLists (): Promise<ScanResult> {
    const result = await this.parts.folder.scan()
    await this.writeLists(result.late)
    return result
  }

  /** Writes each dataset's file; returns those that changed. */
  async writeLists (datasets: Iterable<ListDataset>): Promise<ListDataset[]> {
    const changed: ListDataset[] = []
    for (const ds of datasets) if (await this.writeList(ds)) changed.push(ds)
    return changed
  }

  /** Scans bayes.txt into the replica; a failed export is reported and changes nothing. */
  async scanBayes (): Promise<number> {
    const bayes = this.parts.bayes
    if (bayes === undefined) return 0
    try {
      if (await bayes.file.unchanged()) return 0
      const local = await bayes.file.read()
      return local === null ? 0 : await bayes.replica.applyScan(local, bayes.file.known)
    } catch (err) {
      this.parts.report('bayes export', err)
      return 0
    }
  }

  /**
   * After a change to the Bayes replica (or with bayes.txt behind): writes it now, or when
   * `superseded` (a newer change is on its way and will write it) leaves it to that change, so a
   * DB of millions of tokens is formatted and written once, not per version. True once written.
   */
  async afterChange (grew: boolean, superseded: boolean): Promise<boolean> {
    if (!grew && this.bayesFile.kind === 'current') return false
    if (!superseded) return await this.writeBayes()
    if (this.parts.bayes !== undefined) this.bayesFile = { kind: 'behind', why: 'superseded' }
    return false
  }

  /**
   * Writes the cluster's Bayes DB (its newest maxTokens tokens) to bayes.txt and imports it; it
   * becomes the baseline of the next scan, so what other nodes learned is never counted as this
   * node's own. A scan runs first, so what this node learned since its last scan is not lost.
   * True once the file is written and imported; a failure is reported and left due.
   */
  async writeBayes (): Promise<boolean> {
    const bayes = this.parts.bayes
    if (bayes === undefined) return false
    await this.scanBayes()
    try {
      // Summed from the held sections as it is written: never the whole DB in memory. Taken before
      // the write-ahead, so the pending baseline holds at least what is written.
      const db = await bayes.replica.mergedStream(bayes.maxTokens)
      // Write-ahead: a crash from here until the baseline is stored never counts the written DB as learned here.
      await bayes.replica.beginMergedBaseline(bayes.maxTokens)
      await bayes.file.writeStream(db, db.rows())
      await bayes.replica.setMergedBaseline(bayes.maxTokens, bayes.file.known)
      this.bayesTokens = db.tokens
      this.bayesFile = CURRENT
      return true
    } catch (err) {
      this.bayesFile = { kind: 'behind', why: 'failed' }
      this.parts.report('bayes import', err)
      return false
    }
  }
}
