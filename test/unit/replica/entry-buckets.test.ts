/** EntryBuckets' helpers: the lseq order of changed entries. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { byLseq } from '../../../src/replica/entry-buckets.js'
import type { StoredEntry } from '../../../src/store/state-store.js'

const entry = (lseq: number): StoredEntry => ({ key: `k${lseq}.example`, value: '', present: true, stamp: { wallMs: 1, counter: 0, nodeId: 'a' }, lseq, synced: false })
const lseqs = (entries: StoredEntry[]): number[] => entries.map(e => e.lseq)

describe('byLseq', () => {
  test('orders entries that fill their range (placed by index)', () => {
    assert.deepEqual(lseqs(byLseq([7, 3, 5, 4, 6].map(entry), 2, 7)), [3, 4, 5, 6, 7])
  })

  test('orders entries sparse in their range (sorted)', () => {
    assert.deepEqual(lseqs(byLseq([90, 3, 40].map(entry), 0, 100)), [3, 40, 90])
  })

  test('keeps every entry of a damaged store: a repeated or too new change sequence falls back to the sort', () => {
    assert.deepEqual(lseqs(byLseq([5, 3, 5, 4].map(entry), 2, 5)), [3, 4, 5, 5])
    assert.deepEqual(lseqs(byLseq([9, 3, 4].map(entry), 2, 5)), [3, 4, 9])
  })
})
