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

/** Consecutive lines of the file, by their keys, with their bytes once encoded. */
interface Block {
  keys: ResolvedKey[]
  bytes: Buffer | null
}

/**
 * The lines of one output and its counts for status; see the module comment. A line is kept as
 * its ResolvedKey only (the text is rendered again for the block it is in when that block
 * changes), so 121k lines cost an array slot each beside the shared resolved keys.
 */
export class LineTable {
  /** The keys that have a line, in file order, cut in blocks; no block is empty. */
  private blocks: Block[] = []
  private size = 0
  private readonly header: Buffer
  private readonly leftOut = new Map<string, number>()
  private conflicts = 0
  private readonly wanted: number
  private readonly blockLines: number
  private readonly resortAbove: number
  private readonly order: (a: ResolvedKey, b: ResolvedKey) => number

  constructor (private readonly format: LineFormat, datasets: readonly ListDataset[], shape: TableShape = {}) {
    this.wanted = listMask(datasets)
    this.header = Buffer.from(format.header + '\n')
    this.blockLines = shape.blockLines ?? 1024
    this.resortAbove = shape.resortAbove ?? 4096
    const rank = format.rank
    const byKey = (a: ResolvedKey, b: ResolvedKey): number => a.key < b.key ? -1 : a.key > b.key ? 1 : 0
    this.order = rank === undefined ? byKey : (a, b) => rank(a) - rank(b) || byKey(a, b)
  }

  /** Adds every key (of an empty table). */
  fill (keys: Iterable<ResolvedKey>): void {
    const lines: ResolvedKey[] = []
    for (const k of keys) if (this.count(k, 1) !== null) lines.push(k)
    this.cut(lines.sort(this.order))
  }

  /** Applies changed keys (each key once); returns whether any line changed. */
  update (changes: Iterable<KeyChange>): boolean {
    const moved: Array<[ResolvedKey | null, ResolvedKey | null]> = []
    for (const { before, after } of changes) {
      const was = before === undefined ? null : this.count(before, -1)
      const is = after === undefined ? null : this.count(after, 1)
      if (was !== is) moved.push([was === null ? null : before!, is === null ? null : after!])
    }
    if (moved.length > this.resortAbove) {
      const gone = new Set<string>()
      for (const [prev] of moved) if (prev !== null) gone.add(prev.key)
      const kept: ResolvedKey[] = []
      for (const b of this.blocks) for (const k of b.keys) if (!gone.has(k.key)) kept.push(k)
      for (const [, next] of moved) if (next !== null) kept.push(next)
      this.cut(kept.sort(this.order))
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
      b.bytes ??= Buffer.from(b.keys.map(k => this.format.line(k) as string).join('\n') + '\n')
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

  /** Cuts sorted keys into blocks. */
  private cut (keys: ResolvedKey[]): void {
    this.blocks = []
    for (let i = 0; i < keys.length; i += this.blockLines) this.blocks.push({ keys: keys.slice(i, i + this.blockLines), bytes: null })
    this.size = keys.length
  }

  /** The block where `k` is or goes: the last whose first key does not go after it (0: none). */
  private blockOf (k: ResolvedKey): number {
    let lo = 0
    let hi = this.blocks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.order(this.blocks[mid].keys[0], k) <= 0) lo = mid + 1
      else hi = mid
    }
    return Math.max(lo - 1, 0)
  }

  /** The first index of `keys` whose key does not go before `k` (binary search). */
  private lowerBound (keys: ResolvedKey[], k: ResolvedKey): number {
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.order(keys[mid], k) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private remove (k: ResolvedKey): void {
    const bi = this.blockOf(k)
    const b = this.blocks[bi]
    b.keys.splice(this.lowerBound(b.keys, k), 1)
    b.bytes = null
    if (b.keys.length === 0) this.blocks.splice(bi, 1)
    this.size--
  }

  private insert (k: ResolvedKey): void {
    this.size++
    if (this.blocks.length === 0) {
      this.blocks.push({ keys: [k], bytes: null })
      return
    }
    const bi = this.blockOf(k)
    const b = this.blocks[bi]
    b.keys.splice(this.lowerBound(b.keys, k), 0, k)
    b.bytes = null
    if (b.keys.length >= 2 * this.blockLines) {
      const half = b.keys.length >> 1
      this.blocks.splice(bi + 1, 0, { keys: b.keys.slice(half), bytes: null })
      b.keys.length = half
    }
  }

  /**
   * Counts (sign 1) or uncounts (-1) a key in the output's status; returns its line when it
   * has one in this output.
   */
  private count (k: ResolvedKey, sign: 1 | -1): string | null {
    if ((k.mask & this.wanted) === 0) return null
    if (k.conflict) this.conflicts += sign
    let why: string
    if ((LIST_BIT[k.list] & this.wanted) === 0) why = TAKES_PRECEDENCE[k.list]
    else if (isIpKind(k.kind) !== (this.format.holds === 'ips')) why = this.format.otherKind
    else {
      const line = this.format.line(k)
      if (typeof line === 'string') return line
      why = line.reason
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
