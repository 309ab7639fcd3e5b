/**
 * This node's replica of the Bayes dataset: every node's contribution (what that node learned
 * itself), and this node's baseline (its local DB as of the last scan or apply).
 *
 * A contribution only grows: counts add up, atime moves forward, seen ids join. So two copies of
 * one node's contribution join by taking, per token, the larger of each field; joining is
 * commutative, associative and idempotent, and a delta is just the tokens whose fields grew.
 *
 * Durable form (binary values of the store): a snapshot of all contributions, then a log of the
 * deltas since, one record per change under its Bayes change sequence (`bseq`), so "changes since
 * a version" is a range read of the log. When the log holds more than twice the tokens of the
 * state it is folded into a new snapshot; versions older than that are then answered with the
 * full state.
 *
 * Writing the cluster's DB to the local store is write-ahead: the DB about to be written is
 * recorded as the *pending* baseline (its change sequence, like a merged baseline) before
 * bayes.txt is replaced or the import command runs, and becomes the baseline, pending cleared,
 * in one batch once the import succeeded. While a write is pending the local DB may hold the old
 * DB, the new one, or a part of it (a kill during `sa-learn --restore`), so a scan then takes as
 * its baseline the join of the old baseline and the pending DB: nothing of the cluster's DB that
 * reached the local store counts as this node's own again, whatever the crash point. The agent
 * redoes a pending write at start, and so a write that a merge made due (a flag set in the
 * merge's batch, cleared with the baseline) but a crash kept from starting.
 *
 * The baseline after a sync wrote the cluster's DB is that DB: the merged contributions as of a
 * change sequence. It is then kept as that sequence (a small meta value), not as a second encoded
 * copy of millions of tokens, and rebuilt at load from the snapshot and the log up to it; a fold
 * that would drop the log records it needs writes it out as a blob first.
 */
import { addContribution, emptyBayesDb, ownDelta, type BayesDb, type Contribution } from '../crdt/bayes-counters.js'
import { decodeBayes, encodeBayes, joinBayesSections, type BayesContribution, type EncodedBayes, type EncodedContribution } from '../archive/bayes-codec.js'
import type { StateStore } from '../store/state-store.js'
import type { KnownBayesFile } from '../settings/bayes-file.js'
import { pacer, type Pause } from '../pace.js'
import { join, joinContribution, sameDb } from './bayes-join.js'
import { countsOf, decodeHeld, decodeHeldPaced, encodeSections, heldAfter, joinSections, mergedOfHeld, replaceHeld, type HeldContribution, type HeldContributions } from './bayes-held.js'
import { mergedStream, type MergedStream } from './bayes-stream.js'
import { joinFile, LOG_PREFIX, logName, logSeq, recordsFile, type CommitOptions } from './bayes-log.js'
export { joinContribution, type ContributionJoin } from './bayes-join.js'

/** Blob names this module owns. */
const SNAPSHOT = 'bayes!snapshot'
const BASELINE = 'bayes!baseline'
/** Meta keys this module owns. */
const META_BSEQ = 'bayesSeq'
const META_SNAPSHOT_BSEQ = 'bayesSnapshotSeq'
/** The baseline is the merged DB as of this change sequence (null: the BASELINE blob). */
const META_MERGED_BASELINE = 'bayesMergedBaseline'
/** A write of the cluster's DB to the local store that has not finished (null: none). */
const META_PENDING_BASELINE = 'bayesPendingBaseline'
/** True from a merge that grew the cluster's DB until that DB is written to the local store. */
const META_FILE_BEHIND = 'bayesFileBehind'
/**
 * bayes.txt as BayesFile knew it when the baseline was read from or written to it (null, absent:
 * unknown): a restart does not read and parse a file of millions of tokens it would find unchanged.
 */
const META_FILE_KNOWN = 'bayesFileKnown'

/** A baseline kept as what it was made of: the merged contributions as of `bseq`, expired to `maxTokens` (0: all). */
interface MergedBaseline {
  bseq: number
  maxTokens: number
}

