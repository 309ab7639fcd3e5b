import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { deflateSync } from 'fflate'
import { DatasetDecodeError } from '../../../src/errors.js'
import { MAX_COUNT, tokensOf, type TokenCounts, type TokenTable } from '../../../src/crdt/bayes-counters.js'
import { BAYES_FORMAT_VERSION, BAYES_MAGIC, decodeBayes, encodeBayes, joinBayesSections, splitBayes } from '../../../src/archive/bayes-codec.js'
import type { BayesContribution, BayesSection } from '../../../src/archive/bayes-codec.js'

const NODE_A = '12D3KooWA1b2C3d4E5f6G7h8I9j0KaLbMcNdOePfQgRhSiTjUk'
const NODE_B = '12D3KooWZzYyXxWwVvUuTtSsRrQqPpOoNnMmLlKkJjIiHhGgFf'
const MAX_TOKEN = 2 ** 40 - 1

type TokenRow = [token: string, spam: number, ham: number, atime: number]

function section (tokens: TokenRow[], seen: Array<[string, 's' | 'h']> = [], numSpam = 0, numHam = 0): BayesSection {
  return {
    numSpam,
    numHam,
    tokens: tokensOf(tokens.map(([t, spam, ham, atime]) => [t, { spam, ham, atime }])),
    seen: new Map(seen)
  }
}

function hex (v: number): string {
  return v.toString(16).padStart(10, '0')
}

function byNode (contribs: BayesContribution[]): BayesContribution[] {
  return [...contribs].sort((a, b) => a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
}

// Builds a file by hand, byte by byte, as the layout in bayes-codec.ts describes it.
class Bytes {
  readonly out: number[] = []

  magic (version = BAYES_FORMAT_VERSION): this {
    for (const c of BAYES_MAGIC) this.out.push(c.charCodeAt(0))
    this.out.push(version)
    return this
  }

  byte (...bs: number[]): this {
    this.out.push(...bs)
    return this
  }

  varint (n: number): this {
    while (n >= 128) {
      this.out.push((n % 128) | 0x80)
      n = Math.floor(n / 128)
    }
    this.out.push(n)
    return this
  }

  str (s: string): this {
    const b = new TextEncoder().encode(s)
    this.varint(b.length)
    this.out.push(...b)
    return this
  }

  // A contribution with no tokens and no seen ids.
  empty (nodeId: string): this {
    return this.str(nodeId).varint(0).varint(0).varint(0).varint(0).varint(0)
  }

  bytes (): Uint8Array {
    return Uint8Array.from(this.out)
  }
}

function rejects (data: Uint8Array, message: RegExp, opts?: { name?: string, expectedEntries?: number }): void {
  assert.throws(() => decodeBayes(data, opts), (err: unknown) => {
    assert.ok(err instanceof DatasetDecodeError, `expected DatasetDecodeError, got ${String(err)}`)
    assert.match(err.message, message)
    return true
  })
}

// sfc32: a small seeded PRNG, so generated data (and the size it deflates to) is stable.
function sfc32 (a: number, b: number, c: number, d: number): () => number {
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}

/**
 * A realistic Bayes DB of `size` tokens: messages (about size / 50 of them, 60% spam) each get an
 * atime in a 90-day window and 50-300 token hits; a hit is a new random token with the probability
 * that makes the message count come out right, else an existing token, skewed to the old ones
 * (like common words). The result: ~80% of tokens have a total count of 1-3, a few tens of
 * thousands, and tokens share the ~size / 50 distinct atimes of their last message.
 */
function realisticDb (size: number, seed = 1): BayesSection {
  const rnd = sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, seed)
  const messages = Math.round(size / 50)
  const pNew = size / (messages * 175)
  const values = new Float64Array(size)
  const spam = new Float64Array(size)
  const ham = new Float64Array(size)
  const atime = new Float64Array(size)
  const known = new Set<number>()
  const seen = new Map<string, 's' | 'h'>()
  let n = 0
  for (let m = 0; n < size; m++) {
    const t = 1_700_000_000 + Math.floor(rnd() * 90 * 86400)
    const isSpam = rnd() < 0.6
    seen.set(`<${m.toString(36)}.${Math.floor(rnd() * 1e9).toString(36)}@mail.example.com>`, isSpam ? 's' : 'h')
    const hits = 50 + Math.floor(rnd() * 251)
    for (let h = 0; h < hits && n < size; h++) {
      let j: number
      if (n === 0 || rnd() < pNew) {
        const v = Math.floor(rnd() * 256) * 2 ** 32 + Math.floor(rnd() * 2 ** 32)
        if (known.has(v)) continue
        known.add(v)
        j = n++
        values[j] = v
      } else {
        j = Math.floor(n * rnd() ** 3)
      }
      if (isSpam) spam[j]++
      else ham[j]++
      if (t > atime[j]) atime[j] = t
    }
  }
  const rows: Array<[string, TokenCounts]> = []
  for (let i = 0; i < size; i++) rows.push([hex(values[i]), { spam: spam[i], ham: ham[i], atime: atime[i] }])
  const tokens = tokensOf(rows)
  let numSpam = 0
  for (const flag of seen.values()) if (flag === 's') numSpam++
  return { numSpam, numHam: seen.size - numSpam, tokens, seen }
}

