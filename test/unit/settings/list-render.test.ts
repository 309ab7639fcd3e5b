import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { InvalidKeyError, InvalidValueError } from '../../../src/errors.js'
import { parseListFile, type ParsedListFile } from '../../../src/settings/list-file.js'
import { listFileChanges, renderIntoEntryless, renderListFile, renderListFileChanges, renderListFileEdit, renderListFileParts, renderNewListFile } from '../../../src/settings/list-render.js'
import { reparseListFile } from '../../../src/settings/list-file.js'
import { IndexedEntries } from '../../../src/settings/key-index.js'
import { keyArb, lineArb, lineText, scenarioArb, scenarioChanges, valueArb } from '../../helpers/list-file-arbs.js'

const FILE = 'blacklist.txt'

function parse (text: string): ParsedListFile {
  return parseListFile(text, FILE)
}

function render (text: string | null, desired: Record<string, string>): string {
  return renderListFile(text === null ? null : parse(text), new Map(Object.entries(desired)))
}

describe('renderListFile', () => {
  const OPERATOR_FILE = [
    '# blacklist, edited by hand',
    '',
    'Spam.example.COM   sent 400 mails   # ticket 17',
    'bad..key whatever',
    '   spammer@example.net',
    'spam.example.com duplicate',
    '# end'
  ].join('\n') + '\n'

  test('returns the file unchanged when the desired set is its entries', () => {
    assert.equal(renderListFile(parse(OPERATOR_FILE), parse(OPERATOR_FILE).entries), OPERATOR_FILE)
  })

  test('keeps CRLF and a missing final newline unchanged', () => {
    const text = '# c\r\na.com x\r\n\r\nb.com'
    assert.equal(render(text, { 'a.com': 'x', 'b.com': '' }), text)
  })

  test('writes a new file sorted, with LF and a final newline', () => {
    assert.equal(render(null, { 'b.com': '', 'a.com': 'why', '192.0.2.1': '' }), '192.0.2.1\na.com why\nb.com\n')
  })

  test('writes an empty desired set into a new file as an empty file', () => {
    assert.equal(render(null, {}), '')
  })

  test('keeps comment, blank and invalid lines in place, byte-identical', () => {
    const out = render(OPERATOR_FILE, { 'spam.example.com': 'sent 400 mails # ticket 17', 'spammer@example.net': '' })
    assert.equal(out, OPERATOR_FILE)
    const deleted = render(OPERATOR_FILE, { 'spam.example.com': 'sent 400 mails # ticket 17' })
    assert.deepEqual(deleted.split('\n'), [
      '# blacklist, edited by hand',
      '',
      'Spam.example.COM   sent 400 mails   # ticket 17',
      'bad..key whatever',
      'spam.example.com duplicate',
      '# end',
      ''
    ])
  })

  test('gives a changed value to the line, keeping key spelling, spacing and trailing comment', () => {
    const out = render(OPERATOR_FILE, { 'spam.example.com': 'now 900 # ticket 17', 'spammer@example.net': '' })
    assert.equal(out.split('\n')[2], 'Spam.example.COM   now 900   # ticket 17')
  })

  test('adds a value to a line that had none, before its trailing comment', () => {
    assert.equal(render('a.com  # note\n', { 'a.com': 'v # note' }), 'a.com v  # note\n')
    assert.equal(render('A.com\n', { 'a.com': 'v' }), 'A.com v\n')
  })

  test('removes the value of a line, keeping its trailing comment', () => {
    assert.equal(render('a.com old value  # note\n', { 'a.com': '# note' }), 'a.com  # note\n')
    assert.equal(render('a.com old value\n', { 'a.com': '' }), 'a.com\n')
  })

  test('writes a changed comment after the value with one space, keeping the key\'s spelling and separator', () => {
    assert.equal(render('A.com   v  # old\n', { 'a.com': 'v # new' }), 'A.com   v # new\n')
    assert.equal(render('A.com v  # old\n', { 'a.com': 'v' }), 'A.com v\n')
    assert.equal(render('A.com v\n', { 'a.com': 'v # new' }), 'A.com v # new\n')
    assert.equal(render('A.com  # old\n', { 'a.com': '' }), 'A.com\n')
  })

  test('appends a new key with its comment', () => {
    assert.equal(render('a.com\n', { 'a.com': '', 'b.com': 'x # why' }), 'a.com\nb.com x # why\n')
  })

  test('removes the line of a key that is no longer desired', () => {
    assert.equal(render('# c\na.com\nb.com x\n', { 'a.com': '' }), '# c\na.com\n')
  })

  test('comments out the duplicates of a key that is no longer desired, so they cannot bring it back', () => {
    const out = render('a.com\nb.com\n@A.com dup\n', { 'b.com': '' })
    assert.equal(out, 'b.com\n# @A.com dup\n')
    assert.equal(parse(out).entries.has('a.com'), false)
  })

  test('keeps the duplicates of a key that is still desired', () => {
    assert.equal(render('a.com 1\na.com 2\n', { 'a.com': '3' }), 'a.com 3\na.com 2\n')
  })

  test('appends new keys at the end, sorted', () => {
    assert.equal(render('# c\nm.com\n', { 'm.com': '', 'z.com': '', 'a.com': 'v' }), '# c\nm.com\na.com v\nz.com\n')
  })

  test('appends with the file\'s CRLF and without a final newline when it had none', () => {
    assert.equal(render('a.com\r\nb.com', { 'a.com': '', 'b.com': '', 'c.com': '' }), 'a.com\r\nb.com\r\nc.com')
  })

  test('keeps a blank line that the removed last line followed, in a file without final newline', () => {
    assert.equal(render('# c\n\nx.com', {}), '# c\n\n')
    assert.equal(render('\nx.com', {}), '\n')
  })

  test('keeps the byte-order mark when the first line is removed', () => {
    assert.equal(render('\uFEFFa.com\nb.com\n', { 'b.com': '' }), '\uFEFFb.com\n')
  })

  test('rejects a key that is not normalised, before writing anything', () => {
    assert.throws(() => render(null, { 'Example.com': '' }), InvalidKeyError)
    assert.throws(() => render(null, { 'a..b': '' }), InvalidKeyError)
  })

  test('with keysNormalised, writes the same text without checking the keys', () => {
    const previous = parse('# mine\nb.com\n')
    const desired = new Map([['b.com', ''], ['d.com', 'x'], ['a.com', ''], ['c.com', '']])
    assert.equal(renderListFile(previous, desired, { keysNormalised: true }), renderListFile(previous, desired))
    assert.equal(renderListFile(previous, desired, { keysNormalised: true }), '# mine\nb.com\na.com\nc.com\nd.com x\n')
  })

  test('appends new keys sorted whether they come sorted or not', () => {
    assert.equal(render(null, { 'a.com': '', 'b.com': '', 'c.com': '' }), 'a.com\nb.com\nc.com\n')
    assert.equal(render(null, { 'c.com': '', 'a.com': '', 'b.com': '' }), 'a.com\nb.com\nc.com\n')
  })

  test('rejects a value that would not read back the same', () => {
    assert.throws(() => render(null, { 'a.com': 'x  # y' }), InvalidValueError)
    assert.throws(() => render(null, { 'a.com': 'x\ny' }), InvalidValueError)
    assert.throws(() => render('a.com old\n', { 'a.com': ' padded' }), InvalidValueError)
  })
})

