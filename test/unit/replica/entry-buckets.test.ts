/** EntryBuckets' helpers: the lseq order of changed entries; what held buckets keep of the keys put in them. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { byLseq, EntryBuckets } from '../../../src/replica/entry-buckets.js'
import type { StoredEntry } from '../../../src/store/state-store.js'
import { finish } from '../../../src/pace.js'

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

describe('EntryBuckets', () => {
  test('holds the bounds of a cut as strings of their own: the text its keys were sliced from is freed', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    gc()
    const before = getHeapStatistics().used_heap_size
    const { held, length } = cutFromText(50_000)
    gc()
    const kept = getHeapStatistics().used_heap_size - before
    assert.ok(held.buckets > 100, `${held.buckets} buckets`)
    assert.ok(kept < length * 0.5, `${kept} bytes kept after a cut of keys from a ${length}-character text`)
  })
})

/** Buckets holding `n` keys that are slices of one text (as a first scan's are), the text out of reach. */
function cutFromText (n: number): { held: EntryBuckets, length: number } {
  const text = Array.from({ length: n }, (_, i) => `host-${String(i).padStart(8, '0')}.example`).join('\n')
  const entries = text.split('\n').map((key, i): StoredEntry => ({ key, value: '', present: true, stamp: { wallMs: 1, counter: 0, nodeId: 'a' }, lseq: i + 1, synced: false }))
  const held = new EntryBuckets('blacklist')
  held.apply(finish(held.prepare(new Map(entries.map(e => [e.key, e])), new Map())))
  return { held, length: text.length }
}
