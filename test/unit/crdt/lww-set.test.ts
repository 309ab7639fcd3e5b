import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { LwwSet, type Entry } from '../../../src/crdt/lww-set.js'
import type { Stamp } from '../../../src/crdt/hlc.js'

const RUNS = { numRuns: 1000 }

/**
 * Entries from small alphabets, so that keys collide, stamps tie (same wallMs and counter, and
 * sometimes the same node) and equal stamps carry different content.
 */
const stampArb: fc.Arbitrary<Stamp> = fc.record({
  wallMs: fc.integer({ min: 0, max: 3 }),
  counter: fc.integer({ min: 0, max: 2 }),
  nodeId: fc.constantFrom('n1', 'n2', 'n3')
}).map(s => ({ ...s }))
const entryArb: fc.Arbitrary<Entry> = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'd'),
  value: fc.constantFrom('', 'x', 'y'),
  present: fc.boolean(),
  stamp: stampArb
}).map(e => ({ ...e }))
// (The maps give plain objects: fast-check records have a null prototype, which deepEqual tells apart.)

/** The entries a replica has received; a fresh LwwSet is built from them for each use. */
const historyArb = fc.array(entryArb, { maxLength: 12 })

/** A replica that has merged `history` in order. */
function replica (history: Entry[]): LwwSet {
  const set = new LwwSet()
  set.merge(history)
  return set
}

/** `a` with `b`'s state merged into it (a new set; the inputs are not touched). */
function merged (a: LwwSet, b: LwwSet): LwwSet {
  const out = a.clone()
  out.merge(b.values())
  return out
}

/** The state of a replica, comparable with deepEqual: its entries sorted by key. */
function state (set: LwwSet): Entry[] {
  return [...set.values()].map(e => ({ ...e, stamp: { ...e.stamp } })).sort((x, y) => x.key < y.key ? -1 : x.key > y.key ? 1 : 0)
}

/** Orders stamps by (wallMs, counter, nodeId), written out here so the test does not trust compareStamps. */
const byTime = (x: Stamp, y: Stamp): number =>
  x.wallMs - y.wallMs || x.counter - y.counter || (x.nodeId < y.nodeId ? -1 : x.nodeId > y.nodeId ? 1 : 0)

const stamp = (wallMs: number, counter = 0, nodeId = 'n1'): Stamp => ({ wallMs, counter, nodeId })

describe('LwwSet.merge (properties)', () => {
  test('is commutative: merge(a, b) and merge(b, a) reach the same state', () => {
    fc.assert(fc.property(historyArb, historyArb, (ha, hb) => {
      const a = replica(ha)
      const b = replica(hb)
      assert.deepEqual(state(merged(a, b)), state(merged(b, a)))
    }), RUNS)
  })

  test('is associative: merge(merge(a, b), c) equals merge(a, merge(b, c))', () => {
    fc.assert(fc.property(historyArb, historyArb, historyArb, (ha, hb, hc) => {
      const a = replica(ha)
      const b = replica(hb)
      const c = replica(hc)
      assert.deepEqual(state(merged(merged(a, b), c)), state(merged(a, merged(b, c))))
    }), RUNS)
  })

  test('is idempotent: merging a set into itself changes nothing and reports no change', () => {
    fc.assert(fc.property(historyArb, (h) => {
      const a = replica(h)
      const before = state(a)
      const changed = a.merge(a.clone().values())
      assert.deepEqual(changed, [])
      assert.deepEqual(state(a), before)
    }), RUNS)
  })

  test('is idempotent: merging the same set a second time changes nothing and reports no change', () => {
    fc.assert(fc.property(historyArb, historyArb, (ha, hb) => {
      const a = replica(ha)
      const b = replica(hb)
      a.merge(b.values())
      const once = state(a)
      const changed = a.merge(b.values())
      assert.deepEqual(changed, [])
      assert.deepEqual(state(a), once)
    }), RUNS)
  })

  test('reaches the same state whatever order the entries arrive in', () => {
    fc.assert(fc.property(historyArb.chain(h => fc.tuple(fc.constant(h), fc.shuffledSubarray(h, { minLength: h.length, maxLength: h.length }))), ([h, shuffled]) => {
      assert.deepEqual(state(replica(shuffled)), state(replica(h)))
    }), RUNS)
  })

  test('returns exactly the entries whose state changed, each as its new state', () => {
    fc.assert(fc.property(historyArb, historyArb, (ha, hb) => {
      const a = replica(ha)
      const b = replica(hb)
      const before = new Map(state(a).map(e => [e.key, e]))
      const changed = a.merge(b.values())
      const expected = state(a).filter(e => !isDeepStrictEqual(before.get(e.key), e))
      const byKey = (x: Entry, y: Entry): number => x.key < y.key ? -1 : x.key > y.key ? 1 : 0
      assert.deepEqual([...changed].sort(byKey), expected)
      for (const e of changed) assert.equal(a.get(e.key), e, `the reported entry of ${e.key} is the one now held`)
    }), RUNS)
  })
})

