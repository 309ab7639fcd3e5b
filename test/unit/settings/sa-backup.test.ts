import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { SaBackupError } from '../../../src/errors.js'
import { MAX_COUNT, tokenEntries, tokensOf, type BayesDb, type SeenFlag, type TokenCounts } from '../../../src/crdt/bayes-counters.js'
import { formatSaBackup, formatSaBackupChunks, parseSaBackup, parseSaBackupChunks, type ParsedSaBackup } from '../../../src/settings/sa-backup.js'

const FILE = 'bayes.backup'
/** Line 1 as every sa-learn backend writes it. */
const V3 = 'v\t3\tdb_version # this must be the first line!!!'

function parse (text: string): ParsedSaBackup {
  return parseSaBackup(text, FILE)
}

function format (d: BayesDb): string {
  return new TextDecoder().decode(formatSaBackup(d))
}

function db (numSpam: number, numHam: number, tokens: Record<string, [number, number, number]>, seen: Record<string, SeenFlag> = {}): BayesDb {
  return {
    numSpam,
    numHam,
    tokens: tokensOf(Object.entries(tokens).map(([t, [spam, ham, atime]]) => [t, { spam, ham, atime }])),
    seen: new Map(Object.entries(seen))
  }
}

/** Asserts parsing `text` throws SaBackupError with a message matching `reason`. */
function refuses (text: string, reason: RegExp): void {
  assert.throws(() => parse(text), (err: unknown) => {
    assert.ok(err instanceof SaBackupError, `threw ${String(err)}`)
    assert.match(err.message, reason)
    return true
  })
}

/** A backup with every kind of bad line (and two good ones), numbered. */
const MIXED_LINES = [
  V3, // 1
  'v\t10\tnum_spam', // 2
  'v\t20\tnum_nonspam', // 3
  't\t1\t0\t1700000000\t0a1b2c3d4e', // 4 (valid)
  '', // 5
  'x\tfoo', // 6
  't 1 0 1700000000 0a1b2c3d4f', // 7
  't\t1\t0\t1700000000', // 8
  't\t-1\t0\t1700000000\t0a1b2c3d4f', // 9
  't\t1\tx\t1700000000\t0a1b2c3d4f', // 10
  't\t1\t0\t1.5\t0a1b2c3d4f', // 11
  't\t1\t0\t1700000000\t0a1b2c3d4', // 12
  't\t1\t0\t1700000000\t0a1b2c3d4g', // 13
  't\t2\t2\t1700000001\t0A1B2C3D4E', // 14
  'v\t5\tnum_spam', // 15
  'v\tmany\tnum_nonspam', // 16
  'v\t1\tlast_expire', // 17
  'v\t3\tdb_version', // 18
  'v\t1', // 19
  's\tx\tabc@sa_generated', // 20
  's\ts\t', // 21
  's\ts', // 22
  's\ts\ta\tb', // 23
  's\th\t lead', // 24
  's\ts\tm1@sa_generated', // 25 (valid)
  's\th\tm1@sa_generated', // 26
  't\t99999999999999999\t0\t1\t0a1b2c3d4f', // 27
  't', // 28
  't\t1\t0\t1700000000\t0a1b2c3d4f\r' // 29
]

/** The line and reason parseSaBackup reports for each bad line of MIXED_LINES. */
const MIXED_REASONS: Array<[number, string]> = [
  [5, 'empty line'],
  [6, 'unknown line type (expected "v", "t" or "s")'],
  [7, 'fields must be separated by tabs'],
  [8, 'token line needs 5 tab-separated fields (t, spam, ham, atime, token), has 4'],
  [9, 'spam count "-1" is not a non-negative integer'],
  [10, 'ham count "x" is not a non-negative integer'],
  [11, 'atime "1.5" is not a non-negative integer'],
  [12, 'token "0a1b2c3d4" is not 10 hex digits'],
  [13, 'token "0a1b2c3d4g" is not 10 hex digits'],
  [14, 'duplicate token'],
  [15, 'duplicate num_spam (first on line 2)'],
  [16, 'num_nonspam "many" is not a non-negative integer'],
  [17, 'unknown variable "last_expire"'],
  [18, 'db_version belongs on line 1 only'],
  [19, 'variable line needs 3 tab-separated fields (v, value, name), has 2'],
  [20, 'seen flag "x" is neither "s" nor "h"'],
  [21, 'empty msgid'],
  [22, 'seen line needs 3 tab-separated fields (s, flag, msgid)'],
  [23, 'msgid contains a tab'],
  [24, 'msgid starts with whitespace (sa-learn --restore would drop it)'],
  [26, 'duplicate msgid'],
  [27, 'spam count "99999999999999999" is not a non-negative integer'],
  [28, 'no fields after the line type'],
  [29, 'token "0a1b2c3d4f\\r" is not 10 hex digits']
]

