/**
 * A text read as the pieces it was made of (spliced-text.ts): every read answers what the same
 * read of the text as one string answers, through chains of splices; a reparse given an edit's
 * inserted part reads the new text from the pieces and parses as a full parse of the text.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MAX_PIECES, readerWellFormed, SplicedText, splicedParts, type TextReader } from '../../../src/settings/spliced-text.js'
import { parseListFile, reparseListFile, type ParsedListFile } from '../../../src/settings/list-file.js'
import { viewPatch } from '../../../src/replica/view-patch.js'
import { lineArb, lineText, scenarioArb, scenarioChanges, type LineSpec } from '../../helpers/list-file-arbs.js'
import { listFileChanges, renderListFileEdit } from '../../../src/settings/list-render.js'

const FILE = 'blacklist.txt'

/** Characters with line breaks, several-byte ones and surrogates (paired and lone). */
const textArb = fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', 'é', '\ud83d', '\ude00', '\ud83d\ude00'), maxLength: 40 })

/** A splice of a text of `length` characters: where, how much is removed, what is put in. */
const spliceArb = fc.record({ at: fc.nat(), remove: fc.nat({ max: 10 }), inserted: textArb })

function assertReadsAs (read: TextReader, flat: string): void {
  assert.equal(read.length, flat.length)
  for (let i = -1; i <= flat.length; i++) assert.equal(read.charCodeAt(i), flat.charCodeAt(i), `charCodeAt(${i})`)
  for (let a = 0; a <= flat.length; a += 3) {
    for (let b = a; b <= flat.length + 2; b += 2) assert.equal(read.slice(a, b), flat.slice(a, b), `slice(${a}, ${b})`)
    assert.equal(read.indexOf('\n', a), flat.indexOf('\n', a), `indexOf at ${a}`)
    assert.equal(read.startsWith(flat.slice(a, a + 3), a), true)
    assert.equal(read.startsWith('x', a), flat.startsWith('x', a))
  }
  assert.equal(readerWellFormed(read), (flat as unknown as { isWellFormed: () => boolean }).isWellFormed())
}

test('a chain of splices reads as the text they make, also once settled', () => {
  fc.assert(fc.property(textArb, fc.array(spliceArb, { minLength: 1, maxLength: MAX_PIECES }), fc.nat(), (first, splices, settleAt) => {
    let flat = first
    let read: TextReader = first
    const made: SplicedText[] = []
    for (const { at: at0, remove, inserted } of splices) {
      const at = at0 % (flat.length + 1)
      const end = Math.min(flat.length, at + remove)
      flat = flat.slice(0, at) + inserted + flat.slice(end)
      read = new SplicedText(read, at, end, inserted)
      made.push(read)
      assert.ok(read.pieceCount <= MAX_PIECES)
      assert.equal(read.whole, flat)
      assertReadsAs(read, flat)
    }
    made[settleAt % made.length].settle()
    assertReadsAs(read, flat)
    const last = read as SplicedText
    last.settle()
    assert.equal(last.settled, true)
    assertReadsAs(last, flat)
  }), { numRuns: 300 })
})

/** A file's text from line specs over a pool of keys. */
function textOf (lines: LineSpec[], eol: string): string {
  const pool = Array.from({ length: 64 }, (_, i) => `k${i}.example`)
  return lines.map(l => lineText(l, pool) + eol).join('')
}

/** A parse as plain values (see list-file.test.ts). */
function plain (p: ParsedListFile): object {
  return { ...p, edit: undefined, entries: new Map(p.entries), lines: { text: p.lines.text, exact: p.lines.exact, crlf: p.lines.crlf, lines: [...p.lines] } }
}