describe('renderListFile properties', () => {
  test('the rendered file parses to exactly the desired entries and keeps every other line in order', () => {
    fc.assert(fc.property(scenarioArb, s => {
      const body = s.lines.map(l => lineText(l, s.pool))
      const text = body.join(s.eol) + (s.finalNewline && body.length > 0 ? s.eol : '')
      const p = parse(text)

      const desired = new Map<string, string>()
      let i = 0
      for (const [key, value] of p.entries) {
        const fate = s.fate[i++ % Math.max(1, s.fate.length)] ?? 'keep'
        if (fate === 'keep') desired.set(key, value)
        else if (fate !== 'drop') desired.set(key, fate)
      }
      for (const [key, value] of s.added) if (!p.entries.has(key)) desired.set(key, value)

      const out = renderListFile(p, desired)
      const back = parse(out)
      assert.deepEqual(new Map(back.entries), desired)
      if (out.includes('\n')) assert.equal(back.eol, p.eol)

      // Non-entry lines survive in order: byte-identical, or commented out for a deleted key.
      const outLines = [...back.lines].map(l => l.raw)
      let at = 0
      for (const line of p.lines) {
        if (line.kind === 'entry') continue
        const expected = line.key !== undefined && !desired.has(line.key) ? `# ${line.raw}` : line.raw
        while (at < outLines.length && outLines[at] !== expected) at++
        assert.ok(at < outLines.length, `line ${line.line} ${JSON.stringify(line.raw)} is missing or out of order`)
        at++
      }

      // Nothing to change: nothing changes.
      assert.equal(renderListFile(p, p.entries), text)
    }), { numRuns: 1000 })
  })
})

