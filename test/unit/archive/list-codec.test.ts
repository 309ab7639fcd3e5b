import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DatasetDecodeError } from '../../../src/errors.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { MAX_COUNTER, MAX_WALL_MS } from '../../../src/crdt/hlc.js'
import { normaliseKey } from '../../../src/settings/list-key.js'
import { checkValue } from '../../../src/settings/list-line.js'
import { decodeEntries, decodeList, encodeColumns, encodeEntries, keyOrder, LIST_HEADER, LIST_HEADER_COMMENTS } from '../../../src/archive/list-codec.js'
import { EntryColumns } from '../../../src/crdt/entry-columns.js'
import { packArchive, unpackArchive } from '../../../src/archive/zip.js'
import { utf8 } from './zip-fixtures.js'

const NODE_A = '12D3KooWA1b2C3d4E5f6G7h8I9j0KaLbMcNdOePfQgRhSiTjUk'
const NODE_B = '12D3KooWZzYyXxWwVvUuTtSsRrQqPpOoNnMmLlKkJjIiHhGgFf'

function entry (key: string, value: string, present: boolean, wallMs: number, counter: number, nodeId: string): Entry {
  return { key, value, present, stamp: { wallMs, counter, nodeId } }
}

const SAMPLE: Entry[] = [
  entry('spam.example', 'added by ops', true, 1_700_000_000_000, 0, NODE_A),
  entry('10.0.0.0/8', '', false, 1_700_000_000_500, 3, NODE_B),
  entry('alice@example.com', 'VIP', true, 1_700_000_001_000, 0, NODE_A)
]

function byKey (entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

function text (data: Uint8Array): string {
  return new TextDecoder().decode(data)
}

/** Sets of valid entries (keys of every kind, values with escapes and any text, any stamp). */
function arbEntries (): fc.Arbitrary<Entry[]> {
  const key = fc.oneof(
    fc.tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.constantFrom('com', 'example', 'org')).map(([l, t]) => `${l}.${t}`),
    fc.tuple(fc.stringMatching(/^[a-z0-9.]{1,8}$/), fc.stringMatching(/^[a-z]{1,8}$/)).map(([u, d]) => `${u}@${d}.example`),
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map(p => p.join('.')),
    fc.stringMatching(/^[a-z]{1,8}$/).map(l => `*.${l}.example`)
  ).map(raw => {
    try {
      return normaliseKey(raw)
    } catch {
      return 'fallback.example'
    }
  })
  const value = fc.array(fc.oneof(fc.constantFrom('\t', '\n', '\r', '\\', '\\t', ' '), fc.string({ unit: 'grapheme' })))
    .map(parts => parts.join(''))
  const nodeId = fc.oneof(fc.constantFrom(NODE_A, NODE_B), fc.string({ unit: 'grapheme', minLength: 1 }))
  const arbEntry = fc.record({
    key,
    value,
    present: fc.boolean(),
    stamp: fc.record({ wallMs: fc.integer({ min: 0, max: MAX_WALL_MS }), counter: fc.integer({ min: 0, max: MAX_COUNTER }), nodeId })
  }).filter(e => !e.present || checkValue(e.value) === undefined)
    .map(e => entry(e.key, e.value, e.present, e.stamp.wallMs, e.stamp.counter, e.stamp.nodeId))
  return fc.uniqueArray(arbEntry, { selector: e => e.key, maxLength: 40 })
}

// Decoding this text must fail with DatasetDecodeError whose message matches.
function rejects (body: string, message: RegExp): void {
  assert.throws(() => decodeEntries(utf8(body)), DatasetDecodeError)
  assert.throws(() => decodeEntries(utf8(body)), { message })
}

const HEAD = `${LIST_HEADER}\nn 0 ${NODE_A}\n`

