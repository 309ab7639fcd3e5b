/**
 * The keys column of a list file's lines (list-lines.ts): each line's normalised key held as
 * where it lies in the file's text, not as a string. A key is nearly always a slice of its line
 * (a canonical key is kept as written), and the text is held anyway: a string per line was
 * ~4.6 MB of heap at 121k lines and ~40 MB at 1M, a million objects every garbage collection
 * walked. The rare key that is no slice of its line (normalised: `A.COM`, `fe80::0:1`, an IDN)
 * is kept as a string in a sparse map.
 */

import type { TextReader } from './spliced-text.js'
import { lastAtMost } from './sorted-search.js'

/**
 * A key's span code: its offset from its line's start above {@link LENGTH_BITS} bits of its
 * length (a key is never empty, so a span is positive). Keys are at most 255 characters (an
 * address 254); a longer one, or one past {@link MAX_OFFSET}, is kept as an odd key.
 */
const LENGTH_BITS = 8
const LENGTH_MASK = (1 << LENGTH_BITS) - 1
const MAX_OFFSET = 2 ** (31 - LENGTH_BITS) - 1
/** No key on the line. */
const NO_KEY = 0
/** A key that is no slice of its line: see the chunk's `odd` map. */
const ODD = -1

/** Keys a chunk of the column holds at most. */
const KEYS_PER_CHUNK = 4096

/** A run of the column: span codes, and the odd keys by index in the run. */
interface Chunk {
  readonly spans: Int32Array
  readonly odd: ReadonlyMap<number, string> | null
}

/**
 * The keys of a run of lines as they are read, before they become (part of) a column: written
 * straight into chunks, not into an array of a number per line then copied into them.
 */
export class KeySpans {
  private readonly full: Chunk[] = []
  private spans = new Int32Array(KEYS_PER_CHUNK)
  private odd: Map<number, string> | null = null
  private count = 0

  /**
   * Adds the key of the line `text[lineStart, lineEnd)` (undefined: the line has none); `from`:
   * where in the line the key is looked for first (where it was written).
   */
  add (text: TextReader, lineStart: number, lineEnd: number, key: string | undefined, from = 0): void {
    if (key === undefined) {
      this.push(NO_KEY, undefined)
      return
    }
    let at = text.startsWith(key, lineStart + from) && lineStart + from + key.length <= lineEnd ? from : -1
    // Else anywhere in the line (`@a.com` is `a.com` one on), searched in the line only.
    if (at < 0) at = text.slice(lineStart, lineEnd).indexOf(key)
    if (at < 0 || at > MAX_OFFSET || key.length > LENGTH_MASK) this.push(ODD, key)
    else this.push(at << LENGTH_BITS | key.length, undefined)
  }

  /** Adds keys [from, to) of `chunk`. */
  copy (chunk: Chunk, from: number, to: number): void {
    for (let j = from; j < to; j++) {
      const code = chunk.spans[j]
      this.push(code, code === ODD ? chunk.odd?.get(j) : undefined)
    }
  }

  /** The spans in chunks of at most {@link KEYS_PER_CHUNK}, none empty. */
  chunks (): Chunk[] {
    if (this.count === 0) return this.full
    return [...this.full, { spans: this.spans.slice(0, this.count), odd: this.odd }]
  }

  // Adds a span code, and the key of an odd one.
  private push (code: number, key: string | undefined): void {
    if (this.count === KEYS_PER_CHUNK) {
      this.full.push({ spans: this.spans, odd: this.odd })
      this.spans = new Int32Array(KEYS_PER_CHUNK)
      this.odd = null
      this.count = 0
    }
    if (key !== undefined) (this.odd ??= new Map()).set(this.count, key)
    this.spans[this.count++] = code
  }
}

/**
 * A line's key (or undefined) by line index, over a text and its line starts (those of the
 * ListLines that hold the column), in chunks of at most {@link KEYS_PER_CHUNK} that versions
 * share: an offset from a line's start stays true when an edit moves the line. Never changed
 * once made.
 */
export class KeyColumn {
  /** Number of keys (lines). */
  readonly length: number

  private constructor (
    private readonly text: TextReader,
    private readonly starts: Int32Array,
    private readonly chunks: readonly Chunk[],
    /** Index of each chunk's first key, and the length last. */
    private readonly firsts: Int32Array
  ) {
    this.length = firsts[chunks.length]
  }

  /** The column of the lines of `text` starting at `starts` (one more: the end), whose keys are `keys`. */
  static of (text: TextReader, starts: Int32Array, keys: ReadonlyArray<string | undefined>): KeyColumn {
    const spans = new KeySpans()
    for (let i = 0; i < keys.length; i++) spans.add(text, starts[i], starts[i + 1], keys[i])
    return KeyColumn.fromSpans(text, starts, spans)
  }

  /** The column of the lines of `text` starting at `starts`, whose keys are `spans`. */
  static fromSpans (text: TextReader, starts: Int32Array, spans: KeySpans): KeyColumn {
    return KeyColumn.fromChunks(text, starts, spans.chunks())
  }

  private static fromChunks (text: TextReader, starts: Int32Array, chunks: readonly Chunk[]): KeyColumn {
    const firsts = new Int32Array(chunks.length + 1)
    for (let c = 0; c < chunks.length; c++) firsts[c + 1] = firsts[c] + chunks[c].spans.length
    return new KeyColumn(text, starts, chunks, firsts)
  }