describe('renderListFileChanges', () => {
  test('renders exactly what renderListFile renders for the entries with the changes applied', () => {
    fc.assert(fc.property(scenarioArb, s => {
      const body = s.lines.map(l => lineText(l, s.pool))
      const p = parse(body.join(s.eol) + (s.finalNewline && body.length > 0 ? s.eol : ''))

      const changes = scenarioChanges(s, p)
      const desired = new Map(p.entries)
      for (const [key, value] of changes) {
        if (value === undefined) desired.delete(key)
        else desired.set(key, value)
      }

      assert.equal(renderListFileChanges(p, changes), renderListFile(p, desired))
    }), { numRuns: 1000 })
  })

  test('renders a change of more keys than are looked up one at a time as renderListFile does', () => {
    const text = Array.from({ length: 100 }, (_, i) => `k${i}.example v${i}`).join('\n') + '\n'
    const p = parse(text)
    const changes = new Map<string, string | undefined>()
    for (let i = 0; i < 100; i += 2) changes.set(`k${i}.example`, i % 4 === 0 ? undefined : `w${i}`)
    changes.set('new.example', '')
    const desired = new Map(p.entries)
    for (const [key, value] of changes) if (value === undefined) desired.delete(key); else desired.set(key, value)
    assert.equal(renderListFileChanges(p, changes), renderListFile(p, desired))
  })

  test('a file with mixed line breaks renders from its lines, as renderListFile does', () => {
    const p = parse('a.com\r\nb.com\nc.com\r\n')
    const changes = new Map([['b.com', undefined], ['d.com', '']])
    assert.equal(renderListFileChanges(p, changes), renderListFile(p, new Map([['a.com', ''], ['c.com', ''], ['d.com', '']])))
  })

  test('a byte-order mark stays at the start when the first line goes', () => {
    const p = parse('\uFEFFa.com\nb.com\n')
    const changes = new Map([['a.com', undefined]])
    assert.equal(renderListFileChanges(p, changes), '\uFEFFb.com\n')
  })

  test('a changed key that is not normalised is refused like renderListFile refuses it', () => {
    assert.throws(() => renderListFileChanges(parse('a.com\n'), new Map([['B.com', '']])), InvalidKeyError)
  })

  test('a changed value that cannot be written is refused like renderListFile refuses it', () => {
    assert.throws(() => renderListFileChanges(parse('a.com\n'), new Map([['a.com', 'x  #y']])), InvalidValueError)
  })
})