/**
 * This node's baseline, held small: a scanned one as the bytes of a Bayes file of one
 * contribution (about 5 bytes a token; null: none), a written cluster DB as the contributions it
 * was summed from (held anyway, as values never change) and summed again when a scan needs it.
 * After a sync the baseline is the whole cluster's DB: as a table it took more memory than all
 * the contributions but one.
 */
type Baseline = { kind: 'scanned', bytes: Uint8Array | null } | ({ kind: 'merged' } & HeldBaseline)

/** A cluster's DB as the contributions it was summed from, expired to `maxTokens` (0: all). */
interface HeldBaseline {
  contribs: ReadonlyMap<string, HeldContribution>
  maxTokens: number
}

/** Log records kept before they are folded into the snapshot, whatever their size. */
const MAX_LOG_RECORDS = 256
/**
 * The log is folded once its token records outnumber twice the tokens of the state (or this
 * many, for a small state): replaying it at start then costs at most about twice reading the
 * state. Measured against the state, not the last snapshot, so the first uploads of a new
 * cluster (each a node's whole contribution) stay in the log and are answered as deltas.
 */
const MIN_FOLD_TOKENS = 100_000

/** The Bayes dataset of one node. */
export class BayesReplica {
  private bseq: number
  /** Bayes change sequence of the last change to this node's own contribution (since load). */
  private ownBseq: number
  private logRecords: number
  /** Token records in the log. */
  private logTokens: number

  private constructor (
    private readonly store: StateStore,
    readonly nodeId: string,
    private readonly contribs: HeldContributions,
    private baseline: Baseline,
    bseq: number,
    private snapshotSeq: number,
    logRecords: number,
    logTokens: number,
    private mergedBaseline: MergedBaseline | null,
    /** The contributions of a write to the local store that has not finished, or null. */
    private pending: HeldBaseline | null,
    private behind: boolean,
    private knownFile: KnownBayesFile | null,
    /** Awaited between the steps of a decode, join or sum of contributions (pace.ts). */
    private readonly pause: Pause
  ) {
    this.bseq = bseq
    this.ownBseq = bseq
    this.logRecords = logRecords
    this.logTokens = logTokens
  }

  /**
   * Loads the snapshot, replays the log after it, and loads the baseline (and a pending one);
   * `pause` (default: a turn of the event loop every 50 ms) cuts its long steps up.
   */
  static async load (store: StateStore, nodeId: string, pause: Pause = pacer()): Promise<BayesReplica> {
    const contribs: HeldContributions = new Map()
    const snapshot = await store.getBlob(SNAPSHOT)
    if (snapshot !== undefined) joinFile(contribs, snapshot, SNAPSHOT)
    const snapshotSeq = (await store.getMeta<number>(META_SNAPSHOT_BSEQ)) ?? 0
    const mergedBaseline = (await store.getMeta<MergedBaseline | null>(META_MERGED_BASELINE)) ?? null
    const pendingMarker = (await store.getMeta<MergedBaseline | null>(META_PENDING_BASELINE)) ?? null
    // The contributions as of each marker's sequence (values are immutable: a shallow copy keeps
    // them). A pending marker older than the snapshot (a failed import, then folds) takes the
    // snapshot: a larger pending DB can only make a scan count less as this node's own, never twice.
    const markers = [mergedBaseline, pendingMarker]
    const at = markers.map(m => m !== null && m.bseq <= snapshotSeq ? new Map(contribs) : null)
    let logTokens = 0
    const log = await store.blobsWithPrefix(LOG_PREFIX)
    for (const [name, data] of log) {
      logTokens += joinFile(contribs, data, name)
      markers.forEach((m, i) => { if (m !== null && logSeq(name) <= m.bseq) at[i] = new Map(contribs) })
    }
    const baseline: Baseline = mergedBaseline === null
      ? { kind: 'scanned', bytes: (await store.getBlob(BASELINE)) ?? null }
      : { kind: 'merged', contribs: at[0] ?? new Map(contribs), maxTokens: mergedBaseline.maxTokens }
    const pending = pendingMarker === null ? null : { contribs: at[1] ?? new Map(contribs), maxTokens: pendingMarker.maxTokens }
    return new BayesReplica(store, nodeId, contribs, baseline,
      (await store.getMeta<number>(META_BSEQ)) ?? 0, snapshotSeq,
      log.length, logTokens, mergedBaseline, pending, (await store.getMeta<boolean>(META_FILE_BEHIND)) ?? false,
      (await store.getMeta<KnownBayesFile | null>(META_FILE_KNOWN)) ?? null, pause)
  }

