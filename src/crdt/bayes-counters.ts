/**
 * The Bayes token database as a CRDT of per-node contributions. Each node owns one contribution:
 * what it learned itself (token counts, message counts, seen ids). Contributions only grow, and a
 * newer revision of a node's contribution replaces the older one as a whole. The cluster's DB is
 * the sum of the latest contribution of every node (atime = max, seen = union).
 *
 * A node finds what it learned by diffing its local DB against its baseline, clamped at 0, and
 * takes every merged DB it applies as its new baseline: counts that came from other nodes are in
 * the baseline, so they are never counted again as its own.
 *
 * Every function here returns new maps and never changes its arguments; results may share
 * TokenCounts objects with them, so treat a DB as an immutable value. The loops over tokens use
 * forEach: for-of allocates an entry and a result object a token until the loop is optimised.
 */

/** One token's counts: messages learned as spam and as ham that contained it, and last access. */
export interface TokenCounts {
  /** Spam messages learned with this token. */
  spam: number
  /** Ham messages learned with this token. */
  ham: number
  /** Last access, seconds since the epoch (sa-learn's atime). */
  atime: number
}

/** How a message was learned: `s` as spam, `h` as ham. */
export type SeenFlag = 's' | 'h'

/** A SpamAssassin Bayes database, as `sa-learn --backup` shows it. */
export interface BayesDb {
  /** Spam messages learned (sa-learn's num_spam). */
  numSpam: number
  /** Ham messages learned (sa-learn's num_nonspam). */
  numHam: number
  /** Token (10 lower-case hex digits) -> counts. */
  tokens: Map<string, TokenCounts>
  /** Message id -> how it was learned. */
  seen: Map<string, SeenFlag>
}

/** What one node learned itself: the shape of a DB whose counts only grow. */
export type Contribution = BayesDb

/** One version of a node's contribution as synced; a higher revision of a node replaces a lower one. */
export interface NodeContribution extends Contribution {
  /** The node that owns and alone writes this contribution. */
  nodeId: string
  /** Bumped by the owner every time its contribution grows. */
  revision: number
}

/** A DB with nothing learned. */
export function emptyBayesDb (): BayesDb {
  return { numSpam: 0, numHam: 0, tokens: new Map(), seen: new Map() }
}

function compareNumbers (a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1
}

function compareCounts (a: TokenCounts, b: TokenCounts): number {
  return compareNumbers(a.spam, b.spam) || compareNumbers(a.ham, b.ham) || compareNumbers(a.atime, b.atime)
}

/**
 * Orders two maps as functions key -> value (absent lowest), read in key order: the smallest key
 * where they differ decides. A total order that needs one pass and no sort.
 */
function compareMaps<V> (a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, compare: (x: V, y: V) => number): number {
  let first: string | undefined
  for (const [key, va] of a) {
    const vb = b.get(key)
    if ((vb === undefined || compare(va, vb) !== 0) && (first === undefined || key < first)) first = key
  }
  for (const key of b.keys()) {
    if (!a.has(key) && (first === undefined || key < first)) first = key
  }
  if (first === undefined) return 0
  const va = a.get(first)
  const vb = b.get(first)
  if (va === undefined) return -1
  if (vb === undefined) return 1
  return compare(va, vb)
}

/**
 * Orders two versions of one node's contribution: revision first. Equal revisions with different
 * content (only a bug or a forged peer can make them) are ordered by content, so every replica
 * keeps the same one whatever the order it received them in.
 */
function compareVersions (a: NodeContribution, b: NodeContribution): number {
  if (a === b) return 0
  return compareNumbers(a.revision, b.revision) ||
    compareNumbers(a.numSpam, b.numSpam) ||
    compareNumbers(a.numHam, b.numHam) ||
    compareMaps(a.tokens, b.tokens, compareCounts) ||
    compareMaps(a.seen, b.seen, (x, y) => x === y ? 0 : x < y ? -1 : 1)
}

/**
 * The join of contribution versions: the highest revision of each node, by node id. Commutative,
 * associative and idempotent, so any grouping or order of received versions gives the same map.
 */
export function joinContributions (contribs: Iterable<NodeContribution>): Map<string, NodeContribution> {
  const latest = new Map<string, NodeContribution>()
  for (const c of contribs) {
    const current = latest.get(c.nodeId)
    if (current === undefined || compareVersions(c, current) > 0) latest.set(c.nodeId, c)
  }
  return latest
}

/**
 * The cluster's DB: the sum over the latest contribution of every node. Token counts and message
 * counts add up, atime is the newest. A token whose counts sum to 0 (a node only saw it used) is
 * left out: SpamAssassin holds no such token, and `sa-learn --restore` skips them.
 * Two nodes may have learned one message differently (a user reported a mail as spam on one server
 * that the other auto-learned as ham); the spam flag wins, because a spam verdict is the usual
 * deliberate correction, and the choice must be the same on every node for merging to commute.
 */
