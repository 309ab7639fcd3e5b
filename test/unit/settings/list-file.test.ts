import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { finish } from '../../../src/pace.js'
import { NOT_UTF8, keysOnChangedLines, parseListFile, reparseListFile, type ParsedListFile } from '../../../src/settings/list-file.js'
import { fieldComment, fieldValue } from '../../../src/settings/list-line.js'
import { keyArb, lineArb, lineText, type LineSpec } from '../../helpers/list-file-arbs.js'
import { renderListFile } from '../../../src/settings/list-render.js'

const FILE = 'blacklist.txt'

function parse (text: string): ParsedListFile {
  return parseListFile(text, FILE)
}

/** A parse as plain values: a reparse may share the earlier parse's key map and column chunks under its changes. */
function plain (p: ParsedListFile): object {
  // The edit a reparse found is where the texts differ, not part of what the text says.
  return { ...p, edit: undefined, entries: new Map(p.entries), lines: { text: p.lines.text, exact: p.lines.exact, crlf: p.lines.crlf, lines: [...p.lines] } }
}

describe('parseListFile', () => {
  test('reads one entry a line, the key normalised, the value after it', () => {
    const p = parse('Example.COM\nspam@example.org blocked since 2024\n')
    assert.deepEqual(new Map(p.entries), new Map([['example.com', ''], ['spam@example.org', 'blocked since 2024']]))
  })

  test('trims the value but keeps its inner spacing', () => {
    const p = parse('example.com \t  a  b\t \n')
    assert.equal(p.entries.get('example.com'), 'a  b')
  })

  test('numbers lines from 1 and keeps each raw text', () => {
    const p = parse('a.com\n\n  b.com  x\n')
    assert.deepEqual([...p.lines].map(l => [l.line, l.kind, l.raw]), [[1, 'entry', 'a.com'], [2, 'blank', ''], [3, 'entry', '  b.com  x']])
  })

  test('reads a line starting with # after optional whitespace as a comment', () => {
    const p = parse('# header\n   # indented\n\t#tab\n')
    assert.deepEqual([...p.lines].map(l => l.kind), ['comment', 'comment', 'comment'])
    assert.equal(p.entries.size, 0)
  })

  test('reads whitespace-only lines as blank', () => {
    const p = parse('\n   \n\t\n')
    assert.deepEqual([...p.lines].map(l => l.kind), ['blank', 'blank', 'blank'])
  })

  test('a comment after whitespace is part of the entry\'s field, after exactly one space', () => {
    const p = parse('a.com value here  # why  \nb.com\t#only a comment\nc.com  v\n')
    assert.equal(p.entries.get('a.com'), 'value here # why')
    assert.equal(p.entries.get('b.com'), '#only a comment')
    assert.equal(p.entries.get('c.com'), 'v')
  })

  test('fieldValue and fieldComment take a field apart', () => {
    assert.deepEqual(['value here # why', '#only', 'v', '', 'a#b #c'].map(f => [fieldValue(f), fieldComment(f)]),
      [['value here', '# why'], ['', '#only'], ['v', ''], ['', ''], ['a#b', '#c']])
  })

  test('keeps a # that does not follow whitespace in the value', () => {
    const p = parse('a.com ticket#42 x#y # note\n')
    assert.equal(fieldValue(p.entries.get('a.com') as string), 'ticket#42 x#y')
  })

  test('reports a line with an invalid key with file, line, reason and text, and does not sync it', () => {
    const p = parse('good.com\nbad..com some value\n')
    assert.deepEqual(p.invalid, [{ file: FILE, line: 2, reason: 'empty label in domain (leading dot or "..")', text: 'bad..com some value' }])
    assert.equal(p.lines.at(1)?.kind, 'invalid')
    assert.equal(p.lines.at(1)?.raw, 'bad..com some value')
    assert.deepEqual([...p.entries.keys()], ['good.com'])
  })

  test('reports a second line with the same key as a duplicate; the first one wins', () => {
    const p = parse('a.com first\nb.com\na.com second\n')
    assert.equal(p.entries.get('a.com'), 'first')
    assert.deepEqual(p.invalid, [{ file: FILE, line: 3, reason: 'duplicate of line 1', text: 'a.com second' }])
    assert.equal(p.lines.at(2)?.key, 'a.com')
    assert.equal(p.lines.at(2)?.kind, 'invalid')
  })

  test('reports invalid lines and duplicates together in line order', () => {
    const p = parse('a.com\nbad..com\nA.com x\nb..c\nb.com\nb.com\n')
    assert.deepEqual(p.invalid.map(i => [i.line, i.reason]), [
      [2, 'empty label in domain (leading dot or "..")'], [3, 'duplicate of line 1'], [4, 'empty label in domain (leading dot or "..")'], [6, 'duplicate of line 5']
    ])
    assert.deepEqual([...p.entries], [['a.com', ''], ['b.com', '']])
  })

  test('treats two spellings of one key as duplicates', () => {
    const p = parse('example.com\n@EXAMPLE.com.\n*@example.com\n')
    assert.deepEqual(p.invalid.map(i => i.reason), ['duplicate of line 1', 'duplicate of line 1'])
  })

  test('names the right first line for many duplicates', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `d${i}.com`)
    const text = [...keys, ...keys.reverse()].join('\n')
    const p = parse(text)
    assert.equal(p.entries.size, 40)
    assert.equal(p.invalid.length, 40)
    for (const bad of p.invalid) {
      const n = Number(/^d(\d+)\.com$/.exec(bad.text)?.[1])
      assert.equal(bad.reason, `duplicate of line ${n + 1}`)
    }
    for (const [key, value] of p.entries) assert.equal(value, '', key)
  })

  test('refuses an entry line with bytes that are not UTF-8 (escaped by decodeFileText) and keeps it as written', () => {
    const text = 'a.com\nb\udcff.com x\n# caf\udce9\nc.com caf\udce9\n'
    const p = parse(text)
    assert.deepEqual([...p.entries.keys()], ['a.com'])
    assert.deepEqual(p.invalid.map(l => [l.line, l.reason, l.text]), [[2, NOT_UTF8, 'b\udcff.com x'], [4, NOT_UTF8, 'c.com caf\udce9']])
    assert.equal(p.lines.at(2)?.kind, 'comment')
    // Rendered back unchanged, and a reparse after an edit agrees with a parse.
    assert.equal(renderListFile(p, new Map([['a.com', '']])), text)
    const edited = text.replace('a.com', 'd.com')
    assert.deepEqual(plain(reparseListFile(p, edited, FILE)), plain(parse(edited)))
  })

  test('detects CRLF line breaks and keeps the CR out of the lines', () => {
    const p = parse('# c\r\na.com x\r\n')
    assert.equal(p.eol, '\r\n')
    assert.deepEqual([...p.lines].map(l => l.raw), ['# c', 'a.com x'])
    assert.equal(p.entries.get('a.com'), 'x')
  })

  test('uses LF for a file without line breaks', () => {
    assert.equal(parse('a.com').eol, '\n')
  })

  test('records whether the last line ends with a line break', () => {
    assert.equal(parse('a.com\n').finalNewline, true)
    assert.equal(parse('a.com').finalNewline, false)
    assert.equal(parse('a.com\r\n').finalNewline, true)
  })

  test('reads an empty file as no lines', () => {
    const p = parse('')
    assert.equal(p.lines.length, 0)
    assert.equal(p.entries.size, 0)
  })

  test('reads a lone line break as one blank line', () => {
    assert.deepEqual([...parse('\n').lines].map(l => l.kind), ['blank'])
  })

  test('ignores a byte-order mark before the first key', () => {
    const p = parse('\uFEFFexample.com\n')
    assert.deepEqual([...p.entries.keys()], ['example.com'])
    assert.equal(p.lines.at(0)?.raw, '\uFEFFexample.com')
  })
})

