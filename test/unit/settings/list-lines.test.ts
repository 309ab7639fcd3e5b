import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { KeyColumn } from '../../../src/settings/list-lines.js'
import { parseListFile, reparseListFile, type ParsedListFile } from '../../../src/settings/list-file.js'

describe('KeyColumn', () => {
  test('after any splices holds what an array spliced the same way holds, and finds keys where the array does', () => {
    const keyAt = (i: number): string | undefined => i % 7 === 0 ? undefined : `k${i}`
    fc.assert(fc.property(
      fc.nat({ max: 12_000 }),
      fc.array(fc.record({ at: fc.nat(), remove: fc.nat({ max: 5000 }), insert: fc.nat({ max: 5000 }) }), { maxLength: 6 }),
      (size, edits) => {
        let array = Array.from({ length: size }, (_, i) => keyAt(i))
        let column = KeyColumn.of(array)
        let next = size
        for (const e of edits) {
          const at = e.at % (array.length + 1)
          const remove = Math.min(e.remove, array.length - at)
          const insert = Array.from({ length: e.insert }, () => keyAt(next++))
          array = [...array.slice(0, at), ...insert, ...array.slice(at + remove)]
          column = column.splice(at, remove, insert)
        }
        assert.equal(column.length, array.length)
        for (let i = 0; i < array.length; i += 97) assert.equal(column.get(i), array[i])
        const probes = new Set([array[0], array[array.length >> 1], 'absent'].filter(k => k !== undefined))
        assert.deepEqual(column.indexesOf(probes), array.flatMap((k, i) => k !== undefined && probes.has(k) ? [i] : []))
        for (const probe of [array[0], array[array.length >> 1], array[array.length - 1], 'absent']) {
          if (probe === undefined) continue
          assert.equal(column.indexOf(probe), array.indexOf(probe))
          assert.equal(column.indexOf(probe, array.length >> 1), array.indexOf(probe, array.length >> 1))
        }
      }), { numRuns: 200 })
  })
})

describe('ListLines', () => {
  test('gives each line without its line break, a CRLF file\'s CR included, an unterminated last line byte-exact', () => {
    const lines = parseListFile('a.com\r\n# c\r\nb.com x\r', 'f').lines
    assert.deepEqual([lines.raw(0), lines.raw(1), lines.raw(2)], ['a.com', '# c', 'b.com x\r'])
    assert.equal(lines.exact, false)
    assert.equal(lines.at(3), undefined)
  })

  test('counts the whole lines within a number of characters and finds the first line from an offset', () => {
    const lines = parseListFile('a.com\nbb.com\n\nc.com\n', 'f').lines
    assert.deepEqual([0, 5, 6, 12, 13, 14, 19, 20].map(o => lines.wholeLinesWithin(o)), [0, 0, 1, 1, 2, 3, 3, 4])
    assert.deepEqual([0, 1, 6, 7, 13, 14, 20].map(o => lines.firstStartingFrom(o)), [0, 1, 1, 2, 2, 3, 4])
  })
})

describe('ListLines of a reparse', () => {
  /** A parse as plain values (a reparse shares the earlier parse's key map and column chunks). */
  const plain = (p: ParsedListFile): object => ({ ...p, entries: new Map(p.entries), lines: { text: p.lines.text, exact: p.lines.exact, lines: [...p.lines] } })

  test('a reparse of a 20,000-line file after edits anywhere reads as a fresh parse', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => i % 50 === 0 ? `# note ${i}` : `d${i}.example v${i}`)
    fc.assert(fc.property(fc.nat({ max: 20_000 }), fc.nat({ max: 3 }), fc.array(fc.nat({ max: 1000 }), { maxLength: 3 }), (at, remove, added) => {
      const text = lines.join('\n') + '\n'
      const edited = [...lines.slice(0, at), ...added.map(n => `new${n}.example`), ...lines.slice(at + remove)]
      const after = [...new Set(edited)].join('\n') + '\n'
      const before = parseListFile(text, 'f')
      assert.deepEqual(plain(reparseListFile(before, after, 'f')), plain(parseListFile(after, 'f')))
      assert.deepEqual(plain(before), plain(parseListFile(text, 'f')))
    }), { numRuns: 40 })
  })
})
