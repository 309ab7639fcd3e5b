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
 * Tokens are held column-wise (a {@link TokenTable}): a million tokens are then a few typed arrays
 * instead of a million objects and strings, and every operation here is one linear merge of
 * sorted arrays. Every function returns new tables and never changes its arguments; a result may
 * share arrays with an argument, so treat a table as an immutable value.
 */
import { allocTokens, trimTokens, type TokenTable } from './token-table.js'
import type { Pause } from '../pace.js'
import { sumTokens, sumTokensPaced } from './token-sum.js'

// The CRDT speaks in token tables: importers of this module get them here too.
export { allocTokens, findToken, MAX_COUNT, tokenEntries, tokenHex, tokensOf, tokenValue, trimTokens, type TokenCounts, type TokenTable } from './token-table.js'
export { sumInto, sumTokens, sumTokensPaced } from './token-sum.js'


/** How a message was learned: `s` as spam, `h` as ham. */
export type SeenFlag = 's' | 'h'

/** A SpamAssassin Bayes database, as `sa-learn --backup` shows it. */
export interface BayesDb {
  /** Spam messages learned (sa-learn's num_spam). */
  numSpam: number
  /** Ham messages learned (sa-learn's num_nonspam). */
  numHam: number
  /** Every token with its counts. */
  tokens: TokenTable
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
  return { numSpam: 0, numHam: 0, tokens: allocTokens(0), seen: new Map() }
}


function compareNumbers (a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1
}

/**
 * Orders two tables as functions token -> counts (absent lowest), read in token order: the
 * smallest token where they differ decides.
 */
function compareTables (a: TokenTable, b: TokenTable): number {
  const na = a.keys.length
  const nb = b.keys.length
  for (let i = 0; i < na && i < nb; i++) {
    if (a.keys[i] !== b.keys[i]) return a.keys[i] < b.keys[i] ? 1 : -1
    const c = compareNumbers(a.spam[i], b.spam[i]) || compareNumbers(a.ham[i], b.ham[i]) || compareNumbers(a.atime[i], b.atime[i])
    if (c !== 0) return c
  }
  return compareNumbers(na, nb)
}

/** The same order over seen maps (a seen id absent lowest, then 'h' < 's'). */
function compareSeen (a: ReadonlyMap<string, SeenFlag>, b: ReadonlyMap<string, SeenFlag>): number {
  let first: string | undefined
  for (const [key, va] of a) {
    if (b.get(key) !== va && (first === undefined || key < first)) first = key
  }
  for (const key of b.keys()) {
    if (!a.has(key) && (first === undefined || key < first)) first = key
  }
  if (first === undefined) return 0
  const va = a.get(first)
  const vb = b.get(first)
  if (va === undefined) return -1
  if (vb === undefined) return 1
  return va < vb ? -1 : 1
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
    compareTables(a.tokens, b.tokens) ||
    compareSeen(a.seen, b.seen)
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
  const latest = [...joinContributions(contribs).values()]
  const db = sumMessages(latest)
  db.tokens = sumTokens(latest.map(c => c.tokens))
  return db
}

/** {@link mergeContributions} with `pause` awaited between slices of the token sum (pace.ts). */
export async function mergeContributionsPaced (contribs: Iterable<NodeContribution>, pause: Pause): Promise<BayesDb> {
  const latest = [...joinContributions(contribs).values()]
  const db = sumMessages(latest)
  db.tokens = await sumTokensPaced(latest.map(c => c.tokens), false, pause)
  return db
}

// Message counts and seen ids of the merged DB (see mergeContributions), with no tokens yet.
function sumMessages (latest: readonly Contribution[]): BayesDb {
  const db = emptyBayesDb()
  for (const c of latest) {
    db.numSpam += c.numSpam
    db.numHam += c.numHam
    c.seen.forEach((flag, msgid) => {
      if (flag === 's' || !db.seen.has(msgid)) db.seen.set(msgid, flag)
    })
  }
  return db
}

/**
 * What this node learned since its last scan: `localNow - localAtLastScan`, per count, clamped at
 * 0 (expiry or `sa-learn --forget` shrinks the local DB, and that must never make a contribution
 * negative). A token is in the delta when a count grew or its atime grew (a scan touched it); its
 * atime is the local one. Seen ids are those that are new or whose flag changed (relearned).
 */
export function ownDelta (localNow: BayesDb, localAtLastScan: BayesDb): Contribution {
  const last = localAtLastScan.tokens
  // Nothing scanned before (a first scan): every row is new, the table itself is the delta.
  const tokens = last.keys.length === 0 ? localNow.tokens : grownRows(localNow.tokens, last)
  const seen = new Map<string, SeenFlag>()
  localNow.seen.forEach((flag, msgid) => {
    if (localAtLastScan.seen.get(msgid) !== flag) seen.set(msgid, flag)
  })
  return {
    numSpam: Math.max(0, localNow.numSpam - localAtLastScan.numSpam),
    numHam: Math.max(0, localNow.numHam - localAtLastScan.numHam),
    tokens,
    seen
  }
}

// The rows of `now` whose counts or atime grew over `last`, counts as the growth (clamped at 0).
// Counted first, then written at the exact size: after a sync the local DB holds millions of
// tokens of which a scan usually finds a few grown.
function grownRows (now: TokenTable, last: TokenTable): TokenTable {
  const out = allocTokens(visitGrown(now, last, null))
  visitGrown(now, last, out)
  return out
}

