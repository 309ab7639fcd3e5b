/**
 * The CRDT laws of mergeEntries, the one merge of list entries (ListReplica.merge runs it; the
 * same laws on the replica around it: test/unit/replica/list-replica-laws.test.ts).
 *
 * What holds, precisely. The state of a key is its entry (key, value, presence, stamp). A merge
 * first clamps each incoming stamp to the bound B = wall clock + maxSkewMs (wallMs lowered to B,
 * counter and node id kept) and clears a tombstone's value, then keeps, per key, the greatest
 * entry by (stamp, presence, value). So:
 * - With B fixed, merging is a join of the clamped deliveries: the state is the same whatever
 *   the order, grouping and duplication of the deliveries (commutative, associative,
 *   idempotent), for any stamps, also those beyond B; and no stored stamp is beyond B.
 * - A tombstone that was within the bound when it arrived is never undone by an older copy,
 *   however the bound moves between merges: clamping only ever lowers the copy.
 * - A stamp beyond the bound counts as made at the bound, so two states of a key both stamped
 *   beyond it keep no order between them. When B moves between deliveries, the join laws hold
 *   only for stamps within every bound used: a stamp from beyond the bound is worth more the
 *   later it arrives. That is the price of a fast clock not winning forever.
 *
 * The states live in a Map here; the holder only stores what mergeEntries puts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { clampStamp, compareStamps, HybridClock, type Stamp } from '../../../src/crdt/hlc.js'
import { mergeEntries, type Entry, type EntryStates } from '../../../src/crdt/lww-set.js'
import { BOUND, byTime, entryArb, historyArb, MAX_SKEW_MS, olderArb, redeliveryArb, sharedState, stampArb, WALL_MS } from '../../helpers/list-entries.js'

const RUNS = { numRuns: 1000 }

/** One node's states of the list entries, in a Map, merged on a clock whose wall the test sets. */
class Holder implements EntryStates<Entry> {
  readonly map = new Map<string, Entry>()
  /** Every entry mergeEntries built, in order. */
  readonly made: Entry[] = []
  wallMs = WALL_MS
  readonly clock = new HybridClock('local', () => this.wallMs, MAX_SKEW_MS)

  get (key: string): Entry | undefined {
    return this.map.get(key)
  }

  put (entry: Entry): void {
    this.map.set(entry.key, entry)
  }

  /** Merges `entries` as one delivery; returns how many entries mergeEntries put. */
  deliver (entries: Iterable<Entry>): number {
    return mergeEntries(this, entries, this.clock, (key, value, present, stamp) => {
      const e = { key, value, present, stamp }
      this.made.push(e)
      return e
    })
  }

  get state (): Entry[] {
    return sharedState(this.map.values())
  }
}

/** The order mergeEntries keeps, written out: stamp, then a present entry over a tombstone, then the greater value. */
const byContent = (x: Entry, y: Entry): number =>
  byTime(x.stamp, y.stamp) || Number(x.present) - Number(y.present) || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0)

describe('mergeEntries keeps, per key, the greatest delivery', () => {
  test('the state of each key is its greatest delivery, stamp clamped to the bound and a tombstone\'s value cleared', () => {
    fc.assert(fc.property(historyArb, (h) => {
      const x = new Holder()
      x.deliver(h)
      const expected = new Map<string, Entry>()
      for (const d of h) {
        const e = { key: d.key, value: d.present ? d.value : '', present: d.present, stamp: clampStamp(d.stamp, BOUND, 0) }
        const held = expected.get(d.key)
        if (held === undefined || byContent(e, held) > 0) expected.set(d.key, e)
      }
      assert.deepEqual(x.state, sharedState(expected.values()))
    }), RUNS)
  })

  test('builds and puts only the entries that win, in arrival order, and counts them', () => {
    fc.assert(fc.property(historyArb, historyArb, (ha, hb) => {
      const x = new Holder()
      x.deliver(ha)
      const before = new Map(x.map)
      const made = x.made.length
      const put = x.deliver(hb)
      const built = x.made.slice(made)
      assert.equal(put, built.length)
      for (const e of built) assert.ok(before.get(e.key) === undefined || byContent(e, before.get(e.key)!) > 0, `${JSON.stringify(e)} won`)
      for (const [key, e] of x.map) if (!built.includes(e)) assert.equal(e, before.get(key), `${key} kept as it was`)
    }), RUNS)
  })

  test('later local stamps sort after every stamp merged', () => {
    fc.assert(fc.property(historyArb, (h) => {
      const x = new Holder()
      x.deliver(h)
      const local = x.clock.now()
      for (const e of x.map.values()) assert.ok(compareStamps(local, e.stamp) > 0)
    }), RUNS)
  })
})