  /**
   * bayes.txt as the baseline was read from it or written to it (null when unknown): while the
   * file still has its signature, a scan would find nothing grown.
   */
  get fileKnown (): KnownBayesFile | null {
    return this.knownFile
  }

  /** The newest Bayes change sequence. */
  get changeSeq (): number {
    return this.bseq
  }

  /**
   * The change sequence of the last change to this node's own contribution (after a load: the
   * sequence loaded), so an upload of it stays current while only other nodes' changes arrive.
   */
  get ownChangeSeq (): number {
    return this.ownBseq
  }

  /** Total tokens over all contributions. */
  get tokenCount (): number {
    return countsOf(this.contribs).tokens
  }

  /** Number of nodes with a contribution. */
  get contributorCount (): number {
    return this.contribs.size
  }

  /** Tokens and message counts summed over all contributions, without decoding any. */
  counts (): { tokens: number, spam: number, ham: number } {
    return countsOf(this.contribs)
  }

  /** The contribution of one node, decoded (do not change it), or undefined. */
  contribution (nodeId: string): Contribution | undefined {
    const held = this.contribs.get(nodeId)
    return decodeHeld(held)
  }

  /** {@link contribution}, decoded with the replica's pauses between its columns. */
  async contributionPaced (nodeId: string): Promise<Contribution | undefined> {
    return await decodeHeldPaced(this.contribs.get(nodeId), this.pause)
  }

  /** Every node's contribution, decoded (each call decodes them all: for tools and tests; the sync uses {@link file}). */
  contributions (): BayesContribution[] {
    return [...this.contribs.keys()].map(nodeId => ({ nodeId, db: this.contribution(nodeId) as Contribution }))
  }

  /** The contributions whose node `keep` accepts as the bytes of a Bayes file, put together from the held sections. */
  file (keep: (nodeId: string) => boolean = () => true): EncodedBayes {
    return joinBayesSections([...this.contribs.values()].filter(c => keep(c.nodeId)))
  }

  /**
   * The cluster's DB: the sum of every contribution, as one table (for tools and tests: the
   * write streams it, {@link mergedStream}), summed with turns of the event loop between its steps.
   */
  async merged (): Promise<BayesDb> {
    return await mergedOfHeld(this.contribs, 0, this.pause)
  }

  /**
   * The cluster's DB as it is now, expired to `maxTokens` newest tokens (0: all), with its tokens
   * as a stream summed from the held sections as it is read: the write of bayes.txt never holds
   * it whole. Later changes do not reach a stream already made.
   */
  async mergedStream (maxTokens: number): Promise<MergedStream> {
    return await mergedStream(new Map(this.contribs), maxTokens, this.pause)
  }

  /**
   * Takes a scan of the local DB: what grew since the baseline is added to this node's own
   * contribution, and the scan becomes the new baseline, with `file` (the file it was read from;
   * null unknown). Returns the tokens that grew.
   */
  async applyScan (localNow: BayesDb, file: KnownBayesFile | null = null): Promise<number> {
    const delta = ownDelta(localNow, await this.scanBaseline())
    const own = await this.contributionPaced(this.nodeId) ?? emptyBayesDb()
    const { joined, grown } = joinContribution(own, addContribution(own, delta))
    const sections = grown === null ? [] : await encodeSections([{ nodeId: this.nodeId, db: grown }], this.pause)
    // A first scan's baseline is the change itself: its bytes are the record's.
    const baselineIsChange = grown !== null && sameDb(grown, localNow)
    await this.commit(sections, { joined: new Map([[this.nodeId, joined]]), baseline: localNow, baselineIsChange, merged: false, file })
    return grown?.tokens.keys.length ?? 0
  }

