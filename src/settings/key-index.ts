/**
 * A list file's entries (normalised key -> field) found through its lines instead of held in a
 * Map: a hash table of line indexes (one Int32 a slot, open addressing) over the keys column, and
 * a key's field read from its line when asked for. A Map of every key was the largest part of a
 * parse (3.7 MB of heap at 121k lines, 15 MB at 1M, against 1 MB and 8 MB for the table) and
 * most of a full parse's time (a Map.set per line); the keys and the text are held by the lines
 * already, so the table adds only the slots.
 */
import { scan, scannedField } from './list-line.js'
import { kindCode, type ListLines } from './list-lines.js'
import { finish } from '../pace.js'

const ENTRY = kindCode('entry')

/** Slots per key at least (a table at most 3/4 full keeps linear probing short). */
const MIN_SLOTS_PER_KEY = 4 / 3

/** Hash of a key (FNV-1a over its UTF-16 units). */
function hashKey (key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return h
}

/** Lines a table tags its slots for: a line number then fits in a slot's low 24 bits. */
const TAGGED_LINES = 1 << 24

/**
 * Line indexes by key: each key added once, with the first line that holds it. The keys
 * themselves are not kept: every call is given `keyIs`, whether a line's key is a key. Below
 * {@link TAGGED_LINES} lines a slot also holds the top 8 bits of its key's hash, so a probe
 * compares the key (its line's text, elsewhere in memory) only when they agree: a third less time to
 * build the table of 1M keys.
 */
export class KeyIndex {
  /** Tag << 24 | line index + 1 by slot (line index + 1 alone when untagged); 0: empty. */
  private readonly slots: Int32Array
  private readonly mask: number
  private readonly tagged: boolean

  /** A table for at most `count` keys on lines below `lines`. */
  constructor (count: number, lines: number) {
    let size = 8
    while (size < count * MIN_SLOTS_PER_KEY) size *= 2
    this.slots = new Int32Array(size)
    this.mask = size - 1
    this.tagged = lines < TAGGED_LINES
  }

  /** Adds `key` on `line` unless another line holds it: returns that line then, else -1. */
  add (key: string, line: number, keyIs: (line: number, key: string) => boolean): number {
    const h = hashKey(key)
    const tag = this.tagged ? h & ~0xffffff : 0
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const held = this.slots[s]
      if (held === 0) {
        this.slots[s] = tag | (line + 1)
        return -1
      }
      const at = this.lineIn(held, tag)
      if (at >= 0 && keyIs(at, key)) return at
    }
  }

  /** The line of `key`, or -1. */
  lineOf (key: string, keyIs: (line: number, key: string) => boolean): number {
    const h = hashKey(key)
    const tag = this.tagged ? h & ~0xffffff : 0
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const held = this.slots[s]
      if (held === 0) return -1
      const at = this.lineIn(held, tag)
      if (at >= 0 && keyIs(at, key)) return at
    }
  }

  // The line a slot holds when its tag is `tag` (any when untagged), else -1.
  private lineIn (held: number, tag: number): number {
    if (!this.tagged) return held - 1
    return (held & ~0xffffff) === tag ? (held & 0xffffff) - 1 : -1
  }
}

/** Lines indexed between two steps of {@link IndexedEntries.steps}: a few ms of work. */
const KEYS_PER_STEP = 16 * 1024

/** Adds the `entry` lines [from, to) of the keys `keys` yields next to `index` (a plain function: V8 optimises it, not a long loop in a generator). */
function indexSome (index: KeyIndex, keys: Iterator<string | undefined>, kinds: Uint8Array, from: number, to: number, keyIs: (line: number, key: string) => boolean): void {
  for (let i = from; i < to; i++) {
    const key = keys.next().value
    if (kinds[i] === ENTRY) index.add(key as string, i, keyIs)
  }
}

/** The number of `entry` lines of `lines`. */
function entryLines (lines: ListLines): number {
  const kinds = lines.columns.kinds
  let size = 0
  for (let i = 0; i < lines.length; i++) if (kinds[i] === ENTRY) size++
  return size
}

