/**
 * The Bayes contributions a replica holds (bayes-replica.ts), each as its section of a Bayes
 * file: about 5.4 bytes a token instead of 20 as a decoded table, so an idle agent holding three
 * contributions of 1M tokens keeps 16 MB of them, not 60. A contribution is decoded only while
 * an operation needs its tokens (a scan, a join that may grow it, the write of the cluster's DB),
 * and encoded again only when a join grew it. Held values never change: a map of them is copied
 * by a shallow copy.
 */
import { decodeSection, decodeSectionPaced, encodeSection, encodeSectionPaced, type BayesContribution, type EncodedContribution } from '../archive/bayes-codec.js'
import { expireTokens, mergeContributionsPaced, type BayesDb, type Contribution, type NodeContribution } from '../crdt/bayes-counters.js'
import type { Pause } from '../pace.js'
import { joinContribution } from './bayes-join.js'

/** One held contribution: its section (bytes of its own), token and message counts. */
export type HeldContribution = EncodedContribution

/** Contributions by node id. */
export type HeldContributions = Map<string, HeldContribution>

/**
 * The section as held: bytes of its own, so that a section cut from a larger file (an archive,
 * a snapshot of every node) does not keep that file alive.
 */
export function heldOf (c: BayesContribution): HeldContribution {
  return heldSection(encodeSection(c))
}

/** A held section (a section of a file written by this agent, such as a store record) as held. */
export function heldSection (section: EncodedContribution): HeldContribution {
  const b = section.bytes
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? section : { ...section, bytes: b.slice() }
}

/** The contribution of a held section, decoded. */
export function decodeHeld (held: HeldContribution | undefined): Contribution | undefined {
  return held === undefined ? undefined : decodeSection(held).db
}

/** {@link decodeHeld} awaiting `pause` between the columns of the section. */
export async function decodeHeldPaced (held: HeldContribution | undefined, pause: Pause): Promise<Contribution | undefined> {
  return held === undefined ? undefined : (await decodeSectionPaced(held, pause)).db
}

/**
 * Joins `c` into the contribution of its node in `into`: a node new here is held as `c` (its
 * bytes when it came with them); otherwise the held one is decoded, joined, and encoded again
 * when it grew.
 */
export function joinHeld (into: HeldContributions, c: BayesContribution): void {
  const held = into.get(c.nodeId)
  if (held === undefined) {
    into.set(c.nodeId, heldOf(c))
    return
  }
  const { joined, grown } = joinContribution(decodeHeld(held), c.db)
  if (grown !== null) into.set(c.nodeId, heldOf({ nodeId: c.nodeId, db: joined }))
}

/** Joins a section this agent wrote (a store record) into `into`, decoding only when the node is held already. */
export function joinHeldSection (into: HeldContributions, section: EncodedContribution): void {
  if (into.has(section.nodeId)) joinHeld(into, decodeSection(section))
  else into.set(section.nodeId, heldSection(section))
}

/**
 * The cluster's DB of `held`, expired to `maxTokens` newest tokens (0: all). `pause` is awaited
 * after each section and between slices of the sum, so the event loop turns (pace.ts).
 */
export async function mergedOfHeld (held: ReadonlyMap<string, HeldContribution>, maxTokens: number, pause: Pause): Promise<BayesDb> {
  const contribs: NodeContribution[] = []
  for (const h of held.values()) {
    contribs.push({ ...(await decodeSectionPaced(h, pause)).db, nodeId: h.nodeId, revision: 0 })
    await pause()
  }
  const db = await mergeContributionsPaced(contribs, pause)
  return maxTokens > 0 ? expireTokens(db, maxTokens) : db
}

/** The sections of a change record, one per contribution (its `encoded` when it has them), `pause` awaited after each. */
export async function encodeSections (changes: readonly BayesContribution[], pause: Pause): Promise<EncodedContribution[]> {
  const out: EncodedContribution[] = []
  for (const c of changes) {
    out.push(await encodeSectionPaced(c, pause))
  }
  return out
}

/**
 * The held contribution of each node a change record grew, given the record's sections and each
 * changed node's contribution with the change in (`joined`): a node new in `held` is its section
 * (nothing encoded again), a node held already its join, encoded (`pause` awaited after each).
 */
export async function heldAfter (held: ReadonlyMap<string, HeldContribution>, sections: readonly EncodedContribution[], joined: ReadonlyMap<string, Contribution>, pause: Pause): Promise<Map<string, HeldContribution>> {
  const out = new Map<string, HeldContribution>()
  for (const section of sections) {
    const { nodeId } = section
    if (!held.has(nodeId)) {
      out.set(nodeId, heldSection(section))
      continue
    }
    const db = joined.get(nodeId)
    if (db === undefined) throw new Error(`bug: the change of node ${nodeId} comes without its join`)
    out.set(nodeId, heldSection(await encodeSectionPaced({ nodeId, db }, pause)))
  }
  return out
}

/** What {@link joinSections} found. */
export interface SectionsJoin {
  /** The change record's sections: a new node's as it came, a held node's grown rows. */
  sections: EncodedContribution[]
  /** Each held node that grew, joined. */
  joined: Map<string, Contribution>
  /** Token rows of the record. */
  grownTokens: number
}

/**
 * Joins sections from elsewhere (one per node) into `held`: a node new there is taken as it came,
 * never decoded; a held one is decoded, joined and its growth encoded, one node at a time, so at
 * most two contributions are tables at once. `pause` is awaited between the steps.
 */
export async function joinSections (held: ReadonlyMap<string, HeldContribution>, incoming: readonly EncodedContribution[], pause: Pause): Promise<SectionsJoin> {
  const out: SectionsJoin = { sections: [], joined: new Map(), grownTokens: 0 }
  for (const section of incoming) {
    const { nodeId } = section
    if (out.sections.some(s => s.nodeId === nodeId) || out.joined.has(nodeId)) throw new RangeError(`cannot merge two sections of node ${JSON.stringify(nodeId)}`)
    const mine = held.get(nodeId)
    if (mine === undefined) {
      out.sections.push(section)
      out.grownTokens += section.tokens
      continue
    }
    const { joined, grown } = joinContribution(await decodeHeldPaced(mine, pause), (await decodeSectionPaced(section, pause)).db)
    await pause()
    if (grown === null) continue
    out.joined.set(nodeId, joined)
    out.sections.push(await encodeSectionPaced({ nodeId, db: grown }, pause))
    out.grownTokens += grown.tokens.keys.length
  }
  return out
}

/** Puts the `next` held contributions into `into`. */
export function replaceHeld (into: HeldContributions, next: ReadonlyMap<string, HeldContribution>): void {
  for (const [nodeId, h] of next) into.set(nodeId, h)
}

/** Tokens and message counts summed over held contributions, without decoding any. */
export function countsOf (held: ReadonlyMap<string, HeldContribution>): { tokens: number, spam: number, ham: number } {
  const out = { tokens: 0, spam: 0, ham: 0 }
  for (const c of held.values()) {
    out.tokens += c.tokens
    out.spam += c.numSpam
    out.ham += c.numHam
  }
  return out
}