describe('parseSaBackup', () => {
  test('reads a real-looking sa-learn backup', () => {
    const text = [
      V3,
      'v\t123\tnum_spam',
      'v\t456\tnum_nonspam',
      't\t1\t0\t1700000000\t0a1b2c3d4e',
      't\t0\t3\t1700003600\tffee001122',
      't\t12\t7\t1699990000\t8c5a1f00b3',
      's\ts\t3f786850e387550fdab836ed7e6dc881de23001b@sa_generated',
      's\th\t89e6c98d92887913cadf06b2adb97f26cde4849b@sa_generated',
      ''
    ].join('\n')
    const p = parse(text)
    assert.deepEqual(p.invalid, [])
    assert.deepEqual(p.db, db(123, 456, {
      '0a1b2c3d4e': [1, 0, 1700000000],
      ffee001122: [0, 3, 1700003600],
      '8c5a1f00b3': [12, 7, 1699990000]
    }, {
      '3f786850e387550fdab836ed7e6dc881de23001b@sa_generated': 's',
      '89e6c98d92887913cadf06b2adb97f26cde4849b@sa_generated': 'h'
    }))
  })

  test('accepts line 1 with or without sa-learn\'s trailing comment', () => {
    assert.deepEqual(parse('v\t3\tdb_version\nv\t1\tnum_spam\n').db.numSpam, 1)
    assert.deepEqual(parse(`${V3}\nv\t1\tnum_spam\n`).db.numSpam, 1)
  })

  test('reads the last line without a final newline', () => {
    const p = parse('v\t3\tdb_version\nt\t1\t2\t3\t0123456789')
    assert.deepEqual(p.db.tokens, db(0, 0, { '0123456789': [1, 2, 3] }).tokens)
  })

  test('reads a file of only line 1 as an empty DB', () => {
    assert.deepEqual(parse(`${V3}\n`), { db: db(0, 0, {}), invalid: [], invalidCount: 0 })
    assert.deepEqual(parse(V3), { db: db(0, 0, {}), invalid: [], invalidCount: 0 })
  })

  test('normalises an upper-case token to lower case', () => {
    const p = parse('v\t3\tdb_version\nt\t1\t0\t5\t0A1B2C3D4E\n')
    assert.deepEqual(tokenEntries(p.db.tokens).map(([t]) => t), ['0a1b2c3d4e'])
  })

  test('reads message counts up to the largest safe integer, token counts and atimes up to 2^32 - 1 (SpamAssassin\'s limit)', () => {
    const safe = Number.MAX_SAFE_INTEGER
    const max = MAX_COUNT
    const p = parse(`v\t3\tdb_version\nv\t${safe}\tnum_spam\nt\t${max}\t${max}\t${max}\t0123456789\n`)
    assert.deepEqual(p.invalid, [])
    assert.equal(p.db.numSpam, safe)
    assert.deepEqual(tokenEntries(p.db.tokens), [['0123456789', { spam: max, ham: max, atime: max }]])
  })

  test('reports a token count or atime above 2^32 - 1 as a bad line', () => {
    const lines = [`t\t${2 ** 32}\t0\t1\t0123456789`, `t\t0\t${2 ** 32}\t1\t0123456789`, `t\t1\t0\t${2 ** 32}\t0123456789`]
    const p = parse(`v\t3\tdb_version\n${lines.join('\n')}\n`)
    assert.deepEqual(p.invalid.map(l => l.reason), ['spam count', 'ham count', 'atime'].map(what => `${what} 4294967296 is above 4294967295, the largest SpamAssassin stores`))
    assert.equal(p.db.tokens.keys.length, 0)
  })

  test('reads tokens in any order and reports the later line of a token given twice', () => {
    const p = parse('v\t3\tdb_version\nt\t1\t0\t5\tffffffffff\nt\t2\t0\t5\t0000000001\nt\t3\t0\t5\tFFFFFFFFFF\n')
    assert.deepEqual(p.invalid, [{ file: FILE, line: 4, reason: 'duplicate token', text: 't\t3\t0\t5\tFFFFFFFFFF' }])
    assert.deepEqual(p.db.tokens, db(0, 0, { '0000000001': [2, 0, 5], ffffffffff: [1, 0, 5] }).tokens)
  })

  test('reports every kind of bad line with file, line and reason, and keeps it out of the DB', () => {
    const p = parse(MIXED_LINES.join('\n') + '\n')
    assert.deepEqual(p.invalid, MIXED_REASONS.map(([line, reason]) => ({ file: FILE, line, reason, text: MIXED_LINES[line - 1] })))
    // The first line for a token, a count or a msgid wins; nothing of a bad line gets in.
    assert.deepEqual(p.db, db(10, 20, { '0a1b2c3d4e': [1, 0, 1700000000] }, { 'm1@sa_generated': 's' }))
  })

  test('reads a missing num_spam or num_nonspam line as 0', () => {
    assert.deepEqual(parse('v\t3\tdb_version\nt\t1\t0\t5\t0a1b2c3d4e\n').db, db(0, 0, { '0a1b2c3d4e': [1, 0, 5] }))
  })

  test('refuses another db_version with SaBackupError', () => {
    refuses('v\t2\tdb_version\nv\t1\tnum_spam\n', /db_version 2 is not supported \(only 3\)/)
    refuses('v\t4\tdb_version\n', /db_version 4 is not supported/)
  })

  test('refuses a file whose line 1 is not db_version with SaBackupError, naming the file', () => {
    refuses('v\t1\tnum_spam\nv\t3\tdb_version\n', /^bayes\.backup: line 1 must be "v<TAB>3<TAB>db_version"/)
    refuses('', /line 1 must be/)
    refuses('\nv\t3\tdb_version\n', /line 1 must be/)
    refuses('v 3 db_version\n', /line 1 must be/)
    refuses('v\t3\tdb_versions\n', /line 1 must be/)
  })
})