  /**
   * This column without its text: made into the same column over the same characters read back
   * (a file view's text let go, file-view.ts) and their line `starts`. Holds nothing of the text:
   * its odd keys are copied (one made of slices of the text would keep all of it).
   */
  detached (): (text: string, starts: Int32Array) => KeyColumn {
    const chunks = this.chunks.map(c => c.odd === null ? c : { spans: c.spans, odd: new Map([...c.odd].map(([j, key]) => [j, ownCopy(key)])) })
    const firsts = this.firsts
    return (text, starts) => new KeyColumn(text, starts, chunks, firsts)
  }

  /** The key at `i`. */
  get (i: number): string | undefined {
    const c = this.chunkOf(i)
    return this.keyIn(this.chunks[c], i - this.firsts[c], i)
  }

  /** Whether the key at `i` is `key` (no string made). */
  keyIs (i: number, key: string): boolean {
    const c = this.chunkOf(i)
    return this.holds(this.chunks[c], i - this.firsts[c], i, key)
  }

  /**
   * {@link keyIs} with no search for the chunk: a flat copy of the spans, for many look-ups at
   * random lines (a binary search for every probe made a 1M-line key index take a second).
   */
  flatKeyIs (): (i: number, key: string) => boolean {
    const spans = new Int32Array(this.length)
    const odd = new Map<number, string>()
    for (let c = 0; c < this.chunks.length; c++) {
      spans.set(this.chunks[c].spans, this.firsts[c])
      for (const [j, key] of this.chunks[c].odd ?? []) odd.set(this.firsts[c] + j, key)
    }
    const flat: Chunk = { spans, odd }
    return (i, key) => this.holds(flat, i, i, key)
  }

  /** The keys in order. */
  * [Symbol.iterator] (): IterableIterator<string | undefined> {
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]
      for (let j = 0; j < chunk.spans.length; j++) yield this.keyIn(chunk, j, this.firsts[c] + j)
    }
  }

  /** The first index from `from` on that holds `key`, or -1. */
  indexOf (key: string, from = 0): number {
    for (let c = from >= this.length ? this.chunks.length : this.chunkOf(Math.max(0, from)); c < this.chunks.length; c++) {
      const chunk = this.chunks[c]
      const first = this.firsts[c]
      for (let j = Math.max(0, from - first); j < chunk.spans.length; j++) if (this.holds(chunk, j, first + j, key)) return first + j
    }
    return -1
  }

  /** The indexes (in order) that hold one of `keys`; only keys of a length one of them has are made. */
  indexesOf (keys: ReadonlySet<string>): number[] {
    const lengths = new Uint8Array(LENGTH_MASK + 1)
    for (const key of keys) if (key.length <= LENGTH_MASK) lengths[key.length] = 1
    const found: number[] = []
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]
      for (let j = 0; j < chunk.spans.length; j++) {
        const code = chunk.spans[j]
        if (code === NO_KEY || (code > 0 && lengths[code & LENGTH_MASK] === 0)) continue
        const key = this.keyIn(chunk, j, this.firsts[c] + j) as string
        if (keys.has(key)) found.push(this.firsts[c] + j)
      }
    }
    return found
  }

  /**
   * This column with `remove` keys from `at` on replaced by `insert`, over `text` and its line
   * `starts` (the lines kept are the same characters); the chunks around them are shared.
   */
  splice (at: number, remove: number, insert: KeySpans, text: TextReader, starts: Int32Array): KeyColumn {
    if (this.chunks.length === 0) return KeyColumn.fromSpans(text, starts, insert)
    // The chunks that hold the first and the last replaced key (or the key before an insertion at the end).
    const first = this.chunkOf(Math.min(at, this.length - 1))
    const last = remove === 0 ? first : this.chunkOf(at + remove - 1)
    const joined = new KeySpans()
    joined.copy(this.chunks[first], 0, at - this.firsts[first])
    for (const chunk of insert.chunks()) joined.copy(chunk, 0, chunk.spans.length)
    joined.copy(this.chunks[last], at + remove - this.firsts[last], this.chunks[last].spans.length)
    return KeyColumn.fromChunks(text, starts, [...this.chunks.slice(0, first), ...joined.chunks(), ...this.chunks.slice(last + 1)])
  }

  // Key j of `chunk`, which is line i's.
  private keyIn (chunk: Chunk, j: number, i: number): string | undefined {
    const code = chunk.spans[j]
    if (code === NO_KEY) return undefined
    if (code === ODD) return chunk.odd?.get(j)
    const start = this.starts[i] + (code >> LENGTH_BITS)
    return this.text.slice(start, start + (code & LENGTH_MASK))
  }

  // Whether key j of `chunk`, which is line i's, is `key`.
  private holds (chunk: Chunk, j: number, i: number, key: string): boolean {
    const code = chunk.spans[j]
    if (code === NO_KEY) return false
    if (code === ODD) return chunk.odd?.get(j) === key
    return (code & LENGTH_MASK) === key.length && this.text.startsWith(key, this.starts[i] + (code >> LENGTH_BITS))
  }

  // The chunk holding index i (0 <= i < length).
  private chunkOf (i: number): number {
    return lastAtMost(this.firsts, this.chunks.length - 1, i)
  }
}

/** A string with storage of its own, not a slice (or a join of slices) of a longer one. */
export function ownCopy (text: string): string {
  return JSON.parse(JSON.stringify(text)) as string
}