  /** Joins contributions from elsewhere (for tools and tests: the sync passes sections, {@link mergeSections}); returns how many tokens grew. */
  async merge (incoming: BayesContribution[]): Promise<number> {
    const byNode = new Map<string, Contribution>()
    for (const c of incoming) join(byNode, c)
    return await this.mergeSections(await encodeSections([...byNode].map(([nodeId, db]) => ({ nodeId, db })), this.pause))
  }

  /**
   * Joins contributions from elsewhere, one section per node (an archive's, checked when it was
   * read); returns how many tokens grew. A node new here is held as the bytes it came in, never
   * decoded; a node held already is decoded, joined and encoded again only when it grew, one node
   * at a time, so at most two contributions are tables at once.
   */
  async mergeSections (incoming: readonly EncodedContribution[]): Promise<number> {
    const { sections, joined, grownTokens } = await joinSections(this.contribs, incoming, this.pause)
    await this.commit(sections, { joined, baseline: null, baselineIsChange: false, merged: true, file: null })
    return grownTokens
  }

  /**
   * True while the local store may lag the cluster's DB: a merge grew it since the last write
   * finished, or a write has not finished (see the module comment). Durable: true after a
   * restart until a write finishes.
   */
  get writeDue (): boolean {
    return this.behind || this.pending !== null
  }

  /**
   * Write-ahead of a write of the cluster's DB as it is now (expired to `maxTokens` newest tokens
   * when that is not 0) to the local store: call before bayes.txt is replaced or the import
   * command runs, and {@link setMergedBaseline} once the import succeeded.
   */
  async beginMergedBaseline (maxTokens: number): Promise<void> {
    const marker: MergedBaseline = { bseq: this.bseq, maxTokens }
    // The file is about to be replaced: until the write is done what was known of it says nothing.
    await this.store.write({ meta: { [META_PENDING_BASELINE]: marker, [META_FILE_KNOWN]: null } })
    this.pending = { contribs: new Map(this.contribs), maxTokens }
    this.knownFile = null
  }

  /**
   * Records the cluster's DB as it is now (expired to `maxTokens` newest tokens when that is not
   * 0), which is now in the local store, as the baseline of the next scan: stored as the change
   * sequence it was made at, not encoded again, and the pending write cleared in the same batch;
   * `file` is the file written (null unknown).
   */
  async setMergedBaseline (maxTokens: number, file: KnownBayesFile | null = null): Promise<void> {
    const marker: MergedBaseline = { bseq: this.bseq, maxTokens }
    await this.store.write({ blobs: [{ name: BASELINE, value: null }], meta: { [META_MERGED_BASELINE]: marker, [META_PENDING_BASELINE]: null, [META_FILE_BEHIND]: false, [META_FILE_KNOWN]: file } })
    this.knownFile = file
    this.baseline = { kind: 'merged', contribs: new Map(this.contribs), maxTokens }
    this.mergedBaseline = marker
    this.pending = null
    this.behind = false
  }

  /** What a scan's growth is measured from: the baseline, joined with the pending DB while a write is pending. */
  private async scanBaseline (): Promise<BayesDb> {
    const baseline = await this.baselineDb()
    const p = this.pending
    return p === null ? baseline : joinContribution(baseline, await mergedOfHeld(p.contribs, p.maxTokens, this.pause)).joined
  }

  private async baselineDb (): Promise<BayesDb> {
    const b = this.baseline
    if (b.kind === 'merged') return await mergedOfHeld(b.contribs, b.maxTokens, this.pause)
    return b.bytes === null ? emptyBayesDb() : decodeBayes(b.bytes, { name: BASELINE })[0]?.db ?? emptyBayesDb()
  }