/** The bytes of `text` in chunks of `size` bytes, as a file read chunk by chunk gives them. */
async function * chunked (text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

/** {@link chunked}, every chunk read into one buffer that is scribbled over before the next: as bayes-file.ts reads. */
async function * chunkedInOneBuffer (text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  const buf = new Uint8Array(size)
  for (let at = 0; at < bytes.length; at += size) {
    buf.fill(0x21)
    const piece = bytes.subarray(at, at + size)
    buf.set(piece)
    yield buf.subarray(0, piece.length)
  }
}

describe('parseSaBackupChunks', () => {
  test('parses a file read in chunks of any size as parseSaBackup parses it whole, lines split across chunks included', async () => {
    const texts = [
      // Without line 14, which repeats line 4's token.
      MIXED_LINES.filter(l => !l.endsWith('0A1B2C3D4E')).join('\n') + '\n',
      `${V3}\nv\t1\tnum_spam\nt\t1\t0\t5\t0a1b2c3d4e\ns\th\tmsg@x`,
      V3
    ]
    for (const text of texts) {
      for (const size of [1, 2, 7, 64, 1 << 20]) assert.deepEqual(await parseSaBackupChunks(chunked(text, size), FILE, text.length), parse(text), `chunks of ${size}`)
    }
  })

  test('reads a token line only when it is whole: not a line whose second byte is no tab, runs on past its token, or goes on in the next chunk', async () => {
    const token = 't\t1\t0\t1700000000\t0a1b2c3d4e'
    const text = `${V3}\ntx1\t0\t1700000000\t0a1b2c3d4f\nt\t1\t0\t1700000000\t0a1b2c3d4fX\n${token}7\n${token}\n`
    const want = [[2, 'fields must be separated by tabs'], [3, 'token "0a1b2c3d4fX" is not 10 hex digits'], [4, 'token "0a1b2c3d4e7" is not 10 hex digits']]
    const whole = parse(text)
    assert.deepEqual(whole.invalid.map(l => [l.line, l.reason]), want)
    assert.deepEqual([...tokenEntries(whole.db.tokens)].map(([t]) => t), ['0a1b2c3d4e'])
    // Every cut, the one right after a token's last hex digit (before a 7 or a newline) included.
    for (let size = 1; size <= text.length; size++) assert.deepEqual(await parseSaBackupChunks(chunked(text, size), FILE, text.length), whole, `chunks of ${size}`)
  })

  test('never reads a chunk after asking for the next, so the source may read every chunk into one buffer', async () => {
    const text = MIXED_LINES.filter(l => !l.endsWith('0A1B2C3D4E')).join('\n') + '\n'
    for (const size of [1, 2, 7, 64, 1 << 20]) assert.deepEqual(await parseSaBackupChunks(chunkedInOneBuffer(text, size), FILE, text.length), parse(text), `chunks of ${size}`)
  })

  test('is null for a file that holds a token twice (its duplicate lines are reported by a whole read)', async () => {
    const text = `${V3}\nt\t1\t0\t5\t0a1b2c3d4e\nt\t2\t0\t5\t0a1b2c3d4e\n`
    assert.equal(await parseSaBackupChunks(chunked(text, 8), FILE, text.length), null)
  })

  test('refuses an empty file or another line 1 with SaBackupError, as parseSaBackup', async () => {
    await assert.rejects(parseSaBackupChunks(chunked('', 4), FILE, 0), SaBackupError)
    await assert.rejects(parseSaBackupChunks(chunked('v\t2\tdb_version\n', 4), FILE, 0), SaBackupError)
  })
})

describe('formatSaBackup', () => {
  test('writes sa-learn\'s layout: line 1, num_spam, num_nonspam, tokens by token, seen ids by msgid', () => {
    const text = format(db(2, 1, {
      ffee001122: [0, 3, 1700003600],
      '0a1b2c3d4e': [1, 0, 1700000000]
    }, { 'b@sa_generated': 'h', 'a@sa_generated': 's' }))
    assert.equal(text, [
      V3,
      'v\t2\tnum_spam',
      'v\t1\tnum_nonspam',
      't\t1\t0\t1700000000\t0a1b2c3d4e',
      't\t0\t3\t1700003600\tffee001122',
      's\ts\ta@sa_generated',
      's\th\tb@sa_generated',
      ''
    ].join('\n'))
  })

  test('writes every number in plain decimal, up to 2^32 - 1 for token fields', () => {
    const values = [0, 9, 10, 99, 100, 101, 999, 1000, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, MAX_COUNT]
    const tokens: Record<string, [number, number, number]> = {}
    values.forEach((v, i) => { tokens[i.toString(16).padStart(10, '0')] = [v, values[values.length - 1 - i], v] })
    const lines = format(db(2 ** 40, 7, tokens)).split('\n')
    assert.deepEqual(lines.slice(1, 3), [`v\t${2 ** 40}\tnum_spam`, 'v\t7\tnum_nonspam'])
    assert.deepEqual(lines.slice(3, -1), values.map((v, i) => `t\t${String(v)}\t${String(values[values.length - 1 - i])}\t${String(v)}\t${i.toString(16).padStart(10, '0')}`))
  })

  test('writes an empty DB as the three variable lines', () => {
    assert.equal(format(db(0, 0, {})), `${V3}\nv\t0\tnum_spam\nv\t0\tnum_nonspam\n`)
  })

  test('writes the same text whatever the order of the seen map', () => {
    const tokens: Record<string, [number, number, number]> = {}
    for (let i = 0; i < 2000; i++) tokens[((i * 2654435761) % 2 ** 40).toString(16).padStart(10, '0')] = [i % 3, i % 5, 1_700_000_000 + i]
    const a = db(1, 2, tokens, { x: 's', y: 'h', z: 's' })
    const b: BayesDb = { ...a, seen: new Map([...a.seen].reverse()) }
    assert.equal(format(a), format(b))
  })

  test('refuses a DB no backup can hold with SaBackupError, before writing anything', () => {
    const withKeys = (keys: number[]): BayesDb => ({ ...db(0, 0, {}), tokens: { keys: Float64Array.from(keys), spam: new Uint32Array(keys.length), ham: new Uint32Array(keys.length), atime: new Uint32Array(keys.length) } })
    const bad: BayesDb[] = [
      withKeys([2, 1]),
      withKeys([1, 1]),
      withKeys([2 ** 40]),
      withKeys([0.5]),
      db(-1, 0, {}),
      db(0, 2 ** 53, {}),
      db(0, 0, {}, { 'a\tb': 's' }),
      db(0, 0, {}, { 'a\nb': 's' }),
      db(0, 0, {}, { ' a': 's' }),
      db(0, 0, {}, { '': 's' }),
      db(0, 0, {}, { a: 'x' as SeenFlag })
    ]
    for (const d of bad) assert.throws(() => format(d), SaBackupError)
  })
})

const tokenArb = fc.tuple(fc.integer({ min: 0, max: 0xfffff }), fc.integer({ min: 0, max: 0xfffff }))
  .map(([hi, lo]) => hi.toString(16).padStart(5, '0') + lo.toString(16).padStart(5, '0'))
const countArb = fc.oneof(fc.nat(20), fc.maxSafeNat())
const tokenCountArb = fc.oneof(fc.nat(20), fc.nat({ max: MAX_COUNT }))
const countsArb: fc.Arbitrary<TokenCounts> = fc.tuple(tokenCountArb, tokenCountArb, tokenCountArb).map(([spam, ham, atime]) => ({ spam, ham, atime }))
// Any text a field can hold: no tab or line break, no leading whitespace (restore would drop it).
const msgidArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })
  .filter(s => !/[\t\n]/.test(s) && !/^[\t\n\v\f\r ]/.test(s))
