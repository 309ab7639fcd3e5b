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
 * a version" is a range read of the log. When the log outgrows the snapshot it is folded into a
 * new snapshot; versions older than that are then answered with the full state.
 */
import { emptyBayesDb, mergeContributions, ownDelta, type BayesDb, type Contribution } from '../crdt/bayes-counters.js'
import { decodeBayes, encodeBayes, type BayesContribution } from '../archive/bayes-codec.js'
import type { StateStore } from '../store/state-store.js'

/** Blob names this module owns. */
const SNAPSHOT = 'bayes!snapshot'
const BASELINE = 'bayes!baseline'
const LOG_PREFIX = 'bayes!log!'
/** Meta keys this module owns. */
const META_BSEQ = 'bayesSeq'
const META_SNAPSHOT_BSEQ = 'bayesSnapshotSeq'

/** Log records kept before they are folded into the snapshot, whatever their size. */
const MAX_LOG_RECORDS = 256

const logName = (bseq: number): string => LOG_PREFIX + bseq.toString(16).padStart(16, '0')

/**
 * What of `incoming` would grow `target` (null when nothing): per token the larger spam, ham
 * and atime win; seen ids join, 's' over 'h' as in the merge. Changes neither argument.
 */
export function growth (target: Contribution | undefined, incoming: Contribution): Contribution | null {
  const grown = emptyBayesDb()
  let changed = incoming.numSpam > (target?.numSpam ?? 0) || incoming.numHam > (target?.numHam ?? 0)
  for (const [token, n] of incoming.tokens) {
    const cur = target?.tokens.get(token)
    if (cur === undefined) {
      grown.tokens.set(token, { spam: n.spam, ham: n.ham, atime: n.atime })
    } else if (n.spam > cur.spam || n.ham > cur.ham || n.atime > cur.atime) {
      grown.tokens.set(token, { spam: Math.max(cur.spam, n.spam), ham: Math.max(cur.ham, n.ham), atime: Math.max(cur.atime, n.atime) })
    }
  }
  for (const [msgid, flag] of incoming.seen) {
    const cur = target?.seen.get(msgid)
    if (cur === undefined || (cur === 'h' && flag === 's')) grown.seen.set(msgid, flag)
  }
  if (!changed && grown.tokens.size === 0 && grown.seen.size === 0) return null
  // A delta carries the node's whole message counts, so a receiver never goes backwards.
  grown.numSpam = Math.max(target?.numSpam ?? 0, incoming.numSpam)
  grown.numHam = Math.max(target?.numHam ?? 0, incoming.numHam)
  return grown
}

/** Joins `incoming` into `target` in place (the same rule as {@link growth}). */
export function joinInto (target: Contribution, incoming: Contribution): void {
  const grown = growth(target, incoming)
  if (grown === null) return
  target.numSpam = grown.numSpam
  target.numHam = grown.numHam
  for (const [token, n] of grown.tokens) target.tokens.set(token, n)
  for (const [msgid, flag] of grown.seen) target.seen.set(msgid, flag)
}

/** The Bayes dataset of one node. */
export class BayesReplica {
  private bseq: number
  private logRecords: number
  private logBytes: number
  private snapshotBytes: number

  private constructor (
    private readonly store: StateStore,
    readonly nodeId: string,
    private readonly contribs: Map<string, Contribution>,
    private baseline: BayesDb,
    bseq: number,
    private snapshotSeq: number,
    logRecords: number,
    logBytes: number,
    snapshotBytes: number
  ) {
    this.bseq = bseq
    this.logRecords = logRecords
    this.logBytes = logBytes
    this.snapshotBytes = snapshotBytes
  }

  /** Loads the snapshot, replays the log after it, and loads the baseline. */
  static async load (store: StateStore, nodeId: string): Promise<BayesReplica> {
    const contribs = new Map<string, Contribution>()
    const snapshot = await store.getBlob(SNAPSHOT)
    if (snapshot !== undefined) for (const c of decodeBayes(snapshot, { name: SNAPSHOT })) join(contribs, c)
    let logBytes = 0
    const log = await store.blobsWithPrefix(LOG_PREFIX)
    for (const [name, data] of log) {
      for (const c of decodeBayes(data, { name })) join(contribs, c)
      logBytes += data.byteLength
    }
    const baselineBlob = await store.getBlob(BASELINE)
    const baseline = baselineBlob === undefined ? emptyBayesDb() : (decodeBayes(baselineBlob, { name: BASELINE })[0]?.db ?? emptyBayesDb())
    return new BayesReplica(store, nodeId, contribs, baseline,
      (await store.getMeta<number>(META_BSEQ)) ?? 0, (await store.getMeta<number>(META_SNAPSHOT_BSEQ)) ?? 0,
      log.length, logBytes, snapshot?.byteLength ?? 0)
  }

  /** The newest Bayes change sequence. */
  get changeSeq (): number {
    return this.bseq
  }

  /** Total tokens over all contributions. */
  get tokenCount (): number {
    let n = 0
    for (const c of this.contribs.values()) n += c.tokens.size
    return n
  }

  /** Every node's contribution (shared, not copied: do not change). */
  contributions (): BayesContribution[] {
    return [...this.contribs].map(([nodeId, db]) => ({ nodeId, db }))
  }

  /** The cluster's DB: the sum of every contribution. */
  merged (): BayesDb {
    return mergeContributions(this.contributions().map(c => ({ ...c.db, nodeId: c.nodeId, revision: 0 })))
  }