// Arbitraries for the property tests: edge values mixed with anything a safe integer can be.
const tokenArb = fc.oneof(
  fc.constantFrom(0, 1, 65535, 65536, 65537, MAX_TOKEN - 1, MAX_TOKEN),
  fc.bigInt({ min: 0n, max: BigInt(MAX_TOKEN) }).map(Number),
  fc.integer({ min: 0, max: 1000 }).map(x => 2 ** 39 + x)
).map(hex)
const countArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom(127, 128, 2 ** 31, MAX_COUNT),
  fc.nat({ max: MAX_COUNT })
)
const messagesArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom(127, 128, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.maxSafeNat()
)
const atimeArb = fc.oneof(
  fc.constantFrom(0, 1_700_000_000, MAX_COUNT),
  fc.integer({ min: 1_700_000_000, max: 1_700_000_010 }),
  fc.nat({ max: MAX_COUNT })
)
const textArb = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 })
)
const sectionArb: fc.Arbitrary<BayesSection> = fc.tuple(
  fc.uniqueArray(fc.tuple(tokenArb, countArb, countArb, atimeArb), { selector: row => row[0], maxLength: 40 }),
  fc.uniqueArray(fc.tuple(textArb, fc.constantFrom<'s' | 'h'>('s', 'h')), { selector: row => row[0], maxLength: 8 }),
  messagesArb,
  messagesArb
).map(([tokens, seen, numSpam, numHam]) => section(tokens, seen, numSpam, numHam))
const contribsArb: fc.Arbitrary<BayesContribution[]> = fc.uniqueArray(
  // Plain objects: fc.record's have a null prototype, which deepStrictEqual tells apart.
  fc.tuple(fc.oneof(fc.constantFrom(NODE_A, NODE_B), textArb), sectionArb).map(([nodeId, db]) => ({ nodeId, db })),
  { selector: c => c.nodeId, maxLength: 4 }
)

function shuffled<T> (items: Iterable<T>, rnd: () => number): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    const tmp = a[i]
    a[i] = a[j]
    a[j] = tmp
  }
  return a
}