describe('mergeEntries is a join (the clamp bound fixed)', () => {
  test('is commutative: a then b and b then a reach the same state', () => {
    fc.assert(fc.property(historyArb, historyArb, (ha, hb) => {
      const x = new Holder()
      const y = new Holder()
      x.deliver(ha)
      x.deliver(hb)
      y.deliver(hb)
      y.deliver(ha)
      assert.deepEqual(x.state, y.state)
    }), RUNS)
  })

  test('is associative: (a merged with b) merged with c equals a merged with (b merged with c)', () => {
    fc.assert(fc.property(historyArb, historyArb, historyArb, (ha, hb, hc) => {
      const [a, b, c, ab, bc, abc] = Array.from({ length: 6 }, () => new Holder())
      a.deliver(ha)
      b.deliver(hb)
      c.deliver(hc)
      ab.deliver(a.state)
      ab.deliver(b.state)
      ab.deliver(c.state)
      bc.deliver(b.state)
      bc.deliver(c.state)
      abc.deliver(a.state)
      abc.deliver(bc.state)
      assert.deepEqual(ab.state, abc.state)
    }), RUNS)
  })

  test('is idempotent: a state merged into itself, or a delivery merged again, puts nothing', () => {
    fc.assert(fc.property(historyArb, historyArb, (ha, hb) => {
      const x = new Holder()
      x.deliver(ha)
      x.deliver(hb)
      const merged = x.state
      assert.equal(x.deliver(merged), 0, 'itself')
      assert.equal(x.deliver(hb), 0, 'the last delivery again')
      assert.equal(x.deliver(ha), 0, 'an earlier delivery again')
      assert.deepEqual(x.state, merged)
    }), RUNS)
  })

  test('reaches the same state whatever the order, grouping and duplication of the deliveries', () => {
    fc.assert(fc.property(redeliveryArb, ({ h, batches }) => {
      const x = new Holder()
      const y = new Holder()
      for (const e of h) x.deliver([e])
      for (const batch of batches) y.deliver(batch)
      assert.deepEqual(y.state, x.state)
    }), RUNS)
  })
})

describe('mergeEntries clamps stamps from the future', () => {
  test('stores no stamp beyond the bound, and each state as some delivery of its key with the stamp clamped', () => {
    fc.assert(fc.property(historyArb, (h) => {
      const x = new Holder()
      x.deliver(h)
      for (const e of x.state) {
        assert.ok(e.stamp.wallMs <= BOUND)
        assert.ok(h.some(d => d.key === e.key && d.present === e.present && (d.present ? d.value : '') === e.value &&
          compareStamps(clampStamp(d.stamp, BOUND, 0), e.stamp) === 0), `${JSON.stringify(e)} was delivered`)
      }
    }), RUNS)
  })

  test('a stamp from beyond the bound counts as made at the bound: a copy stamped at the bound with a higher counter wins', () => {
    const x = new Holder()
    const copy: Entry = { key: 'k', value: 'v', present: true, stamp: { wallMs: BOUND, counter: 5, nodeId: 'n1' } }
    x.deliver([{ key: 'k', value: '', present: false, stamp: { wallMs: BOUND + 1, counter: 0, nodeId: 'n1' } }])
    assert.equal(x.deliver([copy]), 1)
    assert.deepEqual(x.state, [copy])
  })

  test('the bound follows the wall clock: a stamp within it when it arrives is kept as it is', () => {
    const x = new Holder()
    const stamp: Stamp = { wallMs: BOUND + 50, counter: 1, nodeId: 'n2' }
    x.wallMs = WALL_MS + 50
    x.deliver([{ key: 'k', value: 'v', present: true, stamp }])
    assert.deepEqual(x.state, [{ key: 'k', value: 'v', present: true, stamp }])
  })
})

describe('mergeEntries keeps deletes', () => {
  test('a tombstone within the bound when it arrives is never undone by older copies, whenever they arrive and wherever the bound is', () => {
    const scenario = fc.record({
      tombstone: stampArb.map(stamp => ({ key: 'k', value: 'gone', present: false, stamp })),
      arrivesAt: fc.nat({ max: 6 }),
      // The wall clock at each delivery: it may move either way, the bound with it.
      walls: fc.array(fc.integer({ min: WALL_MS - 5, max: WALL_MS + 5 }), { minLength: 7, maxLength: 7 })
    }).chain(s => fc.record({ s: fc.constant(s), copies: fc.array(olderArb(s.tombstone.stamp), { minLength: 6, maxLength: 6 }) }))
    fc.assert(fc.property(scenario, ({ s, copies }) => {
      const x = new Holder()
      const order = [...copies]
      order.splice(s.arrivesAt, 0, s.tombstone)
      for (const [i, e] of order.entries()) {
        // The tombstone arrives while its stamp is within the bound.
        x.wallMs = e === s.tombstone ? Math.max(s.walls[i], e.stamp.wallMs - MAX_SKEW_MS) : s.walls[i]
        x.deliver([e])
      }
      assert.deepEqual(x.state, [{ key: 'k', value: '', present: false, stamp: s.tombstone.stamp }])
    }), RUNS)
  })

  test('a tombstone is stored without the value it carried, so copies of one delete are one state', () => {
    fc.assert(fc.property(entryArb, fc.constantFrom('', 'x', 'y'), (e, other) => {
      const x = new Holder()
      const tombstone = { ...e, present: false }
      x.deliver([tombstone])
      assert.equal(x.state[0].value, '')
      assert.equal(x.deliver([{ ...tombstone, value: other }]), 0)
    }), RUNS)
  })

  test('equal stamps with different content resolve the same way whatever the order: present over a tombstone, then the greater value', () => {
    const stamp: Stamp = { wallMs: BOUND - 1, counter: 1, nodeId: 'n2' }
    const variants: Entry[] = [
      { key: 'k', value: 'x', present: true, stamp },
      { key: 'k', value: 'y', present: true, stamp },
      { key: 'k', value: 'x', present: false, stamp },
      { key: 'k', value: '', present: false, stamp }
    ]
    fc.assert(fc.property(fc.shuffledSubarray(variants, { minLength: 4, maxLength: 4 }), (order) => {
      const x = new Holder()
      for (const e of order) x.deliver([e])
      assert.deepEqual(x.state, [variants[1]])
    }), { numRuns: 50 })
  })
})