describe('renderListFileParts', () => {
  test('its parts joined are what renderListFile renders, and it is the text itself alone when nothing changes', () => {
    fc.assert(fc.property(scenarioArb, s => {
      const body = s.lines.map(l => lineText(l, s.pool))
      const p = parse(body.join(s.eol) + (s.finalNewline && body.length > 0 ? s.eol : ''))
      const changes = scenarioChanges(s, p)
      const desired = new Map(p.entries)
      for (const [key, value] of changes) {
        if (value === undefined) desired.delete(key)
        else desired.set(key, value)
      }
      const parts = renderListFileParts(p, listFileChanges(p, desired))
      const text = renderListFile(p, desired)
      assert.equal(parts.join(''), text)
      if (text === p.lines.text) assert.deepEqual(parts, [text])
    }), { numRuns: 1000 })
  })
})

describe('renderListFileEdit', () => {
  // The scenario's file and the desired map it asks for.
  function scenario (s: typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never): { p: ParsedListFile, desired: Map<string, string> } {
    const body = s.lines.map(l => lineText(l, s.pool))
    const p = parse(body.join(s.eol) + (s.finalNewline && body.length > 0 ? s.eol : ''))
    const desired = new Map(p.entries)
    for (const [key, value] of scenarioChanges(s, p)) {
      if (value === undefined) desired.delete(key)
      else desired.set(key, value)
    }
    return { p, desired }
  }

  test('its edit is where its text differs from the file: they agree before its start and after its ends', () => {
    fc.assert(fc.property(scenarioArb, s => {
      const { p, desired } = scenario(s)
      const { parts, edit } = renderListFileEdit(p, listFileChanges(p, desired))
      const text = parts.join('')
      assert.equal(text, renderListFile(p, desired))
      if (edit === undefined) return
      const before = p.lines.text
      assert.equal(before.slice(0, edit.start), text.slice(0, edit.start))
      assert.equal(before.slice(edit.oldEnd), text.slice(edit.newEnd))
      assert.ok(edit.start <= edit.oldEnd && edit.start <= edit.newEnd)
    }), { numRuns: 2000 })
  })

  test('a reparse given its edit reads the written text as parseListFile does, with CRLF, comments, bad lines and duplicates', () => {
    fc.assert(fc.property(scenarioArb, s => {
      const { p, desired } = scenario(s)
      const { parts, edit } = renderListFileEdit(p, listFileChanges(p, desired))
      const text = parts.join('')
      const reparsed = reparseListFile(p, text, 'blacklist.txt', edit)
      const full = parse(text)
      assert.equal(reparsed.lines.text, text)
      assert.deepEqual([...reparsed.lines], [...full.lines])
      assert.deepEqual(new Map(reparsed.entries), new Map(full.entries))
      assert.deepEqual(reparsed.invalid, full.invalid)
    }), { numRuns: 2000 })
  })

  test('an added key is written without a search of the keys column for its lines', () => {
    const p = parse('# list\na.example\nc.example 1\n')
    p.lines.indexOfKey = () => { throw new Error('searched the keys column') }
    const { parts, edit } = renderListFileEdit(p, new Map([['b.example', '2']]))
    assert.equal(parts.join(''), '# list\na.example\nc.example 1\nb.example 2\n')
    assert.deepEqual(edit, { start: 29, oldEnd: 29, newEnd: 41 })
  })
})

describe('renderNewListFile', () => {
  const entry = (key: string, value: string, present = true): { key: string, value: string, present: boolean } => ({ key, value, present })

  test('renders what renderListFile renders for a new file of the present entries, in any input order', () => {
    const pairs = fc.uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([key]) => key, maxLength: 40 })
    fc.assert(fc.property(pairs, fc.array(fc.boolean()), (list, presence) => {
      const entries = list.map(([key, value], i) => entry(key, value, presence[i] ?? true))
      const desired = new Map(entries.filter(e => e.present).map(e => [e.key, e.value]))
      assert.equal(renderNewListFile(entries), renderListFile(null, desired))
      assert.equal(renderNewListFile([...entries].reverse()), renderListFile(null, desired))
    }), { numRuns: 1000 })
  })

  test('a key that is not normalised is refused like renderListFile refuses it', () => {
    assert.throws(() => renderNewListFile([entry('B.com', '')]), InvalidKeyError)
  })

  test('a value that cannot be written is refused like renderListFile refuses it, also among tombstones', () => {
    assert.throws(() => renderNewListFile([entry('b.com', ''), entry('a.com', 'x  #y')]), InvalidValueError)
    assert.equal(renderNewListFile([entry('a.com', 'x  #y', false)]), '')
  })
})