const dbArb: fc.Arbitrary<BayesDb> = fc.record({
  numSpam: countArb,
  numHam: countArb,
  tokens: fc.array(fc.tuple(tokenArb, countsArb), { maxLength: 40 }),
  seen: fc.array(fc.tuple(msgidArb, fc.constantFrom<SeenFlag>('s', 'h')), { maxLength: 10 })
}).map(r => ({ numSpam: r.numSpam, numHam: r.numHam, tokens: tokensOf(new Map(r.tokens)), seen: new Map(r.seen) }))

describe('formatSaBackupChunks', () => {
  test('gives the bytes of formatSaBackup in chunks of at most the given size', () => {
    const tokens: Record<string, [number, number, number]> = {}
    for (let i = 0; i < 500; i++) tokens[(0x1000000000 + i * 7919).toString(16)] = [i, MAX_COUNT, 1700000000 + i]
    const d = db(3, 4, tokens, { 'a@sa_generated': 's' })
    // Each chunk is copied before the next is asked for: the generator reuses its buffer.
    const chunks = Array.from(formatSaBackupChunks(d, 1000), c => Buffer.from(c))
    assert.ok(chunks.length > 10, `${chunks.length} chunks`)
    for (const c of chunks.slice(1, -1)) assert.ok(c.length <= 1000, `a chunk of ${c.length} bytes`)
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(formatSaBackup(d)))
    assert.equal(parse(Buffer.concat(chunks).toString()).db.tokens.keys.length, 500)
  })
})

describe('sa-backup round trip (properties)', () => {
  test('parse(format(db)) is db, with no invalid line', () => {
    fc.assert(fc.property(dbArb, (d) => {
      assert.deepEqual(parse(format(d)), { db: d, invalid: [], invalidCount: 0 })
    }), { numRuns: 1000 })
  })

  test('format(parse(text)) is text for every text format wrote', () => {
    fc.assert(fc.property(dbArb, (d) => {
      const text = format(d)
      assert.equal(format(parse(text).db), text)
    }), { numRuns: 1000 })
  })
})