describe('encodeEntries', () => {
  it('writes the header, the node table and one sorted line per entry', () => {
    const { data, entries } = encodeEntries(SAMPLE)
    assert.equal(entries, 3)
    assert.equal(text(data), [
      'spamsync-list 1',
      `n 0 ${NODE_B}`,
      `n 1 ${NODE_A}`,
      `10.0.0.0/8\t0\t1700000000500\t3\t0\t`,
      `alice@example.com\t1\t1700000001000\t0\t1\tVIP`,
      `spam.example\t1\t1700000000000\t0\t1\tadded by ops`,
      ''
    ].join('\n'))
  })

  it('writes each node id once however many entries carry it', () => {
    const many = Array.from({ length: 100 }, (_, i) => entry(`d${i}.example`, '', true, i, 0, NODE_A))
    const out = text(encodeEntries(many).data)
    assert.equal(out.split(NODE_A).length - 1, 1)
  })

  it('gives the same bytes whatever the input order', () => {
    assert.deepEqual(encodeEntries(SAMPLE).data, encodeEntries([...SAMPLE].reverse()).data)
  })

  it('writes only the header for an empty set', () => {
    assert.equal(text(encodeEntries([]).data), 'spamsync-list 1\n')
  })

  it('escapes tab, newline, carriage return and backslash in values', () => {
    const out = text(encodeEntries([entry('a.example', 'a\tb\nc\rd\\e', true, 1, 0, NODE_A)]).data)
    assert.ok(out.endsWith('\ta\\tb\\nc\\rd\\\\e\n'))
  })

  it('refuses two entries with one key', () => {
    assert.throws(() => encodeEntries([SAMPLE[0], SAMPLE[0]]), RangeError)
  })

  it('refuses a stamp out of its bounds', () => {
    assert.throws(() => encodeEntries([entry('a.example', '', true, 1, MAX_COUNTER + 1, NODE_A)]), RangeError)
    assert.throws(() => encodeEntries([entry('a.example', '', true, -1, 0, NODE_A)]), RangeError)
    assert.throws(() => encodeEntries([entry('a.example', '', true, 1.5, 0, NODE_A)]), RangeError)
  })
})

// The entries as columns in runs of the given lengths, each run in the given order.
function columns (runs: Entry[][]): EntryColumns {
  const cols = new EntryColumns()
  for (const run of runs) {
    for (const e of run) cols.push(e.key, e.value, e.present, e.stamp.wallMs, e.stamp.counter, cols.nodeOf(e.stamp.nodeId))
    cols.endRun()
  }
  return cols
}

describe('keyOrder', () => {
  it('reads runs that follow each other in key order as they are (key-range buckets: no merge)', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f']
    assert.deepEqual([...keyOrder(keys, [2, 3, 6])], [0, 1, 2, 3, 4, 5])
  })

  it('merges runs out of key order, with the ones in order between them (property)', () => {
    const runs = fc.array(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,3}$/), { maxLength: 6 }), { maxLength: 8 })
    fc.assert(fc.property(runs, fc.boolean(), (lists, sortEach) => {
      const seen = new Set<string>()
      const keys: string[] = []
      const ends: number[] = []
      for (const list of lists) {
        const run = list.filter(k => !seen.has(k))
        for (const k of run) seen.add(k)
        keys.push(...(sortEach ? run.sort() : run))
        ends.push(keys.length)
      }
      assert.deepEqual([...keyOrder(keys, ends)].map(i => keys[i]), [...keys].sort())
    }), { numRuns: 300 })
  })
})

describe('encodeColumns', () => {
  it('gives the bytes of encodeEntries for sorted runs', () => {
    const [a, b, c] = byKey(SAMPLE)
    assert.deepEqual(encodeColumns(columns([[a, c], [b]])).data, encodeEntries(SAMPLE).data)
  })

  it('sorts a run that is not sorted (a bucket written before buckets were sorted)', () => {
    const [a, b, c] = byKey(SAMPLE)
    assert.deepEqual(encodeColumns(columns([[c, a], [b]])).data, encodeEntries(SAMPLE).data)
  })

  it('refuses one key at the end of a run and the start of the next', () => {
    const [a, b, c] = byKey(SAMPLE)
    assert.throws(() => encodeColumns(columns([[a, b], [b, c]])), /cannot encode key .* twice/)
  })

  it('refuses one key in two runs', () => {
    assert.throws(() => encodeColumns(columns([[SAMPLE[0]], [SAMPLE[1], SAMPLE[0]]])), /cannot encode key "spam.example" twice/)
  })

  it('gives the bytes of encodeEntries however the entries are cut into runs and ordered (property)', () => {
    const arbEntries = fc.uniqueArray(fc.record({
      key: fc.stringMatching(/^[a-z]{1,6}\.example$/),
      value: fc.constantFrom('', 'note', 'grüße'),
      present: fc.boolean(),
      wallMs: fc.nat(),
      counter: fc.nat(5),
      nodeId: fc.constantFrom(NODE_A, NODE_B, 'node-c')
    }), { selector: e => e.key, maxLength: 60 })
      .map(list => list.map(e => entry(e.key, e.present ? e.value : '', e.present, e.wallMs, e.counter, e.nodeId)))
    fc.assert(fc.property(arbEntries, fc.array(fc.nat(60), { maxLength: 6 }), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), (entries, cuts, sortRun) => {
      const bounds = [...new Set([0, ...cuts.filter(c => c < entries.length), entries.length])].sort((x, y) => x - y)
      const runs = bounds.slice(1).map((end, r) => {
        const run = entries.slice(bounds[r], end)
        return sortRun[r] ? byKey(run) : run
      })
      assert.deepEqual(encodeColumns(columns(runs)).data, encodeEntries(entries).data)
    }), { numRuns: 1000 })
  })
})

