/**
 * One output's lines, kept sorted between passes so that a change to a few keys costs a few
 * binary searches and moves within a block of lines, not a new rendering of the whole list: a
 * one-line change of a 121k-line blacklist renders one line per output and encodes one block
 * of about a thousand lines (bench/outputs.ts). The file's bytes are the blocks' bytes in
 * order; built from scratch (`fill`) or updated (`update`), the same keys give the same bytes
 * (test/unit/outputs/table.test.ts).
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

/** Sizes of a LineTable's parts (the defaults suit a 121k-line list; tests make them tiny). */
export interface TableShape {
  /**
   * Lines per block when blocks are cut (a block is split at twice this): a change re-encodes
   * and shifts one block, not the file.
   */
  blockLines?: number
  /**
   * Above this many moved lines an update sorts all lines again instead of moving each one (a
   * move costs a few microseconds, a sort of 121k lines about as much as a few thousand moves).
   */
  resortAbove?: number
}

/** Consecutive lines of the file, with their bytes once encoded. */
interface Block {
  lines: Line[]
  bytes: Buffer | null
}

function byRankThenKey (a: Line, b: Line): number {
  return a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

/** The first index of `lines` whose line does not go before `l` (binary search). */
function lowerBound (lines: Line[], l: Line): number {
  let lo = 0
  let hi = lines.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (byRankThenKey(lines[mid], l) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The lines of one output and its counts for status; see the module comment. */
export class LineTable {
  /** The lines in file order, cut in blocks; no block is empty. */
  private blocks: Block[] = []
  private size = 0
  private readonly header: Buffer
  private readonly leftOut = new Map<string, number>()
  private conflicts = 0
  private readonly wanted: number
  private readonly blockLines: number
  private readonly resortAbove: number

  constructor (private readonly format: LineFormat, datasets: readonly ListDataset[], shape: TableShape = {}) {
    this.wanted = listMask(datasets)
    this.header = Buffer.from(format.header + '\n')
    this.blockLines = shape.blockLines ?? 1024
    this.resortAbove = shape.resortAbove ?? 4096
  }

  /** Adds every key (of an empty table). */
  fill (keys: Iterable<ResolvedKey>): void {
    const lines: Line[] = []
    for (const k of keys) {
      const line = this.count(k, 1)
      if (line !== null) lines.push(line)
    }
    this.cut(lines.sort(byRankThenKey))
  }

  /** Applies changed keys (each key once); returns whether any line changed. */
  update (changes: Iterable<KeyChange>): boolean {
    const moved: Array<[Line | null, Line | null]> = []
    for (const { before, after } of changes) {
      if (before !== undefined) this.count(before, -1)
      const next = after === undefined ? null : this.count(after, 1)
      const prev = before === undefined ? null : this.lineOf(before)
      if (prev?.text !== next?.text) moved.push([prev, next])
    }
    if (moved.length > this.resortAbove) {
      const gone = new Set<Line>()
      for (const [prev] of moved) if (prev !== null) gone.add(prev)
      const kept: Line[] = []
      for (const b of this.blocks) for (const l of b.lines) if (!gone.has(l)) kept.push(l)
      for (const [, next] of moved) if (next !== null) kept.push(next)
      this.cut(kept.sort(byRankThenKey))
    } else {
      for (const [prev, next] of moved) {
        if (prev !== null) this.remove(prev)
        if (next !== null) this.insert(next)
      }
    }
    return moved.length > 0
  }

  /** The file's bytes, in chunks (a block's bytes are encoded once, until it changes). */
  chunks (): Buffer[] {
    const out = [this.header]
    for (const b of this.blocks) {
      b.bytes ??= Buffer.from(b.lines.map(l => l.text).join('\n') + '\n')
      out.push(b.bytes)
    }
    return out
  }

  /** The file's content. */
  text (): string {
    return Buffer.concat(this.chunks()).toString()
  }

  /** The file's content and the counts status shows. */
  rendering (): Rendering {
    return { text: this.text(), ...this.counts() }
  }

  /** Entries written, left out by reason, and conflicts. */
  counts (): Omit<Rendering, 'text'> {
    return { written: this.size, leftOut: Object.fromEntries(this.leftOut), conflicts: this.conflicts }
  }

  /** Cuts sorted lines into blocks. */
  private cut (lines: Line[]): void {
    this.blocks = []
    for (let i = 0; i < lines.length; i += this.blockLines) this.blocks.push({ lines: lines.slice(i, i + this.blockLines), bytes: null })
    this.size = lines.length
  }

  /** The block where `l` is or goes: the last whose first line does not go after it (0: none). */
  private blockOf (l: Line): number {
    let lo = 0
    let hi = this.blocks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (byRankThenKey(this.blocks[mid].lines[0], l) <= 0) lo = mid + 1
      else hi = mid
    }
    return Math.max(lo - 1, 0)
  }

  /** The line of a key, or null when it has none. */
  private lineOf (k: ResolvedKey): Line | null {
    if (this.blocks.length === 0) return null
    const probe: Line = { key: k.key, rank: this.rankOf(k), text: '' }
    const lines = this.blocks[this.blockOf(probe)].lines
    const l = lines[lowerBound(lines, probe)]
    return l?.key === k.key ? l : null
  }

  private remove (l: Line): void {
    const bi = this.blockOf(l)
    const b = this.blocks[bi]
    b.lines.splice(lowerBound(b.lines, l), 1)
    b.bytes = null
    if (b.lines.length === 0) this.blocks.splice(bi, 1)
    this.size--
  }

  private insert (l: Line): void {
    this.size++
    if (this.blocks.length === 0) {
      this.blocks.push({ lines: [l], bytes: null })
      return
    }
    const bi = this.blockOf(l)
    const b = this.blocks[bi]
    b.lines.splice(lowerBound(b.lines, l), 0, l)
    b.bytes = null
    if (b.lines.length >= 2 * this.blockLines) {
      const half = b.lines.length >> 1
      this.blocks.splice(bi + 1, 0, { lines: b.lines.slice(half), bytes: null })
      b.lines.length = half
    }
  }

  private rankOf (k: ResolvedKey): number {
    return this.format.rank?.(k) ?? 0
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