  /**
   * The contributions that grew after `bseq` and up to `upTo` (default: now) whose node `keep`
   * accepts, joined into one per node, as the bytes of a Bayes file; null when the log no longer
   * reaches back that far and only the full state can answer. Only the log records in that range
   * are read (see recordsFile).
   */
  async changedSinceFile (bseq: number, keep: (nodeId: string) => boolean = () => true, upTo = this.bseq): Promise<EncodedBayes | null> {
    if (bseq >= upTo) return joinBayesSections([])
    if (bseq < this.snapshotSeq) return null
    return recordsFile(await this.store.blobsBetween(logName(bseq), logName(upTo)), keep)
  }

  /**
   * Writes one change: a log record of what grew (and the baseline when a scan moved it, or,
   * from a `merged` change, the flag that the local store lags), in one batch, then makes it
   * visible. When the log has grown too long, the state before this change becomes the new
   * snapshot and the log restarts with this change, so a node one change behind still gets a
   * delta.
   */
  private async commit (sections: EncodedContribution[], opts: CommitOptions): Promise<void> {
    const { baseline, merged, file } = opts
    const blobs: Array<{ name: string, value: Uint8Array | null }> = []
    const meta: Record<string, unknown> = {}
    const record = sections.length === 0 ? null : joinBayesSections(sections).data
    let baselineBytes: Uint8Array | null = null
    if (baseline !== null) {
      baselineBytes = record !== null && opts.baselineIsChange ? record : encodeBayes([{ nodeId: this.nodeId, db: baseline }]).data
      blobs.push({ name: BASELINE, value: baselineBytes })
      meta[META_MERGED_BASELINE] = null
      meta[META_FILE_KNOWN] = file
    }
    if (record === null) {
      if (blobs.length > 0) await this.store.write({ blobs, meta })
      if (baselineBytes !== null) this.setBaselineState(baselineBytes, file)
      return
    }
    const held = await heldAfter(this.contribs, sections, opts.joined, this.pause)
    const bseq = this.bseq + 1
    if (merged) meta[META_FILE_BEHIND] = true
    const recordTokens = sections.reduce((n, c) => n + c.tokens, 0)
    const fold = this.logRecords + 1 > MAX_LOG_RECORDS || this.logTokens + recordTokens > 2 * Math.max(this.tokenCount, MIN_FOLD_TOKENS)
    meta[META_BSEQ] = bseq
    if (fold) {
      // The fold drops the log records a merged baseline older than the snapshot is rebuilt from.
      if (baseline === null && this.mergedBaseline !== null && this.mergedBaseline.bseq < this.bseq) {
        const bytes = this.baseline.kind === 'scanned' ? this.baseline.bytes : null
        blobs.push({ name: BASELINE, value: bytes ?? encodeBayes([{ nodeId: this.nodeId, db: await this.baselineDb() }]).data })
        meta[META_MERGED_BASELINE] = null
      }
      const snapshot = this.file().data
      blobs.push({ name: SNAPSHOT, value: snapshot })
      for (const [name] of await this.store.blobsWithPrefix(LOG_PREFIX)) blobs.push({ name, value: null })
      meta[META_SNAPSHOT_BSEQ] = this.bseq
    }
    blobs.push({ name: logName(bseq), value: record })
    await this.store.write({ blobs, meta })
    replaceHeld(this.contribs, held)
    if (merged) this.behind = true
    if (baselineBytes !== null) this.setBaselineState(baselineBytes, file)
    if (meta[META_MERGED_BASELINE] === null) this.mergedBaseline = null
    if (fold) {
      this.snapshotSeq = this.bseq
      this.logRecords = 0
      this.logTokens = 0
    }
    this.bseq = bseq
    if (sections.some(c => c.nodeId === this.nodeId)) this.ownBseq = bseq
    this.logRecords++
    this.logTokens += recordTokens
  }

  /** A scanned baseline, now stored as this blob, read from `file`. */
  private setBaselineState (bytes: Uint8Array, file: KnownBayesFile | null): void {
    this.baseline = { kind: 'scanned', bytes }
    this.mergedBaseline = null
    this.knownFile = file
  }
}
