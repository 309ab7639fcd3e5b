/**
 * The CRDT laws, proven on the merge production runs: ListReplica.merge on a real store.
 *
 * What holds, precisely. The state of a key is its entry's key, value, presence and stamp (lseq
 * and synced are this node's bookkeeping, not shared state). A merge first clamps each incoming
 * stamp to the bound B = wall clock + maxSkewMs (wallMs lowered to B, counter and node id kept)
 * and clears a tombstone's value, then keeps, per key, the greater entry by (stamp, presence,
 * value). So:
 * - With B fixed, merging is a join of the clamped deliveries: the state is the same whatever
 *   the order, grouping and duplication of the deliveries (commutative, associative,
 *   idempotent), for any stamps, also those beyond B; and no stored stamp is beyond B.
 * - A tombstone that was within the bound when it arrived is never undone by an older copy,
 *   however the bound moves between merges: clamping only ever lowers the copy. (Only
 *   clampFuture, lowering the tombstone itself when the bound falls below it, puts it with the
 *   stamps beyond the bound, next point.)
 * - A stamp beyond the bound counts as made at the bound, so two states of a key both stamped
 *   beyond it keep no order between them (the last case below). And when B moves between
 *   deliveries, the join laws hold only for stamps within every bound used: a stamp from
 *   beyond the bound is worth more the later it arrives. That is the price of a fast clock not
 *   winning forever (see ListReplica.clampFuture).
 *
 * Runs cost a store write per merge, so the replicas of a test live for the whole test and
 * each property run uses keys of its own (`<run>/a`): entries of different keys never meet.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { clampStamp, compareStamps, type Stamp } from '../../../src/crdt/hlc.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'

const RUNS = { numRuns: 100 }
const WL = 'whitelist'
const WALL_MS = 1_700_000_000_000
const MAX_SKEW_MS = 10
/** The clamp bound while the wall clock stands at WALL_MS. */
const BOUND = WALL_MS + MAX_SKEW_MS

/** One node: a replica on its own store in a temp folder, with a wall clock the test sets. */
class Node {
  wallMs = WALL_MS
  dir = ''
  store!: StateStore
  replica!: ListReplica

  constructor (readonly nodeId: string) {}

  /** Loads the replica from the store, as the agent does at start. */
  async start (): Promise<void> {
    this.store = await StateStore.open(this.dir)
    this.replica = await ListReplica.load(this.store, this.nodeId, () => this.wallMs, MAX_SKEW_MS)
  }
}

/** `n` nodes, opened before the tests of the enclosing describe and removed after them, also when one fails. */
function nodes (n: number): Node[] {
  const list = Array.from({ length: n }, (_, i) => new Node(`replica-${i}`))
  before(async () => {
    for (const node of list) {
      node.dir = await mkdtemp(join(tmpdir(), 'spamsync-laws-'))
      await node.start()
    }
  })
  after(async () => {
    for (const node of list) {
      if (node.dir === '') continue
      try {
        await node.store?.close()
      } finally {
        await rm(node.dir, { recursive: true, force: true })
      }
    }
  })
  return list
}

/**
 * Entries from small alphabets, so that keys collide, stamps tie (same wallMs and counter, and
 * sometimes the same node), equal stamps carry different content, tombstones carry values, and
 * some stamps lie beyond the bound.
 */
