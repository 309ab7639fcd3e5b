/**
 * One output's lines, kept sorted between passes so that a change to a few keys costs a few
 * binary searches and array moves, not a new rendering of the whole list: a one-line change of
 * a 121k-line blacklist re-renders one line per output (bench/outputs.ts). The file's text is
 * the kept lines joined; built from scratch (`fill`) or updated (`update`), the same keys give
 * the same bytes (test/unit/outputs/table.test.ts).
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { isIpKind, LIST_BIT, listMask, type LineFormat, type Rendering, type ResolvedKey, type ResolvedLists } from './lists.js'

/** A rendered line and where it goes. */
interface Line {
  key: string
  rank: number
  text: string
}

/** One key's resolution before and after a change (undefined: in no list). */
export interface KeyChange {
  key: string
  before: ResolvedKey | undefined
  after: ResolvedKey | undefined
}

/** Why a key decided by another list is left out, per deciding list. */
const TAKES_PRECEDENCE = Object.fromEntries(LIST_DATASETS.map(ds => [ds, `listed in ${ds}, which takes precedence`])) as Record<ListDataset, string>

/**
 * Above this many moved lines an update sorts all lines again instead of moving each one: a
 * move shifts the array (about 0.1 ms at 121k lines), a sort of 121k lines costs about as much
 * as a few hundred moves.
 */
const RESORT_ABOVE = 256

function byRankThenKey (a: Line, b: Line): number {
  return a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

/** The lines of one output and its counts for status; see the module comment. */
export class LineTable {
  private lines: Line[] = []
  private readonly leftOut = new Map<string, number>()
  private conflicts = 0
  private readonly wanted: number

  constructor (private readonly format: LineFormat, datasets: readonly ListDataset[]) {
    this.wanted = listMask(datasets)
  }

  /** Adds every key (of an empty table). */
  fill (keys: Iterable<ResolvedKey>): void {
    for (const k of keys) {
      const line = this.count(k, 1)
      if (line !== null) this.lines.push(line)
    }
    this.lines.sort(byRankThenKey)
  }

  /** Applies changed keys (each key once); returns whether any line changed. */
  update (changes: Iterable<KeyChange>): boolean {
    const moved: Array<[Line | null, Line | null]> = []
    for (const { before, after } of changes) {
      if (before !== undefined) this.count(before, -1)
      const next = after === undefined ? null : this.count(after, 1)
      const at = before === undefined ? -1 : this.indexOf(before.key, this.rankOf(before))
      const prev = at < 0 ? null : this.lines[at]
      if (prev?.text !== next?.text) moved.push([prev, next])
    }
    if (moved.length > RESORT_ABOVE) {
      const gone = new Set<Line>()
      for (const [prev] of moved) if (prev !== null) gone.add(prev)
      const kept = this.lines.filter(l => !gone.has(l))
      for (const [, next] of moved) if (next !== null) kept.push(next)
      this.lines = kept.sort(byRankThenKey)
    } else {
      for (const [prev, next] of moved) {
        if (prev !== null) this.lines.splice(this.position(prev), 1)
        if (next !== null) this.lines.splice(this.position(next), 0, next)
      }
    }
    return moved.length > 0
  }

  /** The file's content. */
  text (): string {
    const parts = new Array<string>(this.lines.length + 1)
    parts[0] = this.format.header
    for (let i = 0; i < this.lines.length; i++) parts[i + 1] = this.lines[i].text
    return parts.join('\n') + '\n'
  }

  /** The file's content and the counts status shows. */
  rendering (): Rendering {
    return { text: this.text(), ...this.counts() }
  }

  /** Entries written, left out by reason, and conflicts. */
  counts (): Omit<Rendering, 'text'> {
    return { written: this.lines.length, leftOut: Object.fromEntries(this.leftOut), conflicts: this.conflicts }
  }

  private rankOf (k: ResolvedKey): number {
    return this.format.rank?.(k) ?? 0
  }

  /** Where a line of this rank and key is or would go (binary search). */
  private position (l: { key: string, rank: number }): number {
    let lo = 0
    let hi = this.lines.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (byRankThenKey(this.lines[mid], l as Line) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** The index of the key's line, or -1 when it has none. */
  private indexOf (key: string, rank: number): number {
    const i = this.position({ key, rank })
    return i < this.lines.length && this.lines[i].key === key ? i : -1
  }

  /**
   * Counts (sign 1) or uncounts (-1) a key in the output's status; returns its line when it
   * has one in this output.
   */
  private count (k: ResolvedKey, sign: 1 | -1): Line | null {
    if ((k.mask & this.wanted) === 0) return null
    if (k.conflict) this.conflicts += sign
    let why: string
    if ((LIST_BIT[k.list] & this.wanted) === 0) why = TAKES_PRECEDENCE[k.list]
    else if (isIpKind(k.kind) !== (this.format.holds === 'ips')) why = this.format.otherKind
    else {
      const text = this.format.line(k)
      if (typeof text === 'string') return { key: k.key, rank: this.rankOf(k), text }
      why = text.reason
    }
    const n = (this.leftOut.get(why) ?? 0) + sign
    if (n === 0) this.leftOut.delete(why)
    else this.leftOut.set(why, n)
    return null
  }
}

/** Renders `datasets` in a format from scratch (`spamsync render`, the first pass). */
export function renderLines (resolved: ResolvedLists, datasets: readonly ListDataset[], format: LineFormat): Rendering {
  const table = new LineTable(format, datasets)
  table.fill([...resolved.senders, ...resolved.ips])
  return table.rendering()
}
