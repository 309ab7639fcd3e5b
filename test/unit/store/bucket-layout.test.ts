/** Entry buckets as key ranges: where a bucket is cut, and which bucket holds a key. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compareKeys, FILL_BUCKET_ENTRIES, MAX_BUCKET_ENTRIES, pieceEnds, rangeOf } from '../../../src/store/bucket-layout.js'

describe('pieceEnds', () => {
  test('a bucket of up to MAX_BUCKET_ENTRIES is one piece', () => {
    assert.deepEqual(pieceEnds(0), [0])
    assert.deepEqual(pieceEnds(1), [1])
    assert.deepEqual(pieceEnds(MAX_BUCKET_ENTRIES), [MAX_BUCKET_ENTRIES])
  })

  test('a bucket one entry past the maximum is cut at its median', () => {
    assert.deepEqual(pieceEnds(MAX_BUCKET_ENTRIES + 1), [256, 513])
  })

  test('more entries are cut into near-equal pieces of at most FILL_BUCKET_ENTRIES, in order, covering them all (property)', () => {
    fc.assert(fc.property(fc.integer({ min: MAX_BUCKET_ENTRIES + 1, max: 2_000_000 }), n => {
      const ends = pieceEnds(n)
      assert.equal(ends[ends.length - 1], n)
      const sizes = ends.map((end, i) => end - (i === 0 ? 0 : ends[i - 1]))
      assert.ok(Math.max(...sizes) <= FILL_BUCKET_ENTRIES, `pieces of ${Math.max(...sizes)}`)
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `pieces of ${Math.min(...sizes)} to ${Math.max(...sizes)}`)
    }), { numRuns: 200 })
  })
})

describe('rangeOf', () => {
  const bounds = ['', 'b.example', 'm.example', 'x.example']

  test('gives the last bound that is not after the key', () => {
    assert.equal(rangeOf(bounds, 'a.example'), 0)
    assert.equal(rangeOf(bounds, 'b.example'), 1)
    assert.equal(rangeOf(bounds, 'lz'), 1)
    assert.equal(rangeOf(bounds, 'm.example'), 2)
    assert.equal(rangeOf(bounds, 'zzz'), 3)
    assert.equal(rangeOf([''], 'anything'), 0)
  })

  test('a wrong or out-of-range hint gives the same answer as none (property)', () => {
    const sortedBounds = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 30 }).map(bs => ['', ...bs.sort(compareKeys)])
    fc.assert(fc.property(sortedBounds, fc.string({ minLength: 1, maxLength: 5 }), fc.nat(40), (bs, key, hint) => {
      const b = rangeOf(bs, key, hint)
      assert.equal(b, rangeOf(bs, key))
      assert.ok(bs[b] <= key && (b + 1 === bs.length || key < bs[b + 1]))
    }), { numRuns: 500 })
  })
})