export function mergeContributions (contribs: Iterable<NodeContribution>): BayesDb {
  const db = emptyBayesDb()
  for (const c of joinContributions(contribs).values()) {
    db.numSpam += c.numSpam
    db.numHam += c.numHam
    c.tokens.forEach((n, token) => {
      const sum = db.tokens.get(token)
      if (sum === undefined) {
        db.tokens.set(token, { spam: n.spam, ham: n.ham, atime: n.atime })
      } else {
        sum.spam += n.spam
        sum.ham += n.ham
        if (n.atime > sum.atime) sum.atime = n.atime
      }
    })
    c.seen.forEach((flag, msgid) => {
      if (flag === 's' || !db.seen.has(msgid)) db.seen.set(msgid, flag)
    })
  }
  db.tokens.forEach((n, token) => {
    if (n.spam === 0 && n.ham === 0) db.tokens.delete(token)
  })
  return db
}

/**
 * What this node learned since its last scan: `localNow - localAtLastScan`, per count, clamped at
 * 0 (expiry or `sa-learn --forget` shrinks the local DB, and that must never make a contribution
 * negative). A token is in the delta when a count grew or its atime grew (a scan touched it); its
 * atime is the local one. Seen ids are those that are new or whose flag changed (relearned).
 */
export function ownDelta (localNow: BayesDb, localAtLastScan: BayesDb): Contribution {
  const delta = emptyBayesDb()
  delta.numSpam = Math.max(0, localNow.numSpam - localAtLastScan.numSpam)
  delta.numHam = Math.max(0, localNow.numHam - localAtLastScan.numHam)
  localNow.tokens.forEach((now, token) => {
    const last = localAtLastScan.tokens.get(token)
    if (last === undefined) {
      delta.tokens.set(token, { spam: now.spam, ham: now.ham, atime: now.atime })
      return
    }
    const spam = now.spam > last.spam ? now.spam - last.spam : 0
    const ham = now.ham > last.ham ? now.ham - last.ham : 0
    if (spam > 0 || ham > 0 || now.atime > last.atime) delta.tokens.set(token, { spam, ham, atime: now.atime })
  })
  localNow.seen.forEach((flag, msgid) => {
    if (localAtLastScan.seen.get(msgid) !== flag) delta.seen.set(msgid, flag)
  })
  return delta
}

/**
 * A node's contribution grown by a delta: counts add up, atime is the newest, seen ids join. On a
 * seen id in both, the delta's flag wins: it is this node's newer verdict on the message.
 */
export function addContribution (own: Contribution, delta: Contribution): Contribution {
  const tokens = new Map(own.tokens)
  delta.tokens.forEach((d, token) => {
    const n = tokens.get(token)
    tokens.set(token, n === undefined
      ? { spam: d.spam, ham: d.ham, atime: d.atime }
      : { spam: n.spam + d.spam, ham: n.ham + d.ham, atime: Math.max(n.atime, d.atime) })
  })
  const seen = new Map(own.seen)
  delta.seen.forEach((flag, msgid) => seen.set(msgid, flag))
  return { numSpam: own.numSpam + delta.numSpam, numHam: own.numHam + delta.numHam, tokens, seen }
}

/**
 * The DB with only its `maxTokens` newest tokens by atime; among tokens of equal atime at the cut,
 * the lower token strings are kept, so every node expires the same tokens. Counts and seen ids
 * are kept as they are. Throws a RangeError unless maxTokens is a non-negative integer.
 */
export function expireTokens (db: BayesDb, maxTokens: number): BayesDb {
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw new RangeError(`maxTokens must be a non-negative integer, got ${maxTokens}`)
  const out: BayesDb = { numSpam: db.numSpam, numHam: db.numHam, tokens: new Map(), seen: new Map(db.seen) }
  const size = db.tokens.size
  if (size <= maxTokens) {
    out.tokens = new Map(db.tokens)
    return out
  }
  if (maxTokens === 0) return out
  // The cut is the atime of the maxTokens-th newest token. Sorting the atimes as a typed array
  // is many times faster than sorting the entries with a comparator.
  const atimes = new Float64Array(size)
  let i = 0
  db.tokens.forEach(n => { atimes[i++] = n.atime })
  atimes.sort()
  const cut = atimes[size - maxTokens]
  const atCut: string[] = []
  db.tokens.forEach((n, token) => {
    if (n.atime > cut) out.tokens.set(token, n)
    else if (n.atime === cut) atCut.push(token)
  })
  atCut.sort()
  for (let k = 0, room = maxTokens - out.tokens.size; k < room; k++) {
    out.tokens.set(atCut[k], db.tokens.get(atCut[k]) as TokenCounts)
  }
  return out
}
