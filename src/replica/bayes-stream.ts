/**
 * The cluster's Bayes DB (the sum of every held contribution, crdt/bayes-counters.ts) as a stream
 * of row slices in token order, read straight from the held sections: a k-way merge over one
 * cursor per section (archive/bayes-cursor.ts), a block of rows each. Writing bayes.txt from it
 * holds the sections and a few blocks, not every contribution decoded (3 x 5M tokens x 20 B =
 * 300 MB) plus the summed table (another 200 MB) as before.
 */
import { SectionCursor, sectionSeen } from '../archive/bayes-cursor.js'
import { allocTokens, sumInto, sumTokens, type SeenFlag, type TokenTable } from '../crdt/bayes-counters.js'
import type { Pause } from '../pace.js'
import type { HeldContribution } from './bayes-held.js'

/** Rows read ahead from each section: a slice of the sum is about this many rows per node. */
export const BLOCK_ROWS = 65_536

/** The cluster's DB of some held contributions, its tokens as a stream. */
export interface MergedStream {
  numSpam: number
  numHam: number
  seen: Map<string, SeenFlag>
  /**
   * The summed token rows in token order, zero sums left out, expired to the newest maxTokens as
   * expireTokens does. A slice may be a view of a read-ahead block: it is valid until the next
   * one is asked for.
   */
  rows: () => AsyncGenerator<TokenTable>
  /** Rows the stream yields in all: known up front when it expires tokens, else counted as it is read. */
  tokens: number
}

/**
 * The sum of `held` (keep it unchanged while the stream is read: the replica passes a copy of
 * its map) expired to `maxTokens` (0: all), read `blockRows` rows of a section at a time; `pause`
 * is awaited between slices. When the
 * contributions hold more than maxTokens tokens, a first pass over the sum finds the atime cut.
 */
export async function mergedStream (held: ReadonlyMap<string, HeldContribution>, maxTokens: number, pause: Pause, blockRows = BLOCK_ROWS): Promise<MergedStream> {
  const sections = [...held.values()]
  const out: MergedStream = {
    numSpam: 0,
    numHam: 0,
    seen: new Map(),
    rows: async function * () {
      out.tokens = 0
      for await (const t of sumOfSections(sections, pause, blockRows)) {
        out.tokens += t.keys.length
        yield t
      }
    },
    tokens: 0
  }
  for (const s of sections) {
    out.numSpam += s.numSpam
    out.numHam += s.numHam
    // As mergeContributions: a message learned differently on two nodes counts as spam.
    sectionSeen(s).forEach((flag, msgid) => { if (flag === 's' || !out.seen.has(msgid)) out.seen.set(msgid, flag) })
  }
  // The sum has at most the tokens of its parts: with no more than maxTokens of those, nothing expires.
  if (maxTokens === 0 || sections.reduce((n, s) => n + s.tokens, 0) <= maxTokens) return out
  let total = 0
  const atimes = new Map<number, number>()
  for await (const t of sumOfSections(sections, pause, blockRows)) {
    total += t.keys.length
    for (let i = 0; i < t.atime.length; i++) atimes.set(t.atime[i], (atimes.get(t.atime[i]) ?? 0) + 1)
  }
  if (total <= maxTokens) return out
  const { cut, room } = expiryCut(atimes, maxTokens)
  out.tokens = maxTokens
  out.rows = async function * () {
    let left = room
    for await (const t of sumOfSections(sections, pause, blockRows)) {
      const kept = allocTokens(t.keys.length)
      let n = 0
      for (let i = 0; i < t.keys.length; i++) {
        const a = t.atime[i]
        if (a > cut || (a === cut && left-- > 0)) {
          kept.keys[n] = t.keys[i]
          kept.spam[n] = t.spam[i]
          kept.ham[n] = t.ham[i]
          kept.atime[n] = a
          n++
        }
      }
      yield rowsOf(kept, 0, n)
    }
  }
  return out
}

/**
 * expireTokens' cut from the count of tokens per atime: the atime of the maxTokens-th newest
 * token, and how many tokens of that atime are kept (the lowest ones, as the rows come in order).
 */
function expiryCut (atimes: ReadonlyMap<number, number>, maxTokens: number): { cut: number, room: number } {
  const newestFirst = [...atimes.keys()].sort((a, b) => b - a)
  let above = 0
  for (const a of newestFirst) {
    const n = atimes.get(a) as number
    if (above + n >= maxTokens) return { cut: a, room: maxTokens - above }
    above += n
  }
  throw new Error('bug: expiryCut called with no more tokens than maxTokens')
}

/** A section's cursor and its read-ahead block: rows [pos, len) are read and not yet summed. */
interface Block {
  cursor: SectionCursor
  table: TokenTable
  pos: number
  len: number
}

/**
 * The sum of the sections, slice by slice. Each step sums the rows up to the lowest last key read
 * ahead among the sections not read to their end: every row of a token up to it is then in a block.
 */
async function * sumOfSections (sections: readonly HeldContribution[], pause: Pause, blockRows: number): AsyncGenerator<TokenTable> {
  const blocks: Block[] = sections.filter(s => s.tokens > 0).map(s => ({ cursor: new SectionCursor(s), table: allocTokens(Math.min(blockRows, s.tokens)), pos: 0, len: 0 }))
  // Up to three sections (a cluster of three) are summed into one buffer, reused slice after slice.
  const sum = blocks.length <= 3 ? allocTokens(blocks.reduce((n, b) => n + b.table.keys.length, 0)) : null
  for (;;) {
    let edge = Infinity
    for (const b of blocks) {
      refill(b)
      if (b.cursor.remaining > 0 && b.table.keys[b.len - 1] < edge) edge = b.table.keys[b.len - 1]
    }
    const slices: TokenTable[] = []
    for (const b of blocks) {
      const end = upperBound(b.table.keys, b.pos, b.len, edge)
      if (end > b.pos) slices.push(rowsOf(b.table, b.pos, end))
      b.pos = end
    }
    if (slices.length === 0) return
    yield sum === null ? sumTokens(slices) : rowsOf(sum, 0, sumInto(slices, sum))
    await pause()
  }
}

// Moves the unsummed rows to the block's start and reads more behind them.
function refill (b: Block): void {
  const { table } = b
  if (b.pos > 0) {
    for (const column of [table.keys, table.spam, table.ham, table.atime]) column.copyWithin(0, b.pos, b.len)
    b.len -= b.pos
    b.pos = 0
  }
  b.len += b.cursor.read(table, b.len, table.keys.length - b.len)
}

// The first row in [from, to) whose key is above `key`.
function upperBound (keys: Float64Array, from: number, to: number, key: number): number {
  let lo = from
  let hi = to
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid] <= key) lo = mid + 1
    else hi = mid
  }
  return lo
}

// Rows [from, to) of a table, as views.
function rowsOf (t: TokenTable, from: number, to: number): TokenTable {
  return { keys: t.keys.subarray(from, to), spam: t.spam.subarray(from, to), ham: t.ham.subarray(from, to), atime: t.atime.subarray(from, to) }
}