describe('renderIntoEntryless', () => {
  // What a test compares of a parse: everything a later render, reparse or scan reads.
  const shape = (p: ParsedListFile): unknown => ({
    text: p.lines.text,
    crlf: p.lines.crlf,
    exact: p.lines.exact,
    lines: [...p.lines].map((l, i) => ({ ...l, start: p.lines.start(i) })),
    end: p.lines.start(p.lines.length),
    entries: [...p.entries],
    invalid: p.invalid,
    eol: p.eol,
    finalNewline: p.finalNewline
  })
  // A file without entries: comment and blank lines (sometimes a byte-order mark), sometimes a bad or an entry line.
  const fileArb = fc.record({
    lines: fc.array(lineArb.filter(l => l.t === 'comment' || l.t === 'blank'), { maxLength: 6 }),
    other: fc.option(lineArb.filter(l => l.t === 'entry' || l.t === 'invalid')),
    bom: fc.boolean(),
    eol: fc.constantFrom('\n', '\r\n'),
    finalNewline: fc.boolean()
  }).map(f => {
    const body = [...f.lines, ...(f.other === null ? [] : [f.other])].map(l => lineText(l, ['a.example']))
    return (f.bom ? '\uFEFF' : '') + body.join(f.eol) + (f.finalNewline && body.length > 0 ? f.eol : '')
  })
  const entriesArb = fc.uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([key]) => key, maxLength: 30 })
    .map(list => list.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))

  test('renders what renderListFile renders, with the parse parseListFile makes of it; null for a file with an entry or a bad line', () => {
    fc.assert(fc.property(fileArb, entriesArb, (text, list) => {
      const previous = parse(text)
      const out = renderIntoEntryless(previous, () => ({ keys: list.map(([k]) => k), values: list.map(([, v]) => v) }))
      if (previous.entries.size > 0 || previous.invalid.length > 0 || !previous.lines.exact) {
        assert.equal(out, null)
        return
      }
      assert.notEqual(out, null)
      const { text: next, parsed } = out as NonNullable<typeof out>
      assert.equal(next, renderListFile(previous, new Map(list)))
      assert.deepEqual(shape(parsed), shape(parse(next)))
      const reparsed = parse(next)
      for (const [key] of list) assert.equal(parsed.entries.get(key), reparsed.entries.get(key))
    }), { numRuns: 1000 })
  })

  test('its parse finds the entries through the lines, as parseListFile\'s does, holding no Map of the keys', () => {
    const out = renderIntoEntryless(parse('# c\n'), () => ({ keys: ['a.com', 'b.com'], values: ['', 'x'] }))
    assert.ok(out?.parsed.entries instanceof IndexedEntries)
    assert.deepEqual([...out.parsed.entries], [['a.com', ''], ['b.com', 'x']])
  })

  test('does not ask for the entries when the file holds one (ordering them is the cost)', () => {
    assert.equal(renderIntoEntryless(parse('a.com\n'), () => { throw new Error('asked') }), null)
  })

  test('null for keys out of order or repeated: the caller renders as usual', () => {
    assert.equal(renderIntoEntryless(parse(''), () => ({ keys: ['b.com', 'a.com'], values: ['', ''] })), null)
    assert.equal(renderIntoEntryless(parse(''), () => ({ keys: ['a.com', 'a.com'], values: ['', 'x'] })), null)
  })

  test('a value that cannot be written is refused like renderListFile refuses it', () => {
    assert.throws(() => renderIntoEntryless(parse('# c\n'), () => ({ keys: ['a.com'], values: ['x  #y'] })), InvalidValueError)
  })
})