describe('keysOnChangedLines', () => {
  /** A file's text from line specs; a byte-order mark may lead one line (the first: the file's). */
  const textOf = (lines: LineSpec[], pool: string[], eol: string, finalNewline: boolean, bom: number | null): string => {
    const body = lines.map(l => lineText(l, pool))
    if (bom !== null && body.length > 0) body[bom % body.length] = '\uFEFF' + body[bom % body.length]
    return body.join(eol) + (finalNewline && body.length > 0 ? eol : '')
  }

  test('holds every key whose entry differs between two versions of a file', () => {
    fc.assert(fc.property(
      fc.uniqueArray(keyArb, { minLength: 1, maxLength: 8 }),
      fc.array(lineArb, { maxLength: 20 }),
      // An edit: replace `remove` lines at `at` with `insert`, maybe with other line breaks.
      fc.record({ at: fc.nat(), remove: fc.nat({ max: 4 }), insert: fc.array(lineArb, { maxLength: 4 }) }),
      fc.constantFrom('\n', '\r\n'), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(), fc.option(fc.nat()), fc.option(fc.nat()),
      (pool, lines, edit, eolA, eolB, finalA, finalB, bomA, bomB) => {
        const at = edit.at % (lines.length + 1)
        const edited = [...lines.slice(0, at), ...edit.insert, ...lines.slice(at + edit.remove)]
        const before = parse(textOf(lines, pool, eolA, finalA, bomA))
        const after = parse(textOf(edited, pool, eolB, finalB, bomB))
        const keys = finish(keysOnChangedLines(before, after))
        for (const key of new Set([...before.entries.keys(), ...after.entries.keys()])) {
          if (before.entries.get(key) !== after.entries.get(key)) assert.ok(keys.has(key), `${key} changed but is not listed`)
        }
      }), { numRuns: 2000 })
  })

  test('reparseListFile gives what parseListFile gives and leaves the earlier parse as it was', () => {
    fc.assert(fc.property(
      fc.uniqueArray(keyArb, { minLength: 1, maxLength: 8 }),
      fc.array(lineArb, { maxLength: 20 }),
      fc.record({ at: fc.nat(), remove: fc.nat({ max: 4 }), insert: fc.array(lineArb, { maxLength: 4 }) }),
      fc.constantFrom('\n', '\r\n'), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(), fc.option(fc.nat()), fc.option(fc.nat()),
      (pool, lines, edit, eolA, eolB, finalA, finalB, bomA, bomB) => {
        const at = edit.at % (lines.length + 1)
        const edited = [...lines.slice(0, at), ...edit.insert, ...lines.slice(at + edit.remove)]
        const textA = textOf(lines, pool, eolA, finalA, bomA)
        const textB = textOf(edited, pool, eolB, finalB, bomB)
        const before = parse(textA)
        assert.deepEqual(plain(reparseListFile(before, textB, FILE)), plain(parse(textB)))
        assert.deepEqual(plain(before), plain(parse(textA)))
      }), { numRuns: 2000 })
  })

  test('a chain of one-line edits, past the depth where the key map is indexed afresh, reads as a parse of each text', () => {
    let lines = Array.from({ length: 50 }, (_, i) => `k${i}.example v${i}`)
    let parsed = parse(lines.join('\n') + '\n')
    for (let n = 0; n < 40; n++) {
      lines = n % 3 === 2 ? lines.filter((_, i) => i !== n) : [...lines.slice(0, n), `new${n}.example w${n}`, ...lines.slice(n + 1)]
      const text = lines.join('\n') + '\n'
      parsed = reparseListFile(parsed, text, FILE)
      assert.deepEqual(plain(parsed), plain(parse(text)))
      assert.equal(parsed.entries.get(`new${n}.example`), n % 3 === 2 ? undefined : `w${n}`)
    }
  })

  test('a reparse names where the texts differ: they agree before its start and after its ends', () => {
    fc.assert(fc.property(
      fc.array(lineArb.filter(l => l.t !== 'invalid'), { maxLength: 20 }), fc.nat(), fc.nat({ max: 3 }), fc.array(lineArb.filter(l => l.t !== 'invalid'), { maxLength: 3 }), fc.constantFrom('\n', '\r\n'),
      (lines, at0, remove, insert, eol) => {
        const pool = Array.from({ length: 64 }, (_, i) => `k${i}.example`)
        const numbered = (ls: LineSpec[], from: number): LineSpec[] => ls.map((l, i) => l.t === 'entry' ? { ...l, key: from + i } : l)
        const before = numbered(lines, 0)
        const at = at0 % (before.length + 1)
        const textA = textOf(before, pool, eol, true, null)
        const textB = textOf([...before.slice(0, at), ...numbered(insert, 32), ...before.slice(at + remove)], pool, eol, true, null)
        const parsedA = parse(textA)
        const edit = reparseListFile(parsedA, textB, FILE).edit
        if (edit === undefined) return
        assert.equal(edit.base.deref(), parsedA)
        assert.equal(textA.slice(0, edit.start), textB.slice(0, edit.start))
        assert.equal(textA.slice(edit.oldEnd), textB.slice(edit.newEnd))
      }), { numRuns: 1000 })
  })

  test('a reparse takes the edit it is given for where the texts differ: they are not compared', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `k${i}.example`)
    const textA = lines.join('\n') + '\n'
    const textB = textA + 'new.example\n'
    const before = parse(textA)
    // The caller says the last three lines may differ too: they are read again, not taken from before.
    const given = reparseListFile(before, textB, FILE, { start: textA.indexOf('k7'), oldEnd: textA.length, newEnd: textB.length })
    assert.deepEqual({ start: given.edit?.start, oldEnd: given.edit?.oldEnd }, { start: textA.indexOf('k7'), oldEnd: textA.length })
    assert.deepEqual(plain(given), plain(parse(textB)))
    // The texts compared would have found only the appended line.
    assert.equal(reparseListFile(before, textB, FILE).edit?.start, textA.length)
  })

  test('reparseListFile from the earlier text gives what parseListFile gives for files without invalid lines', () => {
    const pool = Array.from({ length: 64 }, (_, i) => `k${i}.example`)
    // Each entry line its own key: no duplicates, so the earlier parse's lines and map are reused.
    const numbered = (lines: LineSpec[], from: number): LineSpec[] => lines.map((l, i) => l.t === 'entry' ? { ...l, key: from + i } : l)
    const valid = lineArb.filter(l => l.t !== 'invalid')
    fc.assert(fc.property(
      fc.array(valid, { maxLength: 30 }), fc.nat(), fc.nat({ max: 4 }), fc.array(valid, { maxLength: 4 }), fc.constantFrom('\n', '\r\n'), fc.boolean(),
      (lines, at0, remove, insert, eol, reuseKey) => {
        const before = numbered(lines, 0)
        const at = at0 % (before.length + 1)
        // Sometimes an inserted line takes a key of a line kept around it: a duplicate.
        const added = numbered(insert, reuseKey ? 0 : 32)
        const after = [...before.slice(0, at), ...added, ...before.slice(at + remove)]
        const textA = textOf(before, pool, eol, true, null)
        const textB = textOf(after, pool, eol, true, null)
        const parsedA = parse(textA)
        assert.deepEqual(plain(reparseListFile(parsedA, textB, FILE)), plain(parse(textB)))
        assert.deepEqual(plain(parsedA), plain(parse(textA)))
      }), { numRuns: 2000 })
  })

  test('lists only the keys of the changed line when one line of many is replaced', () => {
    const before = parse('a.example\nb.example note\nc.example\n')
    const after = parse('a.example\nd.example\nc.example\n')
    assert.deepEqual([...finish(keysOnChangedLines(before, after))].sort(), ['b.example', 'd.example'])
  })

  test('lists nothing for the same text', () => {
    const p = parse('a.example\n# note\n')
    assert.equal(finish(keysOnChangedLines(p, parse('a.example\n# note\n'))).size, 0)
  })
})

describe('the disposable-domains list', () => {
  test('parses every line, IDN domains spelled both ways being one key', () => {
    const require = createRequire(import.meta.url)
    const domains: string[] = require('disposable-email-domains/index.json')
    const text = domains.join('\n')
    const p = parse(text)
    assert.equal(p.lines.length, 121_570)
    // The list spells a few IDN domains both ways; they are one key.
    assert.equal(p.entries.size + p.invalid.length, 121_570)
    assert.ok(p.invalid.every(i => i.reason.startsWith('duplicate of line')))
  })
})