describe('LwwSet.merge (cases)', () => {
  test('keeps the entry with the newer stamp', () => {
    const older: Entry = { key: 'a', value: 'old', present: true, stamp: stamp(1) }
    const newer: Entry = { key: 'a', value: 'new', present: true, stamp: stamp(2) }
    assert.equal(replica([older, newer]).get('a'), newer)
    assert.equal(replica([newer, older]).get('a'), newer)
  })

  test('a deleted entry stays deleted when an older copy is merged after the delete', () => {
    const present: Entry = { key: 'spam.example', value: 'note', present: true, stamp: stamp(5, 0, 'n2') }
    const tombstone: Entry = { key: 'spam.example', value: '', present: false, stamp: stamp(6, 0, 'n1') }
    const set = replica([tombstone])
    assert.deepEqual(set.merge([present]), [], 'the older copy changes nothing')
    assert.equal(set.get('spam.example'), tombstone)
    assert.equal(set.presentCount, 0)
  })

  test('a deleted entry stays deleted when the delete arrives after the older copy', () => {
    const present: Entry = { key: 'spam.example', value: 'note', present: true, stamp: stamp(5, 0, 'n2') }
    const tombstone: Entry = { key: 'spam.example', value: '', present: false, stamp: stamp(6, 0, 'n1') }
    const set = replica([present])
    assert.deepEqual(set.merge([tombstone]), [tombstone])
    assert.equal(set.get('spam.example'), tombstone)
    assert.equal(set.presentCount, 0)
  })

  test('a deleted entry stays deleted when any older copy is merged, in either order', () => {
    fc.assert(fc.property(stampArb, stampArb, fc.constantFrom('', 'x'), (s1, s2, value) => {
      fc.pre(byTime(s1, s2) !== 0)
      const [older, newer] = [s1, s2].sort(byTime)
      const copy: Entry = { key: 'k', value, present: true, stamp: older }
      const tombstone: Entry = { key: 'k', value: '', present: false, stamp: newer }
      assert.equal(replica([copy, tombstone]).get('k')?.present, false)
      assert.equal(replica([tombstone, copy]).get('k')?.present, false)
    }), RUNS)
  })

  test('a newer re-add brings a deleted entry back', () => {
    const tombstone: Entry = { key: 'k', value: '', present: false, stamp: stamp(6) }
    const readd: Entry = { key: 'k', value: 'back', present: true, stamp: stamp(7) }
    assert.equal(replica([tombstone, readd]).get('k'), readd)
    assert.equal(replica([readd, tombstone]).get('k'), readd)
  })

  test('equal stamps with different content resolve the same way on every replica', () => {
    const s = stamp(3, 1, 'n2')
    const variants: Entry[] = [
      { key: 'k', value: 'x', present: true, stamp: s },
      { key: 'k', value: 'y', present: true, stamp: s },
      { key: 'k', value: 'x', present: false, stamp: s },
      { key: 'k', value: '', present: false, stamp: s }
    ]
    for (const a of variants) {
      for (const b of variants) {
        assert.deepEqual(replica([a, b]).get('k'), replica([b, a]).get('k'),
          `${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
      }
    }
    const orders = fc.sample(fc.shuffledSubarray(variants, { minLength: 4, maxLength: 4 }), 30)
    const winners = new Set(orders.map(order => JSON.stringify(replica(order).get('k'))))
    assert.equal(winners.size, 1, `every arrival order picks the same entry, got ${[...winners].join(' | ')}`)
  })

  test('an entry equal to the one held changes nothing', () => {
    const e: Entry = { key: 'k', value: 'v', present: true, stamp: stamp(1) }
    const set = replica([e])
    assert.deepEqual(set.merge([{ ...e, stamp: { ...e.stamp } }]), [])
    assert.equal(set.get('k'), e, 'the held object is kept')
  })

  test('reports a new key as changed', () => {
    const e: Entry = { key: 'k', value: 'v', present: true, stamp: stamp(1) }
    assert.deepEqual(new LwwSet().merge([e]), [e])
  })
})

describe('LwwSet bookkeeping', () => {
  test('counts tombstones in size but not in presentCount', () => {
    const set = replica([
      { key: 'a', value: '', present: true, stamp: stamp(1) },
      { key: 'b', value: '', present: false, stamp: stamp(1) }
    ])
    assert.equal(set.size, 2)
    assert.equal(set.presentCount, 1)
  })

  test('clone is independent of the original', () => {
    const set = replica([{ key: 'a', value: '', present: true, stamp: stamp(1) }])
    const copy = set.clone()
    copy.merge([{ key: 'a', value: '', present: false, stamp: stamp(2) }])
    assert.equal(set.get('a')?.present, true)
    assert.equal(copy.get('a')?.present, false)
  })
})
