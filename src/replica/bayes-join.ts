/**
 * Joining copies of one node's Bayes contribution (bayes-replica.ts): a contribution only grows,
 * so a join takes per token the larger of each field, and what grew is the delta to store.
 */
import { emptyBayesDb, joinTokens, type BayesDb, type Contribution, type SeenFlag } from '../crdt/bayes-counters.js'
import type { BayesContribution } from '../archive/bayes-codec.js'

/** What a join of two copies of one node's contribution gives. */
export interface ContributionJoin {
  /** The join: per token the larger spam, ham and atime; seen ids joined, 's' over 'h'. */
  joined: Contribution
  /** What of the incoming copy grew the target (null when nothing), with the node's message counts. */
  grown: Contribution | null
}

/** Joins `incoming` into `target` (absent: empty); changes neither. */
export function joinContribution (target: Contribution | undefined, incoming: Contribution): ContributionJoin {
  const base = target ?? emptyBayesDb()
  const { joined: tokens, grown: grownTokens } = joinTokens(base.tokens, incoming.tokens)
  const grownSeen = new Map<string, SeenFlag>()
  incoming.seen.forEach((flag, msgid) => {
    const cur = base.seen.get(msgid)
    if (cur === undefined || (cur === 'h' && flag === 's')) grownSeen.set(msgid, flag)
  })
  const numSpam = Math.max(base.numSpam, incoming.numSpam)
  const numHam = Math.max(base.numHam, incoming.numHam)
  const changed = numSpam > base.numSpam || numHam > base.numHam || grownTokens.keys.length > 0 || grownSeen.size > 0
  if (!changed) return { joined: base, grown: null }
  let seen = base.seen
  if (grownSeen.size > 0) {
    seen = new Map(base.seen)
    grownSeen.forEach((flag, msgid) => seen.set(msgid, flag))
  }
  // A delta carries the node's whole message counts, so a receiver never goes backwards.
  return { joined: { numSpam, numHam, tokens, seen }, grown: { numSpam, numHam, tokens: grownTokens, seen: grownSeen } }
}

/** True when both DBs hold the same counts, tokens and seen ids. */
export function sameDb (a: BayesDb, b: BayesDb): boolean {
  if (a.numSpam !== b.numSpam || a.numHam !== b.numHam || a.seen.size !== b.seen.size) return false
  for (const [msgid, flag] of a.seen) if (b.seen.get(msgid) !== flag) return false
  const x = a.tokens
  const y = b.tokens
  const n = x.keys.length
  if (y.keys.length !== n) return false
  for (let i = 0; i < n; i++) {
    if (x.keys[i] !== y.keys[i] || x.spam[i] !== y.spam[i] || x.ham[i] !== y.ham[i] || x.atime[i] !== y.atime[i]) return false
  }
  return true
}

/** Joins `c` into the contribution of its node in `into`. */
export function join (into: Map<string, Contribution>, c: BayesContribution): void {
  const { joined, grown } = joinContribution(into.get(c.nodeId), c.db)
  if (grown !== null || !into.has(c.nodeId)) into.set(c.nodeId, joined)
}
