import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { InvalidKeyError, InvalidValueError } from '../../../src/errors.js'
import { NOT_UTF8, checkValue, fieldComment, fieldValue, keysOnChangedLines, parseListFile, renderListFile, renderListFileChanges, renderNewListFile, reparseListFile, type ParsedListFile } from '../../../src/settings/list-file.js'
import { checkKey } from '../../../src/settings/list-key.js'

const FILE = 'blacklist.txt'

function parse (text: string): ParsedListFile {
  return parseListFile(text, FILE)
}

function render (text: string | null, desired: Record<string, string>): string {
  return renderListFile(text === null ? null : parse(text), new Map(Object.entries(desired)))
}

describe('parseListFile', () => {
  test('reads one entry a line, the key normalised, the value after it', () => {
    const p = parse('Example.COM\nspam@example.org blocked since 2024\n')
    assert.deepEqual(p.entries, new Map([['example.com', ''], ['spam@example.org', 'blocked since 2024']]))
  })

  test('trims the value but keeps its inner spacing', () => {
    const p = parse('example.com \t  a  b\t \n')
    assert.equal(p.entries.get('example.com'), 'a  b')
  })

  test('numbers lines from 1 and keeps each raw text', () => {
    const p = parse('a.com\n\n  b.com  x\n')
    assert.deepEqual(p.lines.map(l => [l.line, l.kind, l.raw]), [[1, 'entry', 'a.com'], [2, 'blank', ''], [3, 'entry', '  b.com  x']])
  })

  test('reads a line starting with # after optional whitespace as a comment', () => {
    const p = parse('# header\n   # indented\n\t#tab\n')
    assert.deepEqual(p.lines.map(l => l.kind), ['comment', 'comment', 'comment'])
    assert.equal(p.entries.size, 0)
  })

  test('reads whitespace-only lines as blank', () => {
    const p = parse('\n   \n\t\n')
    assert.deepEqual(p.lines.map(l => l.kind), ['blank', 'blank', 'blank'])
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
    assert.equal(p.lines[1].kind, 'invalid')
    assert.equal(p.lines[1].raw, 'bad..com some value')
    assert.deepEqual([...p.entries.keys()], ['good.com'])
  })

  test('reports a second line with the same key as a duplicate; the first one wins', () => {
    const p = parse('a.com first\nb.com\na.com second\n')
    assert.equal(p.entries.get('a.com'), 'first')
    assert.deepEqual(p.invalid, [{ file: FILE, line: 3, reason: 'duplicate of line 1', text: 'a.com second' }])
    assert.equal(p.lines[2].key, 'a.com')
    assert.equal(p.lines[2].value, 'second')
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
    assert.equal(p.lines[2].kind, 'comment')
    // Rendered back unchanged, and a reparse after an edit agrees with a parse.
    assert.equal(renderListFile(p, new Map([['a.com', '']])), text)
    const edited = text.replace('a.com', 'd.com')
    assert.deepEqual(reparseListFile(p, edited, FILE), parse(edited))
  })

  test('detects CRLF line breaks and keeps the CR out of the lines', () => {
    const p = parse('# c\r\na.com x\r\n')
    assert.equal(p.eol, '\r\n')
    assert.deepEqual(p.lines.map(l => l.raw), ['# c', 'a.com x'])
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
    assert.deepEqual(p.lines, [])
    assert.equal(p.entries.size, 0)
  })

  test('reads a lone line break as one blank line', () => {
    assert.deepEqual(parse('\n').lines.map(l => l.kind), ['blank'])
  })

  test('ignores a byte-order mark before the first key', () => {
    const p = parse('\uFEFFexample.com\n')
    assert.deepEqual([...p.entries.keys()], ['example.com'])
    assert.equal(p.lines[0].raw, '\uFEFFexample.com')
  })
})

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

describe('checkValue', () => {
  test('accepts values a list file can hold', () => {
    for (const v of ['', 'x', 'a  b', 'ticket#42', 'tab\tinside', 'ünïcode', 'x #y', '#x', 'x # y  z']) assert.equal(checkValue(v), undefined, v)
  })

  test('rejects values that would be read back differently', () => {
    for (const v of [' x', 'x ', '#x ', 'x  #y', 'x\t#y', 'x \t#y', 'a\nb', 'a\rb', 'x #a\nb']) assert.notEqual(checkValue(v), undefined, JSON.stringify(v))
  })
})

