import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { sumTokens, sumTokensPaced, tokenHex, tokensOf, type TokenCounts } from '../../../src/crdt/bayes-counters.js'
import { countsArb } from '../../helpers/bayes-dbs.js'

const noPause = async (): Promise<void> => {}

describe('sumTokensPaced', () => {
  const tableArb = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 300 }).map(tokenHex), countsArb), { selector: ([t]) => t, maxLength: 60 })
    .map(es => tokensOf(new Map(es)))

  test('gives the sum sumTokens gives, whatever the slice size (properties)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(tableArb, { maxLength: 6 }), fc.boolean(), fc.integer({ min: 1, max: 70 }), async (tables, keepZero, sliceRows) => {
      assert.deepEqual(await sumTokensPaced(tables, keepZero, noPause, sliceRows), sumTokens(tables, keepZero))
    }), { numRuns: 300 })
  })

  test('pauses after each slice it counts and each slice it writes', async () => {
    const table = (first: number, c: TokenCounts): ReturnType<typeof tokensOf> => tokensOf(Array.from({ length: 100 }, (_, i) => [tokenHex(first + i), c] as [string, TokenCounts]))
    let pauses = 0
    const sum = await sumTokensPaced([table(0, { spam: 1, ham: 0, atime: 1 }), table(50, { spam: 0, ham: 1, atime: 2 })], false, async () => { pauses++ }, 10)
    assert.equal(sum.keys.length, 150)
    // 100 rows of the largest table in slices of 10, counted then written.
    assert.equal(pauses, 2 * 10)
  })
})