describe('encodeBayes', () => {
  it('writes the documented layout', () => {
    const { data, entries } = encodeBayes([{
      nodeId: 'A',
      db: section([['0000010002', 1, 0, 100], ['0000000001', 0, 300, 100]], [['b', 'h'], ['a', 's']], 2, 1)
    }])
    assert.equal(entries, 2)
    const expected = new Bytes().magic().varint(1)
      .str('A').varint(2).varint(1).varint(2)
      .byte(0x01, 0x00, 0x01, 0x00) // low 16 bits of the gaps 1 and 65537
      .byte(0x00, 0x01) // their high parts
      .byte(0x00, 0x01) // spam
      .byte(0xac, 0x02, 0x00) // ham: 300, 0
      .varint(1).varint(100) // one distinct atime, no index columns
      .varint(2).byte(0x73).str('a').byte(0x68).str('b')
    assert.deepEqual(data, expected.bytes())
  })

  it('writes an empty dataset as magic, version and a zero count', () => {
    const { data, entries } = encodeBayes([])
    assert.equal(entries, 0)
    assert.deepEqual(data, new Bytes().magic().varint(0).bytes())
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

  it('deflates a realistic DB to at most 8 bytes a token', (t) => {
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
    assert.ok(deflated / size <= 8, `${(deflated / size).toFixed(2)} bytes/token`)
  })
})

describe('decodeBayes', () => {
  const sample = encodeBayes([
    { nodeId: NODE_A, db: section([['0000000001', 1, 0, 5], ['00000fffff', 200, 3, 9], ['ffffffffff', 0, 1, 5]], [['<1@x>', 's'], ['<2@x>', 'h']], 3, 4) },
    { nodeId: NODE_B, db: section([]) }
  ]).data

  it('refuses a bad magic and an unknown version', () => {
    rejects(new TextEncoder().encode('spamsync-list 1\n'), /bad magic/)
    rejects(new Uint8Array(0), /truncated/)
    rejects(new Bytes().magic(2).varint(0).bytes(), /unsupported Bayes format version 2/)
    rejects(new Bytes().magic(0).varint(0).bytes(), /unsupported Bayes format version 0/)
  })

  it('prefixes errors with the file name', () => {
    rejects(new Uint8Array(3), /^bayes\.bin: byte 0: /, { name: 'bayes.bin' })
  })

  it('refuses every truncation of a file', () => {
    for (let cut = 0; cut < sample.length; cut++) {
      assert.throws(() => decodeBayes(sample.subarray(0, cut)), DatasetDecodeError, `cut at ${cut}`)
    }
    rejects(new Bytes().magic().varint(1).str(NODE_A).byte(0x80).bytes(), /truncated inside/)
  })

  it('refuses a count larger than the bytes left, without allocating for it', () => {
    rejects(new Bytes().magic().varint(2 ** 50).bytes(), /truncated: contribution count/)
    rejects(new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(Number.MAX_SAFE_INTEGER).byte(0, 0, 0, 0, 0, 0).bytes(), /truncated: .*token count/)
    rejects(new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(0).varint(0).varint(2 ** 40).bytes(), /truncated: .*seen count/)
    rejects(new Bytes().magic().varint(1).varint(2 ** 40).byte(0, 0, 0, 0, 0, 0, 0, 0).bytes(), /truncated: node id/)
  })

  it('refuses a varint above 2^53 - 1, longer than 8 bytes or not minimal', () => {
    const head = (): Bytes => new Bytes().magic().varint(1).str(NODE_A)
    const ok = decodeBayes(head().varint(Number.MAX_SAFE_INTEGER).varint(0).varint(0).varint(0).varint(0).bytes())
    assert.equal(ok[0].db.numSpam, Number.MAX_SAFE_INTEGER)
    rejects(head().varint(2 ** 53).varint(0).varint(0).varint(0).varint(0).bytes(), /numSpam varint overflow/)
    rejects(head().byte(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).bytes(), /varint overflow: longer than 8 bytes/)
    rejects(head().byte(0x81, 0x00).varint(0).varint(0).varint(0).varint(0).bytes(), /not minimal/)
  })

  // One contribution of NODE_A with tokens given as raw (low, high) gaps, one count each and one atime.
  function tokensFile (gaps: Array<[low: number, high: number]>): Uint8Array {
    const b = new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(gaps.length)
    for (const [low] of gaps) b.byte(low & 0xff, low >>> 8)
    for (const [, high] of gaps) b.varint(high)
    for (let i = 0; i < 2 * gaps.length; i++) b.varint(1)
    return b.varint(1).varint(7).varint(0).bytes()
  }

  it('refuses a spam or ham count above 2^32 - 1', () => {
    const withCounts = (spam: number, ham: number): Uint8Array => new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(1)
      .byte(1, 0).varint(0).varint(spam).varint(ham).varint(1).varint(7).varint(0).bytes()
    assert.equal(decodeBayes(withCounts(MAX_COUNT, MAX_COUNT))[0].db.tokens.spam[0], MAX_COUNT)
    rejects(withCounts(MAX_COUNT + 1, 0), /spam count 4294967296 is above 4294967295/)
    rejects(withCounts(0, MAX_COUNT + 1), /ham count 4294967296 is above 4294967295/)
  })

  it('refuses tokens that are not strictly ascending or above 40 bits', () => {
    assert.equal(decodeBayes(tokensFile([[0, 0], [1, 0], [0, 1]]))[0].db.tokens.keys.length, 3)
    rejects(tokensFile([[5, 0], [0, 0]]), /token 0000000005 repeats \(tokens must be strictly ascending\)/)
    rejects(tokensFile([[0xffff, 2 ** 24 - 1], [1, 0]]), /above 40 bits/)
    rejects(tokensFile([[0, 2 ** 24]]), /above 40 bits/)
  })

  it('refuses a token total other than the manifest declares', () => {
    assert.equal(decodeBayes(sample, { expectedEntries: 3 }).length, 2)
    rejects(sample, /holds 3 token records, the manifest says 4/, { expectedEntries: 4 })
    rejects(sample, /^bayes\.bin: holds 3 token records, the manifest says 0/, { name: 'bayes.bin', expectedEntries: 0 })
  })

  it('refuses a duplicate or out-of-order node id, and an empty one', () => {
    rejects(new Bytes().magic().varint(2).empty(NODE_A).empty(NODE_A).bytes(), /duplicate node id/)
    rejects(new Bytes().magic().varint(2).empty(NODE_B).empty(NODE_A).bytes(), /out of order/)
    rejects(new Bytes().magic().varint(1).varint(0).varint(0).varint(0).varint(0).varint(0).varint(0).byte(0).bytes(), /empty node id/)
  })

  it('refuses a seen flag other than s or h, and msgids repeated or out of order', () => {
    const seen = (...records: Array<[number, string]>): Uint8Array => {
      const b = new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(0).varint(0).varint(records.length)
      for (const [flag, msgid] of records) b.byte(flag).str(msgid)
      return b.bytes()
    }
    assert.deepEqual(decodeBayes(seen([0x73, 'a'], [0x68, 'b']))[0].db.seen, new Map([['a', 's'], ['b', 'h']]))
    rejects(seen([0x53, 'a']), /seen flag 83 is neither "s" nor "h"/)
    rejects(seen([0x73, 'b'], [0x68, 'a']), /msgid "a" is out of order/)
    rejects(seen([0x73, 'a'], [0x68, 'a']), /msgid "a" repeats/)
    // A msgid length of 0, then a byte so that the seen count passes its size check.
    rejects(new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(0).varint(0).varint(1).byte(0x73, 0, 0).bytes(), /empty node "[^"]+" msgid/)
  })

  it('refuses invalid UTF-8', () => {
    rejects(new Bytes().magic().varint(1).varint(2).byte(0xc3, 0x28).varint(0).varint(0).varint(0).varint(0).varint(0).bytes(), /node id is not valid UTF-8/)
  })

  it('refuses bad atime dictionaries and indexes', () => {
    // Two tokens; `dict` is the dictionary (count then gaps), `index` the index column bytes.
    const file = (dict: number[], index: number[]): Uint8Array => {
      const b = new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(2)
        .byte(1, 0, 1, 0).varint(0).varint(0).varint(1).varint(1).varint(0).varint(0)
      for (const v of dict) b.varint(v)
      return b.byte(...index).varint(0).bytes()
    }
    assert.deepEqual([...decodeBayes(file([2, 10, 5], [1, 0]))[0].db.tokens.atime], [15, 10])
    rejects(file([2, 10, 5], [2, 0]), /atime index 2 of token 0000000001 is not below 2/)
    rejects(file([2, 10, 5], [0, 0]), /1 atimes that no token uses/)
    rejects(file([2, 10, 0], [0, 1]), /atime 10 repeats/)
    rejects(file([0], []), /has 0 distinct atimes for 2 tokens/)
    rejects(file([3, 1, 1, 1], [0, 1]), /has 3 distinct atimes for 2 tokens/)
    rejects(file([2, MAX_COUNT, 1], [0, 1]), /atime 4294967296 is above 4294967295/)
  })

  it('refuses trailing bytes', () => {
    rejects(Uint8Array.from([...sample, 0]), /1 trailing bytes after the last contribution/)
  })

  it('throws only DatasetDecodeError on corrupted input (property)', () => {
    fc.assert(fc.property(contribsArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (contribs, edits) => {
      const data = encodeBayes(contribs).data.slice()
      for (const [at, value] of edits) data[at % data.length] = value
      try {
        decodeBayes(data)
      } catch (err) {
        assert.ok(err instanceof DatasetDecodeError, String(err))
      }
    }), { numRuns: 500 })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), tail => {
      const data = Uint8Array.from([...new Bytes().magic().bytes(), ...tail])
      try {
        decodeBayes(data)
      } catch (err) {
        assert.ok(err instanceof DatasetDecodeError, String(err))
      }
    }), { numRuns: 500 })
  })
})

describe('Bayes file sections', () => {
  it('a file splits into sections that put back together give the same bytes, per contribution its own encoding (property)', () => {
    fc.assert(fc.property(contribsArb, (contribs) => {
      const file = encodeBayes(contribs)
      const parts = splitBayes(file.data)
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
    assert.deepEqual(decoded.map(c => c.encoded), splitBayes(file.data).map(p => p.bytes))
  })

  it('a node id in two sections is refused with a RangeError', () => {
    const [part] = splitBayes(encodeBayes([{ nodeId: NODE_A, db: section([['0000000001', 1, 0, 5]]) }]).data)
    assert.throws(() => joinBayesSections([part, part]), RangeError)
  })

  it('a file cut short is refused with DatasetDecodeError, not read past its end', () => {
    const file = encodeBayes([{ nodeId: NODE_A, db: realisticDb(1000) }]).data
    for (const cut of [10, 100, file.length - 1]) assert.throws(() => splitBayes(file.subarray(0, cut), 'bayes!log!1'), DatasetDecodeError)
  })
})
