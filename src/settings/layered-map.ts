/**
 * A read-only map made of another map and the few keys that differ from it, so the parse of a
 * file after a one-line edit shares the key map of the parse before instead of copying it: copying
 * (or rebuilding) a 1M-key map was most of a one-line change's cost. Neither map is ever changed,
 * so the parse before stays valid. A chain of more than {@link MAX_LAYERS} is flattened into a
 * plain map (once per that many edits), so a look-up never walks more than that many maps.
 */

/** Layers a look-up may walk before the next layer flattens them. */
export const MAX_LAYERS = 16

/** `base` with the keys of `changes` set (a string) or removed (null). */
export class LayeredMap implements ReadonlyMap<string, string> {
  readonly size: number
  private readonly base: ReadonlyMap<string, string>
  /** Maps under this one, this one included. */
  readonly layers: number

  constructor (base: ReadonlyMap<string, string>, private readonly changes: ReadonlyMap<string, string | null>) {
    const under = base instanceof LayeredMap ? base.layers : 0
    this.base = under >= MAX_LAYERS ? new Map(base) : base
    this.layers = under >= MAX_LAYERS ? 1 : under + 1
    let size = this.base.size
    for (const [key, value] of changes) {
      const had = this.base.has(key)
      if (value === null && had) size--
      else if (value !== null && !had) size++
    }
    this.size = size
  }

  get (key: string): string | undefined {
    const value = this.changes.get(key)
    if (value !== undefined) return value ?? undefined
    return this.base.get(key)
  }

  has (key: string): boolean {
    return this.get(key) !== undefined
  }

  * entries (): MapIterator<[string, string]> {
    for (const entry of this.base) if (!this.changes.has(entry[0])) yield entry
    for (const [key, value] of this.changes) if (value !== null) yield [key, value]
  }

  * keys (): MapIterator<string> {
    for (const [key] of this.entries()) yield key
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
