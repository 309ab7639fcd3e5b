/**
 * lastAtMost: the binary search line starts, a spliced text's pieces and a key column's chunks
 * are found with.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { lastAtMost } from '../../../src/settings/sorted-search.js'

describe('lastAtMost', () => {
  test('is the last index up to `last` whose value is at most `at`, as a linear scan finds it (repeated values included)', () => {
    fc.assert(fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 40 }), fc.nat(60), fc.nat(39), (values, at, cut) => {
      const sorted = Int32Array.from([0, ...values.sort((a, b) => a - b)])
      const last = Math.min(cut, sorted.length - 1)
      let expected = 0
      for (let i = 0; i <= last; i++) if (sorted[i] <= at) expected = i
      assert.equal(lastAtMost(sorted, last, at), expected)
    }), { numRuns: 2000 })
  })

  test('never looks past `last`', () => {
    assert.equal(lastAtMost([0, 5, 10, 15], 2, 100), 2)
    assert.equal(lastAtMost([0], 0, 7), 0)
  })
})
