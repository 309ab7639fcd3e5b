/**
 * The CRDT laws on ListReplica.merge, the merge production runs, on a real store. The replica
 * hands each delivery to mergeEntries (src/crdt/lww-set.ts), whose laws are set out and proven
 * in test/unit/crdt/lww-set.test.ts; here they are proven again through the replica's staging,
 * change numbering and store, with lseq and synced (this node's bookkeeping, not shared state)
 * left out of the state compared. Also here: the merged state survives a restart, and
 * clampFuture (lowering stored stamps when the bound falls) keeps replicas agreeing.
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
import { BOUND, historyArb, MAX_SKEW_MS, olderArb, redeliveryArb, sharedState, stampArb, WALL_MS } from '../../helpers/list-entries.js'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'

const RUNS = { numRuns: 100 }
const WL = 'whitelist'

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

/** The shared state of the keys of `r` (every key when undefined), sorted by key. */
function state (node: Node, r?: Run): Entry[] {
  return sharedState([...node.replica.entries(WL)].filter(e => r === undefined || r.owns(e.key)))
}

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
    await fc.assert(fc.asyncProperty(redeliveryArb, async ({ h, batches }) => {
      const r = run()
      for (const e of h) await deliver(x, r.keys([e]))
      for (const batch of batches) await deliver(y, r.keys(batch))
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
    const scenario = fc.record({
      tombstone: stampArb.map(stamp => ({ key: 'k', value: 'gone', present: false, stamp })),
      arrivesAt: fc.nat({ max: 6 }),
      // The wall clock at each delivery: it may move either way, the bound with it.
      walls: fc.array(fc.integer({ min: WALL_MS - 5, max: WALL_MS + 5 }), { minLength: 7, maxLength: 7 })
    }).chain(s => fc.record({ s: fc.constant(s), copies: fc.array(olderArb(s.tombstone.stamp), { minLength: 6, maxLength: 6 }) }))
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