const stampArb: fc.Arbitrary<Stamp> = fc.record({
  wallMs: fc.integer({ min: BOUND - 2, max: BOUND + 2 }),
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

/** The entries one node received, in arrival order. */
const historyArb = fc.array(entryArb, { maxLength: 12 })

/** The key space of one property run. */
interface Run {
  /** `entries` with their keys moved into this run's key space. */
  keys: (entries: Iterable<Entry>) => Entry[]
  /** True for a key of this run. */
  owns: (key: string) => boolean
}
let runs = 0
function run (): Run {
  const prefix = `${++runs}/`
  return {
    keys: (entries) => [...entries].map(e => ({ ...e, key: prefix + e.key })),
    owns: key => key.startsWith(prefix)
  }
}

/** Merges `entries` into `node` as one delivery; returns the entries that changed it. */
async function deliver (node: Node, entries: Iterable<Entry>): Promise<Entry[]> {
  return await node.replica.merge(WL, entries, { synced: true })
}

/** The shared state of the keys of `r` (every key when undefined): key, value, presence and stamp, sorted by key. */
function state (node: Node, r?: Run): Entry[] {
  return [...node.replica.entries(WL)]
    .filter(e => r === undefined || r.owns(e.key))
    .map(e => ({ key: e.key, value: e.value, present: e.present, stamp: { ...e.stamp } }))
    .sort((x, y) => x.key < y.key ? -1 : x.key > y.key ? 1 : 0)
}

/** Orders stamps by (wallMs, counter, nodeId), written out here so the test does not trust compareStamps. */
const byTime = (x: Stamp, y: Stamp): number =>
  x.wallMs - y.wallMs || x.counter - y.counter || (x.nodeId < y.nodeId ? -1 : x.nodeId > y.nodeId ? 1 : 0)

describe('ListReplica.merge is a join (the clamp bound fixed)', () => {
  const [a, b, c, ab, bc, abc, x, y] = nodes(8)

  test('is commutative: a then b and b then a reach the same state', async () => {
    await fc.assert(fc.asyncProperty(historyArb, historyArb, async (ha, hb) => {
      const r = run()
      await deliver(x, r.keys(ha))
      await deliver(x, r.keys(hb))
      await deliver(y, r.keys(hb))
      await deliver(y, r.keys(ha))
      assert.deepEqual(state(x, r), state(y, r))
    }), RUNS)
  })

  test('is associative: (a merged with b) merged with c equals a merged with (b merged with c)', async () => {
    await fc.assert(fc.asyncProperty(historyArb, historyArb, historyArb, async (ha, hb, hc) => {
      const r = run()
      await deliver(a, r.keys(ha))
      await deliver(b, r.keys(hb))
      await deliver(c, r.keys(hc))
      await deliver(ab, state(a, r))
      await deliver(ab, state(b, r))
      await deliver(ab, state(c, r))
      await deliver(bc, state(b, r))
      await deliver(bc, state(c, r))
      await deliver(abc, state(a, r))
      await deliver(abc, state(bc, r))
      assert.deepEqual(state(ab, r), state(abc, r))
    }), RUNS)
  })

  test('is idempotent: a replica merged into itself, or a delivery merged again, changes nothing and counts no change', async () => {
    await fc.assert(fc.asyncProperty(historyArb, historyArb, async (ha, hb) => {
      const r = run()
      await deliver(x, r.keys(ha))
      await deliver(x, r.keys(hb))
      const merged = state(x, r)
      const seq = x.replica.changeSeq
      assert.deepEqual(await deliver(x, merged), [], 'itself')
      assert.deepEqual(await deliver(x, r.keys(hb)), [], 'the last delivery again')
      assert.deepEqual(await deliver(x, r.keys(ha)), [], 'an earlier delivery again')
      assert.deepEqual(state(x, r), merged)
      assert.equal(x.replica.changeSeq, seq)
    }), RUNS)
  })

  test('reaches the same state whatever the order, grouping and duplication of the deliveries', async () => {
    // Every entry once and some again, shuffled, cut into batches where `cuts` says.
    const deliveries = historyArb.chain(h => fc.subarray(h).chain(again => fc.record({
      h: fc.constant(h),
      resent: fc.shuffledSubarray([...h, ...again], { minLength: h.length + again.length, maxLength: h.length + again.length }),
      cuts: fc.array(fc.boolean(), { minLength: h.length + again.length, maxLength: h.length + again.length })
    })))
    await fc.assert(fc.asyncProperty(deliveries, async ({ h, resent, cuts }) => {
      const r = run()
      for (const e of h) await deliver(x, r.keys([e]))
      let batch: Entry[] = []
      for (const [i, e] of resent.entries()) {
        batch.push(e)
        if (cuts[i]) {
          await deliver(y, r.keys(batch))
          batch = []
        }
      }
      await deliver(y, r.keys(batch))
      assert.deepEqual(state(y, r), state(x, r))
    }), RUNS)
  })

  test('stores no stamp beyond the bound, and each state as some delivery of its key with the stamp clamped', async () => {
    await fc.assert(fc.asyncProperty(historyArb, async (h) => {
      const r = run()
      const sent = r.keys(h)
      await deliver(x, sent)
      for (const e of state(x, r)) {
        assert.ok(e.stamp.wallMs <= BOUND)
        assert.ok(sent.some(d => d.key === e.key && d.present === e.present && (d.present ? d.value : '') === e.value &&
          compareStamps(clampStamp(d.stamp, BOUND, 0), e.stamp) === 0), `${JSON.stringify(e)} was delivered`)
      }
    }), RUNS)
  })
})

describe('ListReplica.merge and the store', () => {
  const [x] = nodes(1)

  test('the merged state reads back the same after a restart', async () => {
    await fc.assert(fc.asyncProperty(historyArb, historyArb, async (ha, hb) => {
      const r = run()
      await deliver(x, r.keys(ha))
      await deliver(x, r.keys(hb))
    }), RUNS)
    const merged = state(x)
    assert.ok(merged.length > 0)
    await x.store.close()
    await x.start()
    assert.deepEqual(state(x), merged)
  })
})

describe('ListReplica.merge keeps deletes', () => {
  const [x] = nodes(1)

  test('a tombstone within the bound when it arrives is never undone by older copies, whenever they arrive and wherever the bound is', async () => {
    const older = (than: Stamp): fc.Arbitrary<Entry> => fc.record({
      value: fc.constantFrom('', 'x', 'y'),
      present: fc.boolean(),
      stamp: fc.record({
        wallMs: fc.integer({ min: than.wallMs - 2, max: than.wallMs }),
        counter: fc.integer({ min: 0, max: 2 }),
        nodeId: fc.constantFrom('n1', 'n2', 'n3')
      }).map(s => ({ ...s }))
    }).map(e => ({ ...e, key: 'k' })).filter(e => byTime(e.stamp, than) < 0)
    const scenario = fc.record({
      tombstone: stampArb.map(stamp => ({ key: 'k', value: 'gone', present: false, stamp })),
      arrivesAt: fc.nat({ max: 6 }),
      // The wall clock at each delivery: it may move either way, the bound with it.
      walls: fc.array(fc.integer({ min: WALL_MS - 5, max: WALL_MS + 5 }), { minLength: 7, maxLength: 7 })
    }).chain(s => fc.record({ s: fc.constant(s), copies: fc.array(older(s.tombstone.stamp), { minLength: 6, maxLength: 6 }) }))
    await fc.assert(fc.asyncProperty(scenario, async ({ s, copies }) => {
      const r = run()
      const order = [...copies]
      order.splice(s.arrivesAt, 0, s.tombstone)
      for (const [i, e] of order.entries()) {
        // The tombstone arrives while its stamp is within the bound.
        x.wallMs = e === s.tombstone ? Math.max(s.walls[i], e.stamp.wallMs - MAX_SKEW_MS) : s.walls[i]
        await deliver(x, r.keys([e]))
      }
      const [held] = state(x, r)
      assert.equal(held.present, false)
      assert.deepEqual(held.stamp, s.tombstone.stamp)
    }), RUNS)
  })

  test('a tombstone from beyond the bound counts as made at the bound: a copy stamped at the bound with a higher counter wins', async () => {
    const r = run()
    x.wallMs = WALL_MS
    const copy: Entry = { key: 'k', value: 'v', present: true, stamp: { wallMs: BOUND, counter: 5, nodeId: 'n1' } }
    const tombstone: Entry = { key: 'k', value: '', present: false, stamp: { wallMs: BOUND + 1, counter: 0, nodeId: 'n1' } }
    await deliver(x, r.keys([tombstone]))
    await deliver(x, r.keys([copy]))
    assert.deepEqual(state(x, r), r.keys([copy]))
  })

  test('equal stamps with different content resolve the same way whatever the order; a tombstone\'s value does not count', async () => {
    x.wallMs = WALL_MS
    const stamp: Stamp = { wallMs: BOUND - 1, counter: 1, nodeId: 'n2' }
    const variants: Entry[] = [
      { key: 'k', value: 'x', present: true, stamp },
      { key: 'k', value: 'y', present: true, stamp },
      { key: 'k', value: 'x', present: false, stamp },
      { key: 'k', value: '', present: false, stamp }
    ]
    for (const order of [variants, [...variants].reverse(), [variants[2], variants[0], variants[3], variants[1]]]) {
      const r = run()
      for (const e of order) await deliver(x, r.keys([e]))
      assert.deepEqual(state(x, r), r.keys([variants[1]]), `arrival order ${JSON.stringify(order)}`)
    }
    for (const [first, second] of [[variants[2], variants[3]], [variants[3], variants[2]]]) {
      const r = run()
      await deliver(x, r.keys([first]))
      assert.deepEqual(await deliver(x, r.keys([second])), [], `${JSON.stringify(second)} after ${JSON.stringify(first)}: the same tombstone`)
    }
  })
})

describe('ListReplica.clampFuture keeps replicas agreeing', () => {
  const [x, y] = nodes(2)

  test('replicas that merged the same entries far ahead of the bound agree after both lower them, and only stamps change', async () => {
    await fc.assert(fc.asyncProperty(historyArb, async (h) => {
      const r = run()
      for (const node of [x, y]) node.wallMs = WALL_MS + 100
      await deliver(x, r.keys(h))
      for (const e of r.keys(h).reverse()) await deliver(y, [e])
      const merged = state(x, r)
      const bound = WALL_MS - 5 + MAX_SKEW_MS
      for (const node of [x, y]) {
        node.wallMs = WALL_MS - 5
        await node.replica.clampFuture()
        assert.equal(await node.replica.clampFuture(), 0, 'a second call has nothing to lower')
      }
      const lowered = state(x, r)
      assert.deepEqual(state(y, r), lowered)
      assert.deepEqual(lowered, merged.map(e => ({ ...e, stamp: clampStamp(e.stamp, bound, 0) })), 'stamps lowered to the bound; values, presence, counters and node ids kept')
    }), RUNS)
  })
})
