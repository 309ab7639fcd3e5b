/** The merge into an empty dataset (an initial sync) against the general bucketwise merge. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HybridClock } from '../../../src/crdt/hlc.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { mergeByBucket, mergeEachBucket, mergeIntoEmpty } from '../../../src/replica/bucket-merge.js'
import { EntryBuckets } from '../../../src/replica/entry-buckets.js'
import { finish } from '../../../src/pace.js'

const NOW = 1_700_000_000_000
const SKEW = 60_000

const entryArb: fc.Arbitrary<Omit<Entry, 'key'>> = fc.record({
  value: fc.oneof(fc.constant(''), fc.string({ maxLength: 6 })),
  present: fc.boolean(),
  // Some stamps beyond now + skew, which the clock clamps.
  stamp: fc.record({
    wallMs: fc.oneof(fc.integer({ min: 0, max: NOW + 2 * SKEW }), fc.constant(NOW + SKEW), fc.constant(NOW + SKEW + 1)),
    counter: fc.integer({ min: 0, max: 5 }),
    nodeId: fc.constantFrom('n1', 'n2', 'n3')
  })
})
// Keys sorted and unique, as an archive's decode guarantees; 0 to 1,100 of them (past 512: cut into buckets).
const sortedEntriesArb = fc.uniqueArray(fc.stringMatching(/^[a-z0-9.-]{1,12}$/), { maxLength: 1100 })
  .chain(keys => fc.tuple(fc.constant([...keys].sort()), fc.array(entryArb, { minLength: keys.length, maxLength: keys.length })))
  .map(([keys, rest]) => keys.map((key, i): Entry => ({ key, ...rest[i] })))

type Merge = (held: EntryBuckets, incoming: Entry[], clock: HybridClock, lseq: number, synced: boolean, observe: boolean) => ReturnType<typeof mergeEachBucket>

function run (merge: Merge, entries: Entry[], synced: boolean, observe: boolean, lseq: number): unknown {
  const clock = new HybridClock('me', () => NOW, SKEW, { wallMs: NOW - 5, counter: 2, nodeId: 'me' })
  const merged = finish(merge(new EntryBuckets('blacklist'), entries, clock, lseq, synced, observe))
  return { merged, clock: clock.peek() }
}

describe('mergeIntoEmpty', () => {
  test('gives exactly what the general merge gives: bucket bytes, counts, changed and observed entries, lseqs and clock', () => {
    fc.assert(fc.property(sortedEntriesArb, fc.boolean(), fc.boolean(), fc.nat(1000), (entries, synced, observe, lseq) => {
      const fast = run(mergeIntoEmpty, entries, synced, observe, lseq)
      assert.deepEqual(fast, run(mergeEachBucket, entries, synced, observe, lseq))
      assert.deepEqual(run(mergeByBucket, entries, synced, observe, lseq), fast)
    }), { numRuns: 300 })
  })

  test('refuses keys that do not strictly increase or a dataset that holds entries; mergeByBucket then merges them the general way', () => {
    const e = (key: string, wallMs: number): Entry => ({ key, value: String(wallMs), present: true, stamp: { wallMs, counter: 0, nodeId: 'n1' } })
    const repeated = [e('a.example', 1), e('a.example', 2)]
    assert.throws(() => run(mergeIntoEmpty, repeated, true, false, 0))
    assert.throws(() => run(mergeIntoEmpty, [e('b.example', 1), e('a.example', 2)], true, false, 0))
    const general = run(mergeByBucket, repeated, true, false, 0) as { merged: { changed: Entry[] } }
    // The later stamp wins, once: the general merge's LWW, not two puts of one key.
    assert.deepEqual(general.merged.changed.map(x => x.value), ['2'])
    assert.deepEqual(general, run(mergeEachBucket, repeated, true, false, 0))
    const held = new EntryBuckets('blacklist')
    held.size = 1
    assert.throws(() => finish(mergeIntoEmpty(held, [e('a.example', 1)], new HybridClock('me', () => NOW), 0, true, false)))
  })
})
