/**
 * The parts of a text joined into batches of up to `maxChars` (a longer part alone): a render
 * with every line changed (an initial sync) is one part per line, and a write call each made the
 * 121k-line initial sync ~4 s slower. Parts are whole lines or slices between them, so a batch
 * never ends inside a surrogate pair.
 */
export function * textBatches (parts: readonly string[], maxChars: number): Generator<string> {
  let pending: string[] = []
  let chars = 0
  for (const part of parts) {
    if (chars + part.length > maxChars && pending.length > 0) {
      yield pending.join('')
      pending = []
      chars = 0
    }
    pending.push(part)
    chars += part.length
  }
  if (pending.length > 0) yield pending.join('')
}

