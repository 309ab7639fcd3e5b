import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isWellFormed, parseListFile, reparseListFile, type ParsedListFile } from '../../../src/settings/list-file.js'
import type { ListLines } from '../../../src/settings/list-lines.js'
import { scan, span } from '../../../src/settings/list-line.js'
import { checkKey } from '../../../src/settings/list-key.js'
import { keyArb, lineArb, lineText, type LineSpec } from '../../helpers/list-file-arbs.js'

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
  /** A parse as plain values (a reparse shares the earlier parse's key map and column chunks; its edit says where the texts differ). */
  const plain = (p: ParsedListFile): object => ({ ...p, edit: undefined, entries: new Map(p.entries), lines: { text: p.lines.text, exact: p.lines.exact, lines: [...p.lines] } })

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

describe('the keys of ListLines', () => {
  /** Line `raw`'s key read alone (entries and duplicates), as the keys column held it as strings. */
  function keyAlone (raw: string, first: boolean): string | undefined {
    if (scan(raw, first) !== 'entry' || !isWellFormed(raw)) return undefined
    const key = checkKey(raw.slice(span.keyStart, span.keyEnd))
    return typeof key === 'string' ? key : undefined
  }

  /** Asserts that `lines` holds `expected`'s keys, read whole, one by one and searched for. */
  function assertKeys (lines: ListLines, expected: ReadonlyArray<string | undefined>): void {
    assert.deepEqual(Array.from({ length: lines.length }, (_, i) => lines.key(i)), expected)
    expected.forEach((key, i) => {
      if (key === undefined) return
      assert.ok(lines.keyIs(i, key))
      assert.ok(!lines.keyIs(i, key + 'x') && !lines.keyIs(i, key.slice(1)))
      assert.equal(lines.indexOfKey(key), expected.indexOf(key))
    })
    const probes = new Set(expected.filter((k, i): k is string => k !== undefined && i % 3 === 0))
    assert.deepEqual(lines.linesOfKeys(probes), expected.flatMap((k, i) => k !== undefined && probes.has(k) ? [i] : []))
  }

  // Entry lines spelled as written or otherwise (`A.COM`, `@a.com`, `a.com.`: keys that are no
  // slice of their line), comments, blanks, bad keys, lone surrogates, a byte-order mark, CRLF.
  const oddLineArb = fc.constantFrom('\uD800bad.example', 'ok.example \uDC00', '# \uD83D', 'bad..key')
  const lineSpecs = fc.array(fc.oneof({ weight: 6, arbitrary: lineArb }, oddLineArb), { maxLength: 40 })
  const edit = fc.record({ at: fc.nat(), remove: fc.nat({ max: 4 }), insert: lineSpecs.map(l => l.slice(0, 4)) })

  test('are each line\'s key read alone, in a parse and after any chain of reparses, as a fresh parse has them', () => {
    fc.assert(fc.property(
      fc.uniqueArray(keyArb, { minLength: 1, maxLength: 60 }), lineSpecs, fc.array(edit, { minLength: 1, maxLength: 5 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(),
      (pool, specs, edits, eol, bom, unique) => {
        let next = 0
        // Unique keys: no invalid line, so an edit reuses the earlier parse's columns.
        const textOf = (s: ReadonlyArray<LineSpec | string>): string => s.map(l => typeof l === 'string' ? l : lineText(unique && l.t === 'entry' ? { ...l, key: next++ } : l, pool)).join(eol)
        let raws = textOf(specs.filter(l => !unique || typeof l !== 'string')).split(eol)
        const text = (): string => raws.length === 0 ? '' : (bom ? '\uFEFF' : '') + raws.join(eol) + eol
        let parsed = parseListFile(text(), 'f')
        for (const e of [null, ...edits]) {
          if (e !== null) {
            const at = e.at % (raws.length + 1)
            const insert = e.insert.length === 0 ? [] : textOf(e.insert.filter(l => !unique || typeof l !== 'string')).split(eol)
            raws = [...raws.slice(0, at), ...insert, ...raws.slice(at + e.remove)]
            parsed = reparseListFile(parsed, text(), 'f')
          }
          const fresh = parseListFile(text(), 'f')
          const expected = raws.map((raw, i) => keyAlone(i === 0 && bom ? '\uFEFF' + raw : raw, i === 0))
          assertKeys(parsed.lines, expected)
          assertKeys(fresh.lines, expected)
          assert.deepEqual(new Map(parsed.entries), new Map(fresh.entries))
        }
      }), { numRuns: 500 })
  })
})
