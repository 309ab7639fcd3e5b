/** Bayes dataset files for the codec tests: sections, a byte-by-byte file builder, realistic DBs and arbitraries. */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DatasetDecodeError } from '../../src/errors.js'
import { MAX_COUNT, tokensOf, type TokenCounts } from '../../src/crdt/bayes-counters.js'
import { BAYES_FORMAT_V1, BAYES_MAGIC, decodeBayes, type BayesContribution, type BayesSection } from '../../src/archive/bayes-codec.js'

export const NODE_A = '12D3KooWA1b2C3d4E5f6G7h8I9j0KaLbMcNdOePfQgRhSiTjUk'
export const NODE_B = '12D3KooWZzYyXxWwVvUuTtSsRrQqPpOoNnMmLlKkJjIiHhGgFf'
export const MAX_TOKEN = 2 ** 40 - 1

export type TokenRow = [token: string, spam: number, ham: number, atime: number]

export function section (tokens: TokenRow[], seen: Array<[string, 's' | 'h']> = [], numSpam = 0, numHam = 0): BayesSection {
  return {
    numSpam,
    numHam,
    tokens: tokensOf(tokens.map(([t, spam, ham, atime]) => [t, { spam, ham, atime }])),
    seen: new Map(seen)
  }
}

export function hex (v: number): string {
  return v.toString(16).padStart(10, '0')
}

export function byNode (contribs: BayesContribution[]): BayesContribution[] {
  return [...contribs].sort((a, b) => a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
}

// Builds a file by hand, byte by byte, as the layouts in bayes-codec.ts describe them (version 1
// unless told: the decode tests of version 1 build theirs by hand, version 2 files come from
// the encoder or name their version).
export class Bytes {
  readonly out: number[] = []

  magic (version = BAYES_FORMAT_V1): this {
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

export function rejects (data: Uint8Array, message: RegExp, opts?: { name?: string, expectedEntries?: number }): void {
  assert.throws(() => decodeBayes(data, opts), (err: unknown) => {
    assert.ok(err instanceof DatasetDecodeError, `expected DatasetDecodeError, got ${String(err)}`)
    assert.match(err.message, message)
    return true
  })
}

// sfc32: a small seeded PRNG, so generated data (and the size it deflates to) is stable.
export function sfc32 (a: number, b: number, c: number, d: number): () => number {
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
export function realisticDb (size: number, seed = 1): BayesSection {
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
export const tokenArb = fc.oneof(
  fc.constantFrom(0, 1, 65535, 65536, 65537, MAX_TOKEN - 1, MAX_TOKEN),
  fc.bigInt({ min: 0n, max: BigInt(MAX_TOKEN) }).map(Number),
  fc.integer({ min: 0, max: 1000 }).map(x => 2 ** 39 + x)
).map(hex)
export const countArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom(127, 128, 2 ** 31, MAX_COUNT),
  fc.nat({ max: MAX_COUNT })
)
export const messagesArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom(127, 128, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.maxSafeNat()
)
export const atimeArb = fc.oneof(
  fc.constantFrom(0, 1_700_000_000, MAX_COUNT),
  fc.integer({ min: 1_700_000_000, max: 1_700_000_010 }),
  fc.nat({ max: MAX_COUNT })
)
export const textArb = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 })
)
export const sectionArb: fc.Arbitrary<BayesSection> = fc.tuple(
  fc.uniqueArray(fc.tuple(tokenArb, countArb, countArb, atimeArb), { selector: row => row[0], maxLength: 40 }),
  fc.uniqueArray(fc.tuple(textArb, fc.constantFrom<'s' | 'h'>('s', 'h')), { selector: row => row[0], maxLength: 8 }),
  messagesArb,
  messagesArb
).map(([tokens, seen, numSpam, numHam]) => section(tokens, seen, numSpam, numHam))
export const contribsArb: fc.Arbitrary<BayesContribution[]> = fc.uniqueArray(
  // Plain objects: fc.record's have a null prototype, which deepStrictEqual tells apart.
  fc.tuple(fc.oneof(fc.constantFrom(NODE_A, NODE_B), textArb), sectionArb).map(([nodeId, db]) => ({ nodeId, db })),
  { selector: c => c.nodeId, maxLength: 4 }
)

export function shuffled<T> (items: Iterable<T>, rnd: () => number): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    const tmp = a[i]
    a[i] = a[j]
    a[j] = tmp
  }
  return a
}