describe('decodeEntries round trip', () => {
  it('returns the entries sorted by key, tombstones included', () => {
    const decoded = decodeEntries(encodeEntries(SAMPLE).data)
    assert.deepEqual(decoded, byKey(SAMPLE))
    assert.equal(decoded.filter(e => !e.present).length, 1)
  })

  it('round-trips values with inner tabs and backslashes', () => {
    const values = ['a\tb', '\\', '\\t', 'a\\\tb', 'trailing\\', '\\\\n']
    const entries = values.map((v, i) => entry(`k${i}.example`, v, true, i, 0, NODE_A))
    assert.deepEqual(decodeEntries(encodeEntries(entries).data), entries)
  })

  it('round-trips unicode values and node ids', () => {
    const entries = [
      entry('xn--bcher-kva.example', 'Bücher – ok ✓ 𝄞 日本語', true, 5, 1, 'nœud-☃ with space'),
      entry('zz.example', '', false, 0, 0, NODE_A)
    ]
    assert.deepEqual(decodeEntries(encodeEntries(entries).data), entries)
  })

  it('round-trips the largest stamp numbers in bounds', () => {
    const entries = [entry('a.example', '', true, MAX_WALL_MS, MAX_COUNTER, NODE_A)]
    assert.deepEqual(decodeEntries(encodeEntries(entries).data), entries)
  })

  it('round-trips any set of valid entries (property)', () => {
    fc.assert(fc.property(arbEntries(), entries => {
      const { data, entries: count } = encodeEntries(entries)
      assert.equal(count, entries.length)
      assert.deepEqual(decodeEntries(data, { expectedEntries: count }), byKey(entries))
    }), { numRuns: 300 })
  })

  it('throws only DatasetDecodeError on arbitrary or damaged input (property)', () => {
    const valid = encodeEntries(SAMPLE).data
    const damaged = fc.tuple(fc.nat(valid.length - 1), fc.nat(255)).map(([at, b]) => {
      const copy = valid.slice()
      copy[at] = b
      return copy
    })
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), damaged), bytes => {
      try {
        decodeEntries(bytes)
      } catch (err) {
        assert.ok(err instanceof DatasetDecodeError, String(err))
      }
    }), { numRuns: 1000 })
  })

  it('survives pack and unpack with the manifest entry count', () => {
    const { data, entries } = encodeEntries(SAMPLE)
    const zip = packArchive({
      agentVersion: '0.1.0',
      schemaVersion: 1,
      kind: 'full',
      origin: NODE_A,
      base: null,
      version: null,
      createdAt: '2025-01-01T00:00:00.000Z'
    }, [{ name: 'lists/whitelist.tsv', data, entries }])
    const { manifest, files } = unpackArchive(zip)
    const file = manifest.files[0]
    const decoded = decodeEntries(files.get(file.name) as Uint8Array, { name: file.name, expectedEntries: file.entries })
    assert.deepEqual(decoded, byKey(SAMPLE))
  })
})

