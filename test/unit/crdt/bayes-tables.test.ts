/** Token tables of the Bayes CRDT: building, joining, summing and expiring them. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { emptyBayesDb, expireTokens, joinTokens, ownDelta, sumTokens, tokensOf, MAX_COUNT, type BayesDb, type TokenCounts } from '../../../src/crdt/bayes-counters.js'
import { RUNS, db, rows, copy, TOKENS, countsArb, dbArb } from '../../helpers/bayes-dbs.js'

describe('expireTokens', () => {
  test('keeps the newest tokens by atime', () => {
    const d = db(1, 2, { '0000000001': [1, 0, 10], '0000000002': [1, 0, 30], '00000000aa': [1, 0, 20] }, { m1: 's' })
    assert.deepEqual(expireTokens(d, 2), db(1, 2, { '0000000002': [1, 0, 30], '00000000aa': [1, 0, 20] }, { m1: 's' }))
  })

  test('among tokens of equal atime at the cut, keeps the lower token strings', () => {
    const d = db(0, 0, { ffffffffff: [1, 0, 5], '0000000002': [1, 0, 5], '00000000aa': [1, 0, 5], '0000000001': [1, 0, 9] })
    assert.deepEqual([...rows(expireTokens(d, 3).tokens).keys()], ['0000000001', '0000000002', '00000000aa'])
  })

  test('keeps everything when there are no more tokens than the limit, and nothing for a limit of 0', () => {
    const d = db(1, 1, { '0000000001': [1, 0, 10], '0000000002': [1, 0, 30] })
    assert.deepEqual(expireTokens(d, 2), d)
    assert.deepEqual(expireTokens(d, 5), d)
    assert.deepEqual(expireTokens(d, 0), db(1, 1, {}))
  })

  test('refuses a limit that is not a non-negative integer with a RangeError', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) assert.throws(() => expireTokens(emptyBayesDb(), bad), RangeError)
  })

  test('keeps exactly the newest N, ties broken by token, and leaves the rest of the DB as it was (properties)', () => {
    const tokensArb = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 0xffff }).map(t => t.toString(16).padStart(10, '0')), fc.nat(6)), { selector: ([t]) => t, maxLength: 30 })
    fc.assert(fc.property(dbArb, tokensArb, fc.nat(35), (base, tokens, max) => {
      const d: BayesDb = { ...base, tokens: tokensOf(tokens.map(([t, atime]) => [t, { spam: 1, ham: 0, atime }])) }
      const before = copy(d)
      const out = expireTokens(d, max)
      // Reference: every token ordered newest first, then by token; the first N stay.
      const expected = [...tokens].sort(([ta, a], [tb, b]) => b - a || (ta < tb ? -1 : 1)).slice(0, max).map(([t]) => t).sort()
      assert.deepEqual([...rows(out.tokens).keys()], expected)
      const all = rows(d.tokens)
      for (const [t, c] of rows(out.tokens)) assert.deepEqual(c, all.get(t))
      assert.deepEqual([out.numSpam, out.numHam, out.seen], [d.numSpam, d.numHam, d.seen])
      assert.deepEqual(d, before)
    }), RUNS)
  })

  test('is deterministic: the same tokens in any map order give the same result (properties)', () => {
    const entriesArb = fc.uniqueArray(fc.tuple(fc.constantFrom(...TOKENS, '0000000003', '0000000004', '0000000005'), countsArb), { selector: ([t]) => t })
    const arb = entriesArb.chain(es => fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length, maxLength: es.length }), fc.nat(es.length)))
    fc.assert(fc.property(arb, ([es, shuffled, max]) => {
      const a = expireTokens({ ...emptyBayesDb(), tokens: tokensOf(es) }, max)
      const b = expireTokens({ ...emptyBayesDb(), tokens: tokensOf(shuffled) }, max)
      assert.deepEqual(a, b)
    }), RUNS)
  })
})

describe('token tables', () => {
  const tableArb = fc.array(fc.tuple(fc.constantFrom(...TOKENS), countsArb), { maxLength: 6 }).map(es => tokensOf(new Map(es)))

  test('tokensOf sorts by token and refuses a bad token, a token twice and a count past MAX_COUNT with a RangeError', () => {
    assert.deepEqual([...rows(tokensOf([['ffffffffff', { spam: 1, ham: 0, atime: 1 }], ['0000000001', { spam: 0, ham: 1, atime: 2 }]])).keys()], ['0000000001', 'ffffffffff'])
    const bad: Array<Array<[string, TokenCounts]>> = [
      [['000000000G', { spam: 1, ham: 0, atime: 1 }]],
      [['00000000AA', { spam: 1, ham: 0, atime: 1 }]],
      [['0000000001', { spam: 1, ham: 0, atime: 1 }], ['0000000001', { spam: 2, ham: 0, atime: 1 }]],
      [['0000000001', { spam: MAX_COUNT + 1, ham: 0, atime: 1 }]],
      [['0000000001', { spam: 1, ham: -1, atime: 1 }]]
    ]
    for (const entries of bad) assert.throws(() => tokensOf(entries), RangeError)
  })

  test('sumTokens adds counts, keeps the newest atime, stops at MAX_COUNT and drops zero sums unless asked (properties)', () => {
    fc.assert(fc.property(fc.array(tableArb, { maxLength: 6 }), fc.boolean(), (tables, keepZero) => {
      const expected = new Map<string, TokenCounts>()
      for (const t of tables) {
        for (const [token, c] of rows(t)) {
          const s = expected.get(token) ?? { spam: 0, ham: 0, atime: 0 }
          expected.set(token, { spam: s.spam + c.spam, ham: s.ham + c.ham, atime: Math.max(s.atime, c.atime) })
        }
      }
      for (const [token, c] of expected) if (!keepZero && c.spam + c.ham === 0) expected.delete(token)
      assert.deepEqual(sumTokens(tables, keepZero), tokensOf(expected))
    }), RUNS)
    const big = tokensOf([['0000000001', { spam: MAX_COUNT, ham: 1, atime: 1 }]])
    assert.deepEqual(rows(sumTokens([big, big])).get('0000000001'), { spam: MAX_COUNT, ham: 2, atime: 1 })
  })

  test('a join into nothing, a sum of one table and a first scan\'s delta are the table itself, not a copy', () => {
    const t = tokensOf([['0000000001', { spam: 1, ham: 0, atime: 1 }], ['0000000002', { spam: 0, ham: 0, atime: 2 }]])
    const empty = emptyBayesDb().tokens
    const { joined, grown } = joinTokens(empty, t)
    assert.equal(joined, t)
    assert.equal(grown, t)
    assert.equal(sumTokens([empty, t], true), t)
    assert.equal(ownDelta({ ...emptyBayesDb(), tokens: t }, emptyBayesDb()).tokens, t)
    // Without keepZero the zero row goes, so that sum is a new table.
    assert.deepEqual([...rows(sumTokens([empty, t])).keys()], ['0000000001'])
  })

  test('joinTokens takes each field\'s maximum and names exactly the rows that grew (properties)', () => {
    fc.assert(fc.property(tableArb, tableArb, (target, incoming) => {
      const before = [copy({ ...emptyBayesDb(), tokens: target }), copy({ ...emptyBayesDb(), tokens: incoming })]
      const { joined, grown } = joinTokens(target, incoming)
      const expected = rows(target)
      const grew = new Map<string, TokenCounts>()
      for (const [token, c] of rows(incoming)) {
        const t = expected.get(token)
        const j = t === undefined ? c : { spam: Math.max(t.spam, c.spam), ham: Math.max(t.ham, c.ham), atime: Math.max(t.atime, c.atime) }
        if (t === undefined || j.spam > t.spam || j.ham > t.ham || j.atime > t.atime) grew.set(token, j)
        expected.set(token, j)
      }
      assert.deepEqual(joined, tokensOf(expected))
      assert.deepEqual(grown, tokensOf(grew))
      assert.deepEqual([target, incoming], before.map(d => d.tokens))
    }), RUNS)
  })
})