/** The table of the `size` entry lines of `lines`, as a generator of its steps, one every {@link KEYS_PER_STEP} lines. */
function * tableSteps (lines: ListLines, size: number): Generator<void, KeyIndex> {
  const cols = lines.columns
  const index = new KeyIndex(size, lines.length)
  const keyIs = cols.keys.flatKeyIs()
  const keys = cols.keys[Symbol.iterator]()
  for (let from = 0; from < lines.length; from += KEYS_PER_STEP) {
    if (from > 0) yield
    indexSome(index, keys, cols.kinds, from, Math.min(lines.length, from + KEYS_PER_STEP), keyIs)
  }
  return index
}

/** A line's field (value and comment) as the parse reads it; `first`: it is the file's first line. */
function fieldOf (raw: string, first: boolean): string {
  scan(raw, first)
  return scannedField(raw)
}

/**
 * The entries of parsed lines: every `entry` line's key (the first line of each key, see
 * parseListFile) with its field, in line order. Never changed once made.
 */
export class IndexedEntries implements ReadonlyMap<string, string> {
  private readonly keyIs: (line: number, key: string) => boolean

  /** `index` holds exactly the `entry` lines of `lines`, `size` of them; null: made when a key is first looked up ({@link lazy}). */
  constructor (private readonly lines: ListLines, private index: KeyIndex | null, readonly size: number) {
    this.keyIs = (i, key) => lines.keyIs(i, key)
  }

  /** The entries of `lines`, whose keys are unique to their `entry` lines (an edit checked to bring no duplicate). */
  static of (lines: ListLines): IndexedEntries {
    return finish(IndexedEntries.steps(lines))
  }

  /**
   * {@link of} with the table made when a key is first looked up: the file an initial sync writes
   * (list-render.ts renderIntoEntryless) is on every receiving node's critical path, and most often
   * no key of it is looked up before the next change (~0.1 s of CPU at 121k lines).
   */
  static lazy (lines: ListLines): IndexedEntries {
    return new IndexedEntries(lines, null, entryLines(lines))
  }

  /** {@link of} as a generator of its steps (pace.ts), one every {@link KEYS_PER_STEP} lines. */
  static * steps (lines: ListLines): Generator<void, IndexedEntries> {
    const size = entryLines(lines)
    return new IndexedEntries(lines, yield * tableSteps(lines, size), size)
  }

  /** These entries' table without their lines (made now, in steps, if it was not): made into the entries of the same lines over a text read back (ListLines.over). */
  * tableSteps (): Generator<void, (lines: ListLines) => IndexedEntries> {
    const index = this.index ??= yield * tableSteps(this.lines, this.size)
    const size = this.size
    return (lines) => new IndexedEntries(lines, index, size)
  }

  private table (): KeyIndex {
    return this.index ??= finish(tableSteps(this.lines, this.size))
  }

  get (key: string): string | undefined {
    const i = this.table().lineOf(key, this.keyIs)
    return i < 0 ? undefined : fieldOf(this.lines.raw(i), i === 0)
  }

  has (key: string): boolean {
    return this.table().lineOf(key, this.keyIs) >= 0
  }

  * entries (): MapIterator<[string, string]> {
    const kinds = this.lines.columns.kinds
    let i = 0
    for (const key of this.lines.columns.keys) {
      if (kinds[i] === ENTRY) yield [key as string, fieldOf(this.lines.raw(i), i === 0)]
      i++
    }
  }

  * keys (): MapIterator<string> {
    const cols = this.lines.columns
    let i = 0
    for (const key of cols.keys) if (cols.kinds[i++] === ENTRY) yield key as string
  }

  * values (): MapIterator<string> {
    for (const [, value] of this.entries()) yield value
  }

  [Symbol.iterator] (): MapIterator<[string, string]> {
    return this.entries()
  }

  forEach (fn: (value: string, key: string, map: ReadonlyMap<string, string>) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this)
  }
}
