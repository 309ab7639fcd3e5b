import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { KeyColumn, KeySpans } from '../../../src/settings/key-column.js'

/** Key of item `n` (none for every 7th); its line holds it as written, after two spaces, or upper-cased (an odd key). */
const keyOf = (n: number): string | undefined => n % 7 === 0 ? undefined : `k${n}`
function lineOf (n: number): string {
  const key = keyOf(n)
  if (key === undefined) return `# none ${n}`
  if (n % 5 === 0) return key.toUpperCase()
  return n % 3 === 1 ? `  ${key} v` : key
}

/** The text of items `ns`, one a line, and where its lines start (one more: the end). */
function textOf (ns: readonly number[]): { text: string, starts: Int32Array } {
  const starts = new Int32Array(ns.length + 1)
  let at = 0
  ns.forEach((n, i) => {
    at += lineOf(n).length + 1
    starts[i + 1] = at
  })
  return { text: ns.map(n => lineOf(n) + '\n').join(''), starts }
}

describe('KeyColumn', () => {
  test('after any splices holds what an array spliced the same way holds, and finds keys where the array does', () => {
    fc.assert(fc.property(
      fc.nat({ max: 12_000 }),
      fc.array(fc.record({ at: fc.nat(), remove: fc.nat({ max: 5000 }), insert: fc.nat({ max: 5000 }) }), { maxLength: 6 }),
      (size, edits) => {
        let items = Array.from({ length: size }, (_, i) => i)
        let { text, starts } = textOf(items)
        let column = KeyColumn.of(text, starts, items.map(keyOf))
        let next = size
        for (const e of edits) {
          const at = e.at % (items.length + 1)
          const remove = Math.min(e.remove, items.length - at)
          const insert = Array.from({ length: e.insert }, () => next++)
          items = [...items.slice(0, at), ...insert, ...items.slice(at + remove)]
          ;({ text, starts } = textOf(items))
          const spans = new KeySpans()
          insert.forEach((n, j) => spans.add(text, starts[at + j], starts[at + j + 1], keyOf(n)))
          column = column.splice(at, remove, spans, text, starts)
        }
        const array = items.map(keyOf)
        assert.equal(column.length, array.length)
        for (let i = 0; i < array.length; i += 97) assert.equal(column.get(i), array[i])
        assert.deepEqual([...column], array)
        const probes = new Set([array[0], array[array.length >> 1], 'absent'].filter(k => k !== undefined))
        assert.deepEqual(column.indexesOf(probes), array.flatMap((k, i) => k !== undefined && probes.has(k) ? [i] : []))
        for (const probe of [array[0], array[array.length >> 1], array[array.length - 1], 'absent']) {
          if (probe === undefined) continue
          assert.equal(column.indexOf(probe), array.indexOf(probe))
          assert.equal(column.indexOf(probe, array.length >> 1), array.indexOf(probe, array.length >> 1))
        }
      }), { numRuns: 200 })
  })

  test('tells whether a line holds a key, slices and odd keys alike, by chunk or flat', () => {
    const items = Array.from({ length: 9000 }, (_, i) => i)
    const { text, starts } = textOf(items)
    const column = KeyColumn.of(text, starts, items.map(keyOf))
    const flat = column.flatKeyIs()
    for (const i of [0, 1, 4, 5, 10, 4095, 4096, 4100, 8999]) {
      const key = keyOf(i)
      for (const probe of [key, 'k', `k${i + 1}`, `${key ?? 'x'}x`, key?.toUpperCase()]) {
        if (probe === undefined) continue
        assert.equal(column.keyIs(i, probe), probe === key, `line ${i}, ${probe}`)
        assert.equal(flat(i, probe), probe === key, `line ${i}, ${probe} (flat)`)
      }
    }
  })

  test('keeps a key that is no slice of its line, or longer than 255 characters, as it is', () => {
    const long = 'a'.repeat(300)
    const text = 'A.COM\n@b.com\n' + long + '\n'
    const column = KeyColumn.of(text, Int32Array.of(0, 6, 13, 314), ['a.com', 'b.com', long])
    assert.deepEqual([...column], ['a.com', 'b.com', long])
    assert.equal(column.indexOf(long), 2)
    assert.deepEqual(column.indexesOf(new Set(['a.com', long])), [0, 2])
  })
})
