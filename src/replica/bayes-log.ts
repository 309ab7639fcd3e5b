/**
 * The Bayes replica's log of changes (bayes-replica.ts): one record a change, a Bayes file of
 * what grew, named by its change sequence so that "changes since" is a range read.
 */
import { decodeBayes, encodeBayes, joinBayesSections, splitBayes, type BayesContribution, type EncodedBayes, type EncodedContribution } from '../archive/bayes-codec.js'
import type { BayesDb, Contribution } from '../crdt/bayes-counters.js'
import type { KnownBayesFile } from '../settings/bayes-file.js'
import { join } from './bayes-join.js'
import { joinHeld, joinHeldSection, type HeldContributions } from './bayes-held.js'

/** What a commit of the Bayes replica writes besides its changes (a log record). */
export interface CommitOptions {
  /** The contribution of each changed node once the change is in (decoded already by the caller). */
  joined: ReadonlyMap<string, Contribution>
  /** A scan's local DB, the new baseline; null for a merge. */
  baseline: BayesDb | null
  /** The baseline is the change itself (a first scan): it is stored as the record's bytes. */
  baselineIsChange: boolean
  /** From a merge: the local store now lags the cluster's DB. */
  merged: boolean
  /** The file a scan read, as BayesFile knew it (null: unknown). */
  file: KnownBayesFile | null
}

/** Blob name prefix of the log records. */
export const LOG_PREFIX = 'bayes!log!'

/** Blob name of the record of change `bseq`: hex digits of one width, so names sort as numbers. */
export const logName = (bseq: number): string => LOG_PREFIX + bseq.toString(16).padStart(16, '0')
/** Change sequence of a record's blob name. */
export const logSeq = (name: string): number => parseInt(name.slice(LOG_PREFIX.length), 16)

/**
 * Joins a Bayes file this agent wrote (a snapshot or log record) into `into`: its sections as
 * they are, a file of an older layout decoded. Returns its token records.
 */
export function joinFile (into: HeldContributions, data: Uint8Array, name: string): number {
  const sections = splitBayes(data, name)
  if (sections === null) {
    const contribs = decodeBayes(data, { name })
    for (const c of contribs) joinHeld(into, c)
    return contribs.reduce((n, c) => n + c.db.tokens.keys.length, 0)
  }
  for (const section of sections) joinHeldSection(into, section)
  return sections.reduce((n, c) => n + c.tokens, 0)
}

/**
 * The contributions of these log records whose node `keep` accepts, joined into one per node, as
 * a Bayes file. While no node changed in two of them (a node's first upload, the first fetch of
 * a new cluster), the file is put together from the records' own bytes: nothing is decoded,
 * joined or encoded.
 */
export function recordsFile (records: Array<[string, Uint8Array]>, keep: (nodeId: string) => boolean): EncodedBayes {
  const parts: EncodedContribution[] = []
  const nodes = new Set<string>()
  for (const [name, data] of records) {
    // A record an older agent wrote (another layout version) is decoded and encoded again.
    const split = splitBayes(data, name)
    if (split === null) return encodeBayes(joinRecords(records, keep))
    for (const part of split) {
      if (!keep(part.nodeId)) continue
      if (nodes.has(part.nodeId)) return encodeBayes(joinRecords(records, keep))
      nodes.add(part.nodeId)
      parts.push(part)
    }
  }
  return joinBayesSections(parts)
}

/** The contributions of log records whose node `keep` accepts, joined into one per node. */
function joinRecords (records: Array<[string, Uint8Array]>, keep: (nodeId: string) => boolean): BayesContribution[] {
  const out = new Map<string, Contribution>()
  for (const [name, data] of records) {
    for (const c of decodeBayes(data, { name })) if (keep(c.nodeId)) join(out, c)
  }
  return [...out].map(([nodeId, db]) => ({ nodeId, db }))
}
