/**
 * Generators and views of list entries for the CRDT law tests (test/unit/crdt/lww-set.test.ts on
 * mergeEntries, test/unit/replica/list-replica-laws.test.ts on ListReplica.merge around it).
 *
 * The alphabets are small so that keys collide, stamps tie (same wallMs and counter, sometimes
 * the same node), equal stamps carry different content, tombstones carry values, and some stamps
 * lie beyond the clamp bound.
 */
import fc from 'fast-check'
import type { Stamp } from '../../src/crdt/hlc.js'
import type { Entry } from '../../src/crdt/lww-set.js'

/** The wall clock of the merging node, unless a test moves it. */
export const WALL_MS = 1_700_000_000_000
/** Small, so generated stamps land on both sides of the bound. */
export const MAX_SKEW_MS = 10
/** The clamp bound while the wall clock stands at WALL_MS. */
export const BOUND = WALL_MS + MAX_SKEW_MS

// (The maps give plain objects: fast-check records have a null prototype, which deepEqual tells apart.)

/** Stamps around the bound, from three nodes. */
export const stampArb: fc.Arbitrary<Stamp> = fc.record({
  wallMs: fc.integer({ min: BOUND - 2, max: BOUND + 2 }),
  counter: fc.integer({ min: 0, max: 2 }),
  nodeId: fc.constantFrom('n1', 'n2', 'n3')
}).map(s => ({ ...s }))

/** Entries of four keys, present or not, with one of three values. */
export const entryArb: fc.Arbitrary<Entry> = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'd'),
  value: fc.constantFrom('', 'x', 'y'),
  present: fc.boolean(),
  stamp: stampArb
}).map(e => ({ ...e }))

/** The entries one node received, in arrival order. */
export const historyArb = fc.array(entryArb, { maxLength: 12 })

/**
 * The entries of a history `h` delivered again: every entry once and some twice, shuffled, and
 * cut into deliveries (batches) at random.
 */
export const redeliveryArb: fc.Arbitrary<{ h: Entry[], batches: Entry[][] }> = historyArb.chain(h => fc.subarray(h).chain(again => {
  const n = h.length + again.length
  return fc.record({
    resent: fc.shuffledSubarray([...h, ...again], { minLength: n, maxLength: n }),
    cuts: fc.array(fc.boolean(), { minLength: n, maxLength: n })
  }).map(({ resent, cuts }) => {
    const batches: Entry[][] = [[]]
    for (const [i, e] of resent.entries()) {
      batches[batches.length - 1].push(e)
      if (cuts[i]) batches.push([])
    }
    return { h, batches }
  })
}))

/**
 * An entry for key 'k' older than `than` (within 2 ms of it), present or not: a stale copy of
 * what a tombstone stamped `than` deleted.
 */
export const olderArb = (than: Stamp): fc.Arbitrary<Entry> => fc.record({
  value: fc.constantFrom('', 'x', 'y'),
  present: fc.boolean(),
  stamp: fc.record({
    wallMs: fc.integer({ min: than.wallMs - 2, max: than.wallMs }),
    counter: fc.integer({ min: 0, max: 2 }),
    nodeId: fc.constantFrom('n1', 'n2', 'n3')
  }).map(s => ({ ...s }))
}).map(e => ({ ...e, key: 'k' })).filter(e => byTime(e.stamp, than) < 0)

/** Orders stamps by (wallMs, counter, nodeId), written out here so the tests do not trust compareStamps. */
export const byTime = (x: Stamp, y: Stamp): number =>
  x.wallMs - y.wallMs || x.counter - y.counter || (x.nodeId < y.nodeId ? -1 : x.nodeId > y.nodeId ? 1 : 0)

/** The shared state of entries: key, value, presence and stamp (no bookkeeping), sorted by key. */
export function sharedState (entries: Iterable<Entry>): Entry[] {
  return [...entries]
    .map(e => ({ key: e.key, value: e.value, present: e.present, stamp: { ...e.stamp } }))
    .sort((x, y) => x.key < y.key ? -1 : x.key > y.key ? 1 : 0)
}