describe('decodeEntries rejects bad input with the line and the problem', () => {
  it('rejects invalid UTF-8', () => {
    assert.throws(() => decodeEntries(new Uint8Array([0x73, 0xff, 0x0a])), { name: 'DatasetDecodeError', message: /not valid UTF-8/ })
  })
  it('rejects an empty file', () => rejects('', /line 1: empty file/))
  it('rejects another header', () => rejects('hello\n', /line 1: not a spamsync list file/))
  it('rejects a byte-order mark before the header', () => rejects(`\uFEFF${LIST_HEADER}\n`, /line 1: not a spamsync list file/))
  it('rejects another list format version', () => rejects('spamsync-list 3\n', /line 1: unsupported list format version "3"/))
  it('rejects a missing final newline', () => rejects(`${HEAD}a.example\t1\t1\t0\t0\t`, /line 3: no newline .*truncated/))
  it('rejects a node index out of sequence', () => rejects(`${LIST_HEADER}\nn 1 x\n`, /line 2: node index must be 0, got "1"/))
  it('rejects a node line without an id', () => rejects(`${LIST_HEADER}\nn 0\n`, /line 2: node line needs an index and a node id/))
  it('rejects an empty node id', () => rejects(`${LIST_HEADER}\nn 0 \n`, /line 2: empty node id/))
  it('rejects a node id listed twice', () => rejects(`${HEAD}n 1 ${NODE_A}\n`, /line 3: node id .* is listed twice/))
  it('rejects too few fields', () => rejects(`${HEAD}a.example\t1\t1\t0\n`, /line 3: expected 6 tab-separated fields, got 4/))
  it('rejects too many fields', () => rejects(`${HEAD}a.example\t1\t1\t0\t0\tv\tw\n`, /line 3: expected 6 tab-separated fields, got 7/))
  it('rejects an empty line', () => rejects(`${HEAD}\n`, /line 3: expected 6 tab-separated fields, got 1/))
  it('rejects an empty key', () => rejects(`${HEAD}\t1\t1\t0\t0\t\n`, /line 3: empty key/))
  it('rejects an invalid key', () => rejects(`${HEAD}not a key!\t1\t1\t0\t0\t\n`, /line 3: invalid key "not a key!"/))
  it('rejects a key that is not normalised', () => {
    rejects(`${HEAD}Example.COM\t1\t1\t0\t0\t\n`, /line 3: key "Example.COM" is not normalised \(expected "example.com"\)/)
  })
  it('rejects a repeated key', () => rejects(`${HEAD}a.example\t1\t1\t0\t0\t\na.example\t0\t2\t0\t0\t\n`, /line 4: key "a.example" is repeated/))
  it('rejects keys out of order', () => rejects(`${HEAD}b.example\t1\t1\t0\t0\t\na.example\t1\t1\t0\t0\t\n`, /line 4: key "a.example" is out of order/))
  it('rejects a present flag other than 1 or 0', () => rejects(`${HEAD}a.example\ttrue\t1\t0\t0\t\n`, /line 3: present must be 1 or 0, got "true"/))
  it('rejects a negative wallMs', () => rejects(`${HEAD}a.example\t1\t-1\t0\t0\t\n`, /line 3: wallMs must be an integer from 0 to 253402300799999, got "-1"/))
  it('rejects a wallMs with a leading zero', () => rejects(`${HEAD}a.example\t1\t01\t0\t0\t\n`, /line 3: wallMs .* got "01"/))
  it('rejects a wallMs past the safe integers', () => rejects(`${HEAD}a.example\t1\t9007199254740992\t0\t0\t\n`, /line 3: wallMs/))
  it('rejects a fractional counter', () => rejects(`${HEAD}a.example\t1\t1\t1.5\t0\t\n`, /line 3: counter must be an integer from 0 to 4294967295, got "1.5"/))
  it('rejects a counter past 2^32 - 1, the clock\'s bound (2^53 - 1 would overflow the next local stamp)', () => {
    rejects(`${HEAD}a.example\t1\t1\t4294967296\t0\t\n`, /line 3: counter must be an integer from 0 to 4294967295, got "4294967296"/)
    rejects(`${HEAD}a.example\t1\t1\t9007199254740991\t0\t\n`, /line 3: counter/)
  })
  it('rejects a wallMs past the year 9999', () => rejects(`${HEAD}a.example\t1\t253402300800000\t0\t0\t\n`, /line 3: wallMs must be an integer from 0 to 253402300799999/))
  it('accepts the largest stamp in bounds', () => {
    assert.equal(decodeEntries(utf8(`${HEAD}a.example\t1\t253402300799999\t4294967295\t0\t\n`)).length, 1)
  })
  it('rejects an empty counter', () => rejects(`${HEAD}a.example\t1\t1\t\t0\t\n`, /line 3: counter/))
  it('rejects a node index not in the table', () => rejects(`${HEAD}a.example\t1\t1\t0\t1\t\n`, /line 3: node index "1" is not in the node table/))
  it('rejects a node line after the entries', () => rejects(`${HEAD}a.example\t1\t1\t0\t0\t\nn 1 x\n`, /line 4: expected 6/))
  it('rejects an unknown escape', () => rejects(`${HEAD}a.example\t1\t1\t0\t0\tbad \\x\n`, /line 3: bad escape "\\\\x"/))
  it('rejects a trailing lone backslash', () => rejects(`${HEAD}a.example\t1\t1\t0\t0\tbad \\\n`, /line 3: bad escape/))
  it('rejects a raw carriage return (CRLF line ends)', () => rejects(`${HEAD}a.example\t1\t1\t0\t0\tv\r\n`, /line 3: raw carriage return/))
  it('rejects an entry count other than the manifest says', () => {
    assert.throws(() => decodeEntries(encodeEntries(SAMPLE).data, { name: 'w.tsv', expectedEntries: 4 }),
      { name: 'DatasetDecodeError', message: /^w\.tsv: holds 3 entries, the manifest says 4$/ })
  })
  it('prefixes messages with the file name when given', () => {
    assert.throws(() => decodeEntries(utf8('x\n'), { name: 'lists/whitelist.tsv' }), { message: /^lists\/whitelist\.tsv: line 1: / })
  })
})

