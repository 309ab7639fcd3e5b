/** The Bayes dataset codec: encoding, and splitting and joining a file by contribution. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { deflateSync } from 'fflate'
import { DatasetDecodeError } from '../../../src/errors.js'
import { MAX_COUNT, type TokenTable } from '../../../src/crdt/bayes-counters.js'
import { decodeBayes, encodeBayes, joinBayesSections, splitBayes, type BayesContribution, type EncodedContribution } from '../../../src/archive/bayes-codec.js'
import { NODE_A, NODE_B, MAX_TOKEN, type TokenRow, section, hex, byNode, Bytes, sfc32, realisticDb, contribsArb, shuffled } from '../../helpers/bayes-files.js'

describe('encodeBayes', () => {
  it('writes the documented layout', () => {
    const { data, entries } = encodeBayes([{
      nodeId: 'A',
      db: section([['0000010002', 1, 0, 100], ['0000000001', 0, 300, 100]], [['b', 'h'], ['a', 's']], 2, 1)
    }])
    assert.equal(entries, 2)
    const expected = new Bytes().magic(2).varint(1)
      .str('A').varint(2).varint(1).varint(2)
      // Gaps 1 and 65537, Rice k = 15: 1 (q 0) then 1 in 15 bits; 001 (q 2) then 1 in 15 bits.
      .byte(15).varint(5).byte(0x03, 0x00, 0x0c, 0x00, 0x00)
      .varint(5).byte(0xff, 0x00, 0xac, 0x02) // counts 0/300: escaped, then both as varints
      .byte(0x01) // counts 1/0: one byte, spam | ham << 4
      .varint(1).varint(100) // one distinct atime, no index bits
      .varint(2).byte(0x73).str('a').byte(0x68).str('b')
    assert.deepEqual(data, expected.bytes())
  })

  it('writes an empty dataset as magic, version and a zero count', () => {
    const { data, entries } = encodeBayes([])
    assert.equal(entries, 0)
    assert.deepEqual(data, new Bytes().magic(2).varint(0).bytes())
    assert.deepEqual(decodeBayes(data), [])
  })

  it('refuses input no peer would accept with a RangeError', () => {
    const table = (keys: number[], n = keys.length): TokenTable => ({ keys: Float64Array.from(keys), spam: new Uint32Array(n), ham: new Uint32Array(n), atime: new Uint32Array(n) })
    const withTokens = (tokens: TokenTable): BayesContribution[] => [{ nodeId: NODE_A, db: { ...section([]), tokens } }]
    const bad: Array<[string, BayesContribution[]]> = [
      ['tokens out of order', withTokens(table([2, 1]))],
      ['token twice', withTokens(table([1, 1]))],
      ['token above 40 bits', withTokens(table([2 ** 40]))],
      ['fractional token', withTokens(table([1.5]))],
      ['negative token', withTokens(table([-1]))],
      ['columns of different lengths', withTokens(table([1, 2], 1))],
      ['unsafe numSpam', [{ nodeId: NODE_A, db: section([], [], 2 ** 53) }]],
      ['duplicate node', [{ nodeId: NODE_A, db: section([]) }, { nodeId: NODE_A, db: section([]) }]],
      ['empty node id', [{ nodeId: '', db: section([]) }]],
      ['lone surrogate', [{ nodeId: 'a\ud800', db: section([]) }]],
      ['bad seen flag', [{ nodeId: NODE_A, db: section([], [['<m@x>', 'x' as 's']]) }]],
      ['empty msgid', [{ nodeId: NODE_A, db: section([], [['', 's']]) }]]
    ]
    for (const [what, contribs] of bad) assert.throws(() => encodeBayes(contribs), RangeError, what)
  })

  it('round-trips any contributions (property)', () => {
    fc.assert(fc.property(contribsArb, contribs => {
      const { data, entries } = encodeBayes(contribs)
      assert.equal(entries, contribs.reduce((n, c) => n + c.db.tokens.keys.length, 0))
      assert.deepStrictEqual(decodeBayes(data, { expectedEntries: entries }), byNode(contribs))
    }), { numRuns: 600 })
  })

  it('encodes equal contributions to equal bytes whatever their order (property)', () => {
    fc.assert(fc.property(contribsArb, fc.integer(), (contribs, seed) => {
      const rnd = sfc32(seed, 1, 2, 3)
      const mixed = shuffled(contribs, rnd).map(({ nodeId, db }) => ({
        nodeId,
        db: { ...db, seen: new Map(shuffled(db.seen, rnd)) }
      }))
      assert.deepEqual(encodeBayes(mixed).data, encodeBayes(contribs).data)
    }), { numRuns: 300 })
  })

  it('round-trips the extremes: token 2^40 - 1, counts 2^32 - 1, message counts 2^53 - 1, and 1, 2 and 3 byte atime indexes', () => {
    for (const distinct of [1, 2, 256, 257, 65536, 65537]) {
      const rows: TokenRow[] = []
      for (let i = 0; i < Math.max(distinct, 3); i++) rows.push([hex(MAX_TOKEN - i * 7919), i % 4, MAX_COUNT - i, MAX_COUNT - (i % distinct)])
      const contribs = [{ nodeId: NODE_A, db: section(rows, [['<a@b>', 'h']], Number.MAX_SAFE_INTEGER, 0) }]
      const { data, entries } = encodeBayes(contribs)
      assert.equal(entries, rows.length)
      assert.deepStrictEqual(decodeBayes(data), contribs, `${distinct} distinct atimes`)
    }
  })

  it('stores the tokens of a realistic DB in at most 6 bytes a token, undeflated', (t) => {
    const size = 200_000
    const db = realisticDb(size)
    const started = performance.now()
    const { data, entries } = encodeBayes([{ nodeId: NODE_A, db }])
    const encodeMs = performance.now() - started
    const deflated = deflateSync(data, { level: 6 }).length
    const decodeStart = performance.now()
    const back = decodeBayes(data, { expectedEntries: size })
    const decodeMs = performance.now() - decodeStart
    t.diagnostic(`${size} tokens, ${db.seen.size} seen ids: ${(data.length / size).toFixed(2)} bytes/token raw, ` +
      `${(deflated / size).toFixed(2)} deflated; encode ${encodeMs.toFixed(0)} ms, decode ${decodeMs.toFixed(0)} ms`)
    assert.equal(entries, size)
    assert.deepStrictEqual(back[0].db, db)
    // The tokens alone: this DB has a msgid per 50 tokens, about 0.8 bytes a token more.
    const tokensOnly = encodeBayes([{ nodeId: NODE_A, db: { ...db, seen: new Map() } }]).data.length / size
    assert.ok(tokensOnly <= 6, `${tokensOnly.toFixed(2)} bytes/token`)
  })
})

describe('Bayes file sections', () => {
  const split = (data: Uint8Array): EncodedContribution[] => {
    const parts = splitBayes(data)
    assert.ok(parts !== null, 'a file of this version splits')
    return parts
  }

  it('a file splits into sections that put back together give the same bytes, per contribution its own encoding (property)', () => {
    fc.assert(fc.property(contribsArb, (contribs) => {
      const file = encodeBayes(contribs)
      const parts = split(file.data)
      assert.deepEqual(parts.map(p => p.nodeId), byNode(contribs).map(c => c.nodeId))
      assert.deepEqual(joinBayesSections([...parts].reverse()), file)
      for (const p of parts) {
        const own = contribs.find(c => c.nodeId === p.nodeId) as BayesContribution
        assert.equal(p.tokens, own.db.tokens.keys.length)
        assert.deepEqual(joinBayesSections([p]).data, encodeBayes([own]).data)
      }
    }), { numRuns: 300 })
  })

  it('decodeBayes with keepEncoded gives each contribution its section', () => {
    const file = encodeBayes([{ nodeId: NODE_A, db: section([['0000000001', 1, 0, 5]]) }, { nodeId: NODE_B, db: section([['0000000002', 0, 1, 6]], [['m@x', 's']]) }])
    const decoded = decodeBayes(file.data, { keepEncoded: true })
    assert.deepEqual(decoded.map(c => c.encoded), split(file.data).map(p => p.bytes))
  })

  it('a node id in two sections is refused with a RangeError', () => {
    const [part] = split(encodeBayes([{ nodeId: NODE_A, db: section([['0000000001', 1, 0, 5]]) }]).data)
    assert.throws(() => joinBayesSections([part, part]), RangeError)
  })

  it('a file cut short is refused with DatasetDecodeError, not read past its end', () => {
    const file = encodeBayes([{ nodeId: NODE_A, db: realisticDb(1000) }]).data
    for (const cut of [10, 100, file.length - 1]) assert.throws(() => splitBayes(file.subarray(0, cut), 'bayes!log!1'), DatasetDecodeError)
  })
})