// One pass of grownRows: writes the grown rows into `out` (when given); returns their number.
function visitGrown (now: TokenTable, last: TokenTable, out: TokenTable | null): number {
  const n = now.keys.length
  const m = last.keys.length
  let count = 0
  let j = 0
  for (let i = 0; i < n; i++) {
    const v = now.keys[i]
    while (j < m && last.keys[j] < v) j++
    let spam = now.spam[i]
    let ham = now.ham[i]
    const atime = now.atime[i]
    if (j < m && last.keys[j] === v) {
      spam = spam > last.spam[j] ? spam - last.spam[j] : 0
      ham = ham > last.ham[j] ? ham - last.ham[j] : 0
      if (spam === 0 && ham === 0 && atime <= last.atime[j]) continue
    }
    if (out !== null) {
      out.keys[count] = v
      out.spam[count] = spam
      out.ham[count] = ham
      out.atime[count] = atime
    }
    count++
  }
  return count
}

/**
 * A node's contribution grown by a delta: counts add up, atime is the newest, seen ids join. On a
 * seen id in both, the delta's flag wins: it is this node's newer verdict on the message.
 */
export function addContribution (own: Contribution, delta: Contribution): Contribution {
  const seen = new Map(own.seen)
  delta.seen.forEach((flag, msgid) => seen.set(msgid, flag))
  return {
    numSpam: own.numSpam + delta.numSpam,
    numHam: own.numHam + delta.numHam,
    tokens: delta.tokens.keys.length === 0 ? own.tokens : sumTokens([own.tokens, delta.tokens], true),
    seen
  }
}

/** The outcome of {@link joinTokens}. */
export interface TokenJoin {
  /** Per token the larger spam, ham and atime of the two tables. */
  joined: TokenTable
  /** The rows of `joined` that differ from `target` (new tokens, or a field grew). */
  grown: TokenTable
}

/**
 * Joins two copies of one node's contribution tokens: per token each field's maximum (the counts
 * of a contribution only grow). One linear merge; `joined` is `target` itself when nothing grew.
 */
export function joinTokens (target: TokenTable, incoming: TokenTable): TokenJoin {
  const n = target.keys.length
  const m = incoming.keys.length
  // Into nothing, everything grows and the join is the incoming table itself: no two copies of a
  // million rows (a first scan, a node's first upload, a contribution fetched for the first time).
  if (n === 0) return { joined: incoming, grown: incoming }
  const grown = allocTokens(m)
  let g = 0
  // Grown rows whose token the target lacks: the join has n + fresh rows.
  let fresh = 0
  // First pass: what grows. Most joins (a delta's echo, a repeated upload) grow nothing.
  let i = 0
  for (let j = 0; j < m; j++) {
    const v = incoming.keys[j]
    while (i < n && target.keys[i] < v) i++
    const s = incoming.spam[j]
    const h = incoming.ham[j]
    const a = incoming.atime[j]
    if (i < n && target.keys[i] === v) {
      const ts = target.spam[i]
      const th = target.ham[i]
      const ta = target.atime[i]
      if (s <= ts && h <= th && a <= ta) continue
      grown.keys[g] = v
      grown.spam[g] = s > ts ? s : ts
      grown.ham[g] = h > th ? h : th
      grown.atime[g] = a > ta ? a : ta
    } else {
      grown.keys[g] = v
      grown.spam[g] = s
      grown.ham[g] = h
      grown.atime[g] = a
      fresh++
    }
    g++
  }
  const grownRows = trimTokens(grown, g)
  if (g === 0) return { joined: target, grown: grownRows }
  // Second pass: grown rows replace or join the target's (a key in both: grown is the max).
  return { joined: overlay(target, grownRows, n + fresh), grown: grownRows }
}

// The rows of `target` with those of `grown` put over them (a key in both: grown's), `size` rows.
function overlay (target: TokenTable, grown: TokenTable, size: number): TokenTable {
  const n = target.keys.length
  const g = grown.keys.length
  const joined = allocTokens(size)
  let i = 0
  let k = 0
  for (let out = 0; i < n || k < g; out++) {
    let from = target
    let row = i
    if (k < g && (i >= n || target.keys[i] >= grown.keys[k])) {
      if (i < n && target.keys[i] === grown.keys[k]) i++
      from = grown
      row = k++
    } else {
      i++
    }
    joined.keys[out] = from.keys[row]
    joined.spam[out] = from.spam[row]
    joined.ham[out] = from.ham[row]
    joined.atime[out] = from.atime[row]
  }
  return joined
}

/**
 * The DB with only its `maxTokens` newest tokens by atime; among tokens of equal atime at the cut,
 * the lower tokens are kept, so every node expires the same tokens. Counts and seen ids are kept
 * as they are. Throws a RangeError unless maxTokens is a non-negative integer.
 */
export function expireTokens (db: BayesDb, maxTokens: number): BayesDb {
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw new RangeError(`maxTokens must be a non-negative integer, got ${maxTokens}`)
  const t = db.tokens
  const size = t.keys.length
  const out: BayesDb = { numSpam: db.numSpam, numHam: db.numHam, tokens: t, seen: new Map(db.seen) }
  if (size <= maxTokens) return out
  if (maxTokens === 0) {
    out.tokens = allocTokens(0)
    return out
  }
  // The cut is the atime of the maxTokens-th newest token; the rows are in token order, so the
  // first ones at the cut are the lower tokens.
  const cut = t.atime.slice().sort()[size - maxTokens]
  let above = 0
  for (let i = 0; i < size; i++) if (t.atime[i] > cut) above++
  let room = maxTokens - above
  const kept = allocTokens(maxTokens)
  let n = 0
  for (let i = 0; i < size; i++) {
    const a = t.atime[i]
    if (a > cut || (a === cut && room-- > 0)) {
      kept.keys[n] = t.keys[i]
      kept.spam[n] = t.spam[i]
      kept.ham[n] = t.ham[i]
      kept.atime[n] = a
      n++
    }
  }
  out.tokens = kept
  return out
}