it('decoding refuses a value that the list file could not hold, before anything is merged', () => {
  const stamp = { wallMs: 1, counter: 0, nodeId: 'n' }
  for (const value of ['ok  #two-spaces', 'ok\t#tab', 'two\nlines', ' padded', '#comment ']) {
    const { data } = encodeEntries([{ key: 'x@example.com', value, present: true, stamp }])
    assert.throws(() => decodeEntries(data), DatasetDecodeError)
  }
})

describe('entry comments (list format 2)', () => {
  const stamp = { wallMs: 1, counter: 0, nodeId: 'n' }
  const header = (data: Uint8Array): string => new TextDecoder().decode(data).split('\n')[0]

  it('writes format 1 when no present entry has a comment, so older agents still read it', () => {
    const { data } = encodeEntries([{ key: 'a@example.com', value: 'OK a#b', present: true, stamp }])
    assert.equal(header(data), LIST_HEADER)
  })

  it('writes format 2 when a present entry has a comment, and the field reads back whole', () => {
    const entries = [
      { key: 'a@example.com', value: 'REJECT spam #ticket 42', present: true, stamp },
      { key: 'b@example.com', value: '#only a comment', present: true, stamp }
    ]
    const { data } = encodeEntries(entries)
    assert.equal(header(data), LIST_HEADER_COMMENTS)
    assert.deepEqual(decodeEntries(data), entries)
  })

  it('refuses a comment in a format 1 file, which an older agent could not have written', () => {
    rejects(`${HEAD}a.example\t1\t1\t0\t0\tOK #note\n`, /line 3: value "OK #note" has a comment, which format 1 cannot carry/)
  })
})

describe('decodeList tells a list file that is this agent\'s encoding of its entries', () => {
  it('every file encodeEntries makes is canonical, and its entries encode to the same bytes (property)', () => {
    fc.assert(fc.property(arbEntries(), entries => {
      const { data } = encodeEntries(entries)
      const decoded = decodeList(data)
      assert.equal(decoded.canonical, true)
      assert.equal(decoded.present, entries.filter(e => e.present).length)
      assert.deepEqual(encodeEntries(decoded.entries).data, data)
    }), { numRuns: 300 })
  })

  it('a node table out of the order of first use is not canonical', () => {
    const body = `${LIST_HEADER}\nn 0 ${NODE_B}\nn 1 ${NODE_A}\na.example\t1\t1\t0\t1\t\nb.example\t1\t1\t0\t0\t\n`
    assert.equal(decodeList(utf8(body)).canonical, false)
  })

  it('a node id that no entry uses is not canonical', () => {
    const body = `${LIST_HEADER}\nn 0 ${NODE_A}\nn 1 ${NODE_B}\na.example\t1\t1\t0\t0\t\n`
    assert.equal(decodeList(utf8(body)).canonical, false)
  })

  it('the comments header on a file without comments is not canonical', () => {
    const body = `${LIST_HEADER_COMMENTS}\nn 0 ${NODE_A}\na.example\t1\t1\t0\t0\t\n`
    assert.equal(decodeList(utf8(body)).canonical, false)
    assert.equal(decodeList(utf8(body.replace(LIST_HEADER_COMMENTS, LIST_HEADER))).canonical, true)
  })
})