test('a chain of reparses given each edit\'s inserted part reads as a parse of each text, from the pieces', () => {
  const valid = lineArb.filter(l => l.t !== 'invalid').map(l => l.t === 'entry' ? { ...l, key: l.key % 32 } : l)
  let spliced = 0
  const edits = fc.array(fc.record({ at: fc.nat(), remove: fc.nat({ max: 3 }), insert: fc.array(valid, { maxLength: 3 }) }), { minLength: 1, maxLength: 6 })
  fc.assert(fc.property(fc.array(valid, { maxLength: 30 }), edits, fc.constantFrom('\n', '\r\n'), (lines0, steps, eol) => {
    let lines = lines0
    let text = textOf(lines, eol)
    let parsed = parseListFile(text, FILE)
    for (const [n, step] of steps.entries()) {
      const at = step.at % (lines.length + 1)
      // Keys of the inserted lines apart from the kept ones' (a duplicate is parsed in full, as it should).
      const insert = step.insert.map(l => l.t === 'entry' ? { ...l, key: 32 + n * 4 + l.key % 4 } : l)
      const next = [...lines.slice(0, at), ...insert, ...lines.slice(at + step.remove)]
      const start = textOf(lines.slice(0, at), eol).length
      const inserted = textOf(insert, eol)
      const oldEnd = text.length - textOf(lines.slice(at + step.remove), eol).length
      const nextText = textOf(next, eol)
      const whole = new SplicedText(parsed.lines.reader, start, oldEnd, inserted).whole
      const reparsed = reparseListFile(parsed, whole, FILE, { start, oldEnd, newEnd: start + inserted.length, inserted })
      assert.deepEqual(plain(reparsed), plain(parseListFile(nextText, FILE)))
      if (reparsed.lines.reader instanceof SplicedText) spliced++
      ;[lines, text, parsed] = [next, nextText, reparsed]
    }
  }), { numRuns: 500 })
  // Not every edit keeps lines of the text before (an edit of most lines is parsed in full), but most do.
  assert.ok(spliced > 500, `${spliced} reparses read from pieces`)
})

test('a one-line edit of a long file is reparsed from the pieces, and its view patch read from them is the one of the text', () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => `host-${i}.example\n`)
  const before = lines.join('')
  const parsed = parseListFile(before, FILE)
  const start = lines.slice(0, 10_000).join('').length
  const inserted = 'new.example value\n'
  const after = before.slice(0, start) + inserted + before.slice(start)
  const reparsed = reparseListFile(parsed, new SplicedText(before, start, start, inserted).whole, FILE, { start, oldEnd: start, newEnd: start + inserted.length, inserted })
  assert.ok(reparsed.lines.reader instanceof SplicedText)
  assert.equal(reparsed.entries.get('new.example'), 'value')
  assert.equal(reparsed.lines.raw(10_000), 'new.example value')
  assert.equal(reparsed.lines.key(10_001), 'host-10000.example')
  assert.deepEqual(viewPatch(before, reparsed.lines.reader, reparsed.edit), viewPatch(before, after, reparsed.edit))
})

test('its parts read from the file\'s text and the inserted part (splicedParts) are its text, reparsed as parseListFile reads it', () => {
  fc.assert(fc.property(scenarioArb, s => {
    const body = s.lines.map(l => lineText(l, s.pool))
  const p = parseListFile(body.join(s.eol) + (s.finalNewline && body.length > 0 ? s.eol : ''), FILE)
  const desired = new Map(p.entries)
  for (const [key, value] of scenarioChanges(s, p)) {
    if (value === undefined) desired.delete(key)
    else desired.set(key, value)
  }
    const { parts, edit } = renderListFileEdit(p, listFileChanges(p, desired))
    const text = parts.join('')
    const spliced = splicedParts(p.lines.reader, parts, edit)
    assert.equal(spliced.text, text)
    if (spliced.edit?.inserted !== undefined) assert.equal(spliced.edit.inserted, text.slice(spliced.edit.start, spliced.edit.newEnd))
    const reparsed = reparseListFile(p, spliced.text, FILE, spliced.edit)
    const full = parseListFile(text, FILE)
    assert.deepEqual([...reparsed.lines], [...full.lines])
    assert.deepEqual(new Map(reparsed.entries), new Map(full.entries))
    assert.deepEqual(reparsed.invalid, full.invalid)
    assert.deepEqual([reparsed.eol, reparsed.finalNewline, reparsed.lines.crlf, reparsed.lines.exact], [full.eol, full.finalNewline, full.lines.crlf, full.lines.exact])
  }), { numRuns: 2000 })
})