  /**
   * Takes a scan of the local DB: what grew since the baseline is added to this node's own
   * contribution, and the scan becomes the new baseline. Returns the tokens that grew.
   */
  async applyScan (localNow: BayesDb): Promise<number> {
    const delta = ownDelta(localNow, this.baseline)
    const own = this.contribs.get(this.nodeId)
    const next: Contribution = { numSpam: (own?.numSpam ?? 0) + delta.numSpam, numHam: (own?.numHam ?? 0) + delta.numHam, tokens: new Map(), seen: delta.seen }
    for (const [token, d] of delta.tokens) {
      const cur = own?.tokens.get(token)
      next.tokens.set(token, cur === undefined ? d : { spam: cur.spam + d.spam, ham: cur.ham + d.ham, atime: Math.max(cur.atime, d.atime) })
    }
    const grown = growth(own, next)
    await this.commit(grown === null ? [] : [{ nodeId: this.nodeId, db: grown }], localNow)
    return grown?.tokens.size ?? 0
  }

  /** Joins contributions from elsewhere; returns how many tokens grew. */
  async merge (incoming: BayesContribution[]): Promise<number> {
    const byNode = new Map<string, Contribution>()
    for (const c of incoming) joinInto(byNode.get(c.nodeId) ?? setEmpty(byNode, c.nodeId), c.db)
    const changes: BayesContribution[] = []
    for (const [nodeId, db] of byNode) {
      const grown = growth(this.contribs.get(nodeId), db)
      if (grown !== null) changes.push({ nodeId, db: grown })
    }
    await this.commit(changes, null)
    return changes.reduce((n, c) => n + c.db.tokens.size, 0)
  }

  /** Records the DB just applied to the local store as the baseline of the next scan. */
  async setBaseline (db: BayesDb): Promise<void> {
    await this.store.write({ blobs: [{ name: BASELINE, value: encodeBayes([{ nodeId: this.nodeId, db }]).data }] })
    this.baseline = db
  }

  /**
   * The contributions that grew after `bseq` (joined into one per node), or null when the log
   * no longer reaches back that far and only the full state can answer. `onlyNode` keeps one node's.
   */
  async changedSince (bseq: number, onlyNode?: string): Promise<BayesContribution[] | null> {
    if (bseq >= this.bseq) return []
    if (bseq < this.snapshotSeq) return null
    const out = new Map<string, Contribution>()
    for (const [name, data] of await this.store.blobsWithPrefix(LOG_PREFIX)) {
      if (name <= logName(bseq)) continue
      for (const c of decodeBayes(data, { name })) if (onlyNode === undefined || c.nodeId === onlyNode) join(out, c)
    }
    return [...out].map(([nodeId, db]) => ({ nodeId, db }))
  }

  /**
   * Writes one change: a log record of what grew (and the baseline when a scan moved it), in
   * one batch, then makes it visible. Folds the log into a new snapshot when it grew too long.
   */
  private async commit (changes: BayesContribution[], baseline: BayesDb | null): Promise<void> {
    const blobs: Array<{ name: string, value: Uint8Array | null }> = []
    if (baseline !== null) blobs.push({ name: BASELINE, value: encodeBayes([{ nodeId: this.nodeId, db: baseline }]).data })
    if (changes.length === 0) {
      if (blobs.length > 0) await this.store.write({ blobs })
      if (baseline !== null) this.baseline = baseline
      return
    }
    const bseq = this.bseq + 1
    const record = encodeBayes(changes).data
    const fold = this.logRecords + 1 > MAX_LOG_RECORDS || this.logBytes + record.byteLength > Math.max(this.snapshotBytes, 1 << 20)
    const meta: Record<string, unknown> = { [META_BSEQ]: bseq }
    let snapshotBytes = this.snapshotBytes
    if (fold) {
      const after = new Map<string, Contribution>()
      for (const [nodeId, db] of this.contribs) after.set(nodeId, { ...db, tokens: new Map(db.tokens), seen: new Map(db.seen) })
      for (const c of changes) joinInto(after.get(c.nodeId) ?? setEmpty(after, c.nodeId), c.db)
      const snapshot = encodeBayes([...after].map(([nodeId, db]) => ({ nodeId, db }))).data
      blobs.push({ name: SNAPSHOT, value: snapshot })
      for (const [name] of await this.store.blobsWithPrefix(LOG_PREFIX)) blobs.push({ name, value: null })
      meta[META_SNAPSHOT_BSEQ] = bseq
      snapshotBytes = snapshot.byteLength
    } else {
      blobs.push({ name: logName(bseq), value: record })
    }
    await this.store.write({ blobs, meta })
    for (const c of changes) joinInto(this.contribs.get(c.nodeId) ?? setEmpty(this.contribs, c.nodeId), c.db)
    if (baseline !== null) this.baseline = baseline
    this.bseq = bseq
    if (fold) {
      this.snapshotSeq = bseq
      this.snapshotBytes = snapshotBytes
      this.logRecords = 0
      this.logBytes = 0
    } else {
      this.logRecords++
      this.logBytes += record.byteLength
    }
  }
}

function join (into: Map<string, Contribution>, c: BayesContribution): void {
  joinInto(into.get(c.nodeId) ?? setEmpty(into, c.nodeId), c.db)
}

function setEmpty (map: Map<string, Contribution>, nodeId: string): Contribution {
  const db = emptyBayesDb()
  map.set(nodeId, db)
  return db
}
