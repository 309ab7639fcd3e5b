/**
 * Which Bayes contributions an upload may carry. A contribution is what one node learned itself,
 * and only that node adds to it; the master joins whatever it is sent. So the master checks, before
 * anything is merged, that an upload speaks only for its uploader (the peer id Noise
 * authenticated), except in a hand-over: a full upload (a former master stepping down, a node that
 * followed another master) may carry other nodes' contributions it holds, but never grow the
 * contribution of a node that speaks for itself (this master, or a live or connected node).
 */
import { ForgedContributionError } from '../errors.js'
import { joinContribution } from './bayes-replica.js'
import { decodeSectionPaced, type EncodedContribution } from '../archive/bayes-codec.js'
import { pacer, type Pause } from '../pace.js'
import type { Contribution } from '../crdt/bayes-counters.js'

/** What the check needs of the master. */
export interface ContributionView {
  /** The contribution of `nodeId` the master holds, if any (decoded with turns of the event loop: millions of tokens). */
  held: (nodeId: string) => Promise<Contribution | undefined>
  /** True for a node that uploads its own contribution: the master itself, a live or connected node. */
  speaksForItself: (nodeId: string) => boolean
}

/**
 * Throws ForgedContributionError when the upload of `uploader` (`kind` as requested and as its
 * manifest says: a hand-over only when both say full) carries a contribution it may not; a
 * section is decoded only to be compared, awaiting `pause` between its columns.
 */
export async function checkUploadContributions (uploader: string, kind: 'full' | 'delta', contribs: readonly EncodedContribution[] | null, view: ContributionView, pause: Pause = pacer()): Promise<void> {
  if (contribs === null) return
  for (const c of contribs) {
    if (c.nodeId === uploader) continue
    if (kind === 'delta') throw new ForgedContributionError(`a delta upload from ${uploader} carries the Bayes contribution of node ${c.nodeId}; a node uploads only its own`)
    // Each part is checked alone: a join takes the larger of each field, so parts that do not
    // grow the held contribution one by one do not grow it together.
    if (view.speaksForItself(c.nodeId) && joinContribution(await view.held(c.nodeId), (await decodeSectionPaced(c, pause)).db).grown !== null) {
      throw new ForgedContributionError(`a full upload from ${uploader} would grow the Bayes contribution of node ${c.nodeId}, which is live and uploads its own`)
    }
  }
}