// Valid normalised keys of every kind, reached through varied spellings so the pool is realistic.
const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.domain(),
  fc.domain().map(d => `*.${d}`),
  fc.emailAddress(),
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`)
).map(raw => checkKey(raw)).filter((k): k is string => typeof k === 'string')

const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\t', '#', 'é', '='), maxLength: 8 })
  .filter(v => checkValue(v) === undefined)

/** Another spelling of a normalised key that normalises back to it. */
function spell (key: string, how: number): string {
  const variants = [key, key.toUpperCase()]
  if (!key.includes('@') && !key.includes(':') && !key.includes('/') && !/^[0-9.]+$/.test(key)) {
    variants.push(`${key}.`)
    if (!key.startsWith('*')) variants.push(`@${key}`, `*@${key.toUpperCase()}.`)
  }
  const s = variants[how % variants.length]
  return checkKey(s) === key ? s : key
}

type LineSpec =
  | { t: 'comment', indent: string, text: string }
  | { t: 'blank', ws: string }
  | { t: 'invalid', text: string }
  | { t: 'entry', key: number, how: number, indent: string, sep: string, value: string, comment: string }

const lineArb: fc.Arbitrary<LineSpec> = fc.oneof(
  fc.record({ t: fc.constant('comment' as const), indent: fc.constantFrom('', '  ', '\t'), text: fc.string({ unit: fc.constantFrom('x', ' ', '#', 'é'), maxLength: 6 }) }),
  fc.record({ t: fc.constant('blank' as const), ws: fc.constantFrom('', ' ', '\t ') }),
  fc.record({ t: fc.constant('invalid' as const), text: fc.constantFrom('bad..key', 'no-dot', '01.2.3.4 x', 'a b c', '*foo.com # c', '1::2::3') }),
  { weight: 3, arbitrary: fc.record({
    t: fc.constant('entry' as const),
    key: fc.nat(),
    how: fc.nat(),
    indent: fc.constantFrom('', ' '),
    sep: fc.constantFrom(' ', '\t', '   '),
    value: valueArb,
    comment: fc.constantFrom('', ' # note', '\t#x', '  ')
  }) }
)

function lineText (spec: LineSpec, pool: string[]): string {
  switch (spec.t) {
    case 'comment': return `${spec.indent}#${spec.text}`
    case 'blank': return spec.ws
    case 'invalid': return spec.text
    case 'entry': {
      const key = spell(pool[spec.key % pool.length], spec.how)
      return spec.indent + key + (spec.value === '' ? '' : spec.sep + spec.value) + spec.comment
    }
  }
}

const scenarioArb = fc.record({
  pool: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 12 }),
  lines: fc.array(lineArb, { maxLength: 30 }),
  eol: fc.constantFrom('\n', '\r\n'),
  finalNewline: fc.boolean(),
  // What happens to each key of the file: kept, value changed, or dropped.
  fate: fc.array(fc.oneof(fc.constant('keep' as const), fc.constant('drop' as const), valueArb), { maxLength: 10 }),
  added: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 5 })
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
      assert.deepEqual(back.entries, desired)
      if (out.includes('\n')) assert.equal(back.eol, p.eol)

      // Non-entry lines survive in order: byte-identical, or commented out for a deleted key.
      const outLines = back.lines.map(l => l.raw)
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
        const keys = keysOnChangedLines(before, after)
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
        assert.deepEqual(reparseListFile(before, textB, FILE), parse(textB))
        assert.deepEqual(before, parse(textA))
      }), { numRuns: 2000 })
  })

  test('lists only the keys of the changed line when one line of many is replaced', () => {
    const before = parse('a.example\nb.example note\nc.example\n')
    const after = parse('a.example\nd.example\nc.example\n')
    assert.deepEqual([...keysOnChangedLines(before, after)].sort(), ['b.example', 'd.example'])
  })

  test('lists nothing for the same text', () => {
    const p = parse('a.example\n# note\n')
    assert.equal(keysOnChangedLines(p, parse('a.example\n# note\n')).size, 0)
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

describe('renderListFileChanges', () => {
  test('renders exactly what renderListFile renders for the entries with the changes applied', () => {
    fc.assert(fc.property(scenarioArb, s => {
      const body = s.lines.map(l => lineText(l, s.pool))
      const p = parse(body.join(s.eol) + (s.finalNewline && body.length > 0 ? s.eol : ''))

      const changes = new Map<string, string | undefined>()
      let i = 0
      for (const [key] of p.entries) {
        const fate = s.fate[i++ % Math.max(1, s.fate.length)] ?? 'keep'
        if (fate === 'drop') changes.set(key, undefined)
        else if (fate !== 'keep') changes.set(key, fate)
      }
      for (const [key, value] of s.added) if (!p.entries.has(key)) changes.set(key, value)
      const desired = new Map(p.entries)
      for (const [key, value] of changes) {
        if (value === undefined) desired.delete(key)
        else desired.set(key, value)
      }

      assert.equal(renderListFileChanges(p, changes), renderListFile(p, desired))
    }), { numRuns: 1000 })
  })

  test('a changed key that is not normalised is refused like renderListFile refuses it', () => {
    assert.throws(() => renderListFileChanges(parse('a.com\n'), new Map([['B.com', '']])), InvalidKeyError)
  })

  test('a changed value that cannot be written is refused like renderListFile refuses it', () => {
    assert.throws(() => renderListFileChanges(parse('a.com\n'), new Map([['a.com', 'x  #y']])), InvalidValueError)
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
