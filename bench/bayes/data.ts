/** Generated `sa-learn --backup` DBs of the Bayes benchmark: seeded, deterministic, overlapping between nodes. */
import { createHash } from 'node:crypto'
import { allocTokens, emptyBayesDb, sumTokens, tokensOf, type BayesDb, type NodeContribution, type TokenCounts, type TokenTable } from '../../src/crdt/bayes-counters.js'
import { NODES } from './options.js'

const T0 = 1_700_000_000
const YEAR = 365 * 24 * 3600
/** sfc32: a small, fast, seedable PRNG; returns [0, 1). */
export function prng (seed: number): () => number {
  let a = 0x9e3779b9 ^ seed
  let b = 0x243f6a88 + seed * 7
  let c = 0xb7e15162 ^ (seed * 13)
  let d = 1
  const next = (): number => {
    a |= 0; b |= 0; c |= 0; d |= 0
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 20; i++) next()
  return next
}

const HEX = '0123456789abcdef'
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => HEX[b >> 4] + HEX[b & 15])

function hex10 (v: number): string {
  const hi = Math.floor(v / 2 ** 32)
  const lo = v - hi * 2 ** 32
  return BYTE_HEX[hi] + BYTE_HEX[lo >>> 24] + BYTE_HEX[(lo >>> 16) & 255] + BYTE_HEX[(lo >>> 8) & 255] + BYTE_HEX[lo & 255]
}

function rand40 (rng: () => number): number {
  return Math.floor(rng() * 256) * 2 ** 32 + Math.floor(rng() * 2 ** 32)
}

function msgid (rng: () => number): string {
  let s = ''
  for (let i = 0; i < 32; i++) s += HEX[Math.floor(rng() * 16)]
  return `${s}@sa_generated`
}

/** Counts of a token in a message learned as spam (or ham, mirrored): 1-3 mostly, sometimes both. */
function counts (rng: () => number, spamMsg: boolean, atime: number): TokenCounts {
  const r = rng()
  const main = r < 0.7 ? 1 : r < 0.92 ? 2 : 3
  const other = rng() < 0.08 ? 1 : 0
  return spamMsg ? { spam: main, ham: other, atime } : { spam: other, ham: main, atime }
}

/** The three nodes' generated DBs: a shared token pool plus per-node tokens, seen ids per message. */
export function generateDbs (tokens: number, overlap: number, messages: number, seed: number): BayesDb[] {
  const rng = prng(seed)
  const shared = Math.round(tokens * overlap)
  const own = tokens - shared
  const need = shared + NODES * own
  const values = new Set<number>()
  const all = new Float64Array(need)
  let have = 0
  while (have < need) {
    const v = rand40(rng)
    if (!values.has(v)) { values.add(v); all[have++] = v }
  }
  values.clear()
  // The same mail delivered to several servers: a few ids are seen on every node, maybe learned differently.
  const sharedIds = Array.from({ length: Math.round(messages * 0.05) }, () => msgid(rng))
  const dbs: BayesDb[] = []
  for (let n = 0; n < NODES; n++) {
    const r = prng(seed * 1000 + n + 1)
    const db = emptyBayesDb()
    const spamMsg = new Uint8Array(messages)
    const atime = new Float64Array(messages)
    for (let m = 0; m < messages; m++) {
      spamMsg[m] = r() < 0.55 ? 1 : 0
      atime[m] = T0 + Math.floor(m * YEAR / messages) + Math.floor(r() * 600)
      const id = m < sharedIds.length ? sharedIds[m] : msgid(r)
      db.seen.set(id, spamMsg[m] === 1 ? 's' : 'h')
      if (spamMsg[m] === 1) db.numSpam++
      else db.numHam++
    }
    const rows = allocTokens(tokens)
    let k = 0
    const add = (v: number): void => {
      const m = Math.floor(r() * messages)
      const c = counts(r, spamMsg[m] === 1, atime[m])
      rows.keys[k] = v
      rows.spam[k] = c.spam
      rows.ham[k] = c.ham
      rows.atime[k] = c.atime
      k++
    }
    for (let i = 0; i < shared; i++) add(all[i])
    for (let i = shared + n * own; i < shared + (n + 1) * own; i++) add(all[i])
    db.tokens = sortedTable(rows)
    dbs.push(db)
  }
  return dbs
}

/** The rows of t in token order (the tokens are distinct). */
function sortedTable (t: TokenTable): TokenTable {
  const n = t.keys.length
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  order.sort((a, b) => t.keys[a] - t.keys[b])
  const out = allocTokens(n)
  for (let i = 0; i < n; i++) {
    const j = order[i]
    out.keys[i] = t.keys[j]
    out.spam[i] = t.spam[j]
    out.ham[i] = t.ham[j]
    out.atime[i] = t.atime[j]
  }
  return out
}

export function asContributions (dbs: BayesDb[]): NodeContribution[] {
  return dbs.map((db, i) => ({ ...db, nodeId: `node-${i}`, revision: 0 }))
}

/** The DB after learning `n` spam messages of ~`perMsg` tokens (60% existing, incremented; 40% new). */
export function learnMessages (db: BayesDb, n: number, perMsg: number, rng: () => number, now: number): { tokensTouched: number, newTokens: number } {
  const keys = db.tokens.keys
  const known = new Set(keys)
  const learned = new Map<number, TokenCounts>()
  let fresh = 0
  for (let m = 0; m < n; m++) {
    const atime = now + m
    const size = perMsg - 20 + Math.floor(rng() * 41)
    for (let k = 0; k < size; k++) {
      let token: number
      if (rng() < 0.6) {
        token = keys[Math.floor(rng() * keys.length)]
      } else {
        do token = rand40(rng); while (known.has(token))
        known.add(token)
        fresh++
      }
      // sa-learn only moves an atime forward (tok_touch), so a relearned token keeps a newer one.
      const c = learned.get(token) ?? { spam: 0, ham: 0, atime: 0 }
      learned.set(token, { spam: c.spam + 1, ham: 0, atime: Math.max(c.atime, atime) })
    }
    db.seen.set(msgid(rng), 's')
    db.numSpam++
  }
  db.tokens = sumTokens([db.tokens, tokensOf([...learned].map(([v, c]) => [hex10(v), c]))], true)
  return { tokensTouched: learned.size, newTokens: fresh }
}

export function sha256 (data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}
