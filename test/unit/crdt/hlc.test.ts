import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { clampStamp, compareStamps, HybridClock, MAX_COUNTER, stampInBounds, type Stamp } from '../../../src/crdt/hlc.js'

const MINUTE = 60 * 1000

/** A wall clock the test moves by hand. */
function manualClock (start: number): { now: () => number, set: (ms: number) => void } {
  let ms = start
  return { now: () => ms, set: (to) => { ms = to } }
}

/** Asserts `later` sorts strictly after `earlier`. */
function assertNewer (later: Stamp, earlier: Stamp, what = 'stamp'): void {
  assert.ok(compareStamps(later, earlier) > 0,
    `${what} ${JSON.stringify(later)} should be newer than ${JSON.stringify(earlier)}`)
}

const sign = (n: number): -1 | 0 | 1 => n < 0 ? -1 : n > 0 ? 1 : 0

/** Stamps from small ranges so equal wall times, counters and node ids are common. */
const stampArb: fc.Arbitrary<Stamp> = fc.record({
  wallMs: fc.integer({ min: 0, max: 3 }),
  counter: fc.integer({ min: 0, max: 3 }),
  nodeId: fc.constantFrom('a', 'b', 'c')
}).map(s => ({ ...s }))

describe('HybridClock.now', () => {
  test('moves its wall time on by 1 ms instead of passing MAX_COUNTER, so every stamp stays exact and distinct', () => {
    const wall = manualClock(1000)
    const clock = new HybridClock('n1', wall.now)
    clock.observe({ wallMs: 1000, counter: MAX_COUNTER - 1, nodeId: 'n2' })
    assert.deepEqual(clock.now(), { wallMs: 1000, counter: MAX_COUNTER, nodeId: 'n1' })
    assert.deepEqual(clock.now(), { wallMs: 1001, counter: 0, nodeId: 'n1' })
    assert.deepEqual(clock.now(), { wallMs: 1001, counter: 1, nodeId: 'n1' })
    wall.set(1001)
    assert.deepEqual(clock.now(), { wallMs: 1001, counter: 2, nodeId: 'n1' })
  })

  test('a counter past the bound (a clock stored before it existed, or 2^53 - 1 from a peer) rolls into the next millisecond', () => {
    const persisted: Stamp = { wallMs: 1000, counter: 2 ** 53 - 1, nodeId: 'n1' }
    const restarted = new HybridClock('n1', () => 1000, MINUTE, persisted)
    const a = restarted.now()
    const b = restarted.now()
    assert.deepEqual([a, b], [{ wallMs: 1001, counter: 1, nodeId: 'n1' }, { wallMs: 1001, counter: 2, nodeId: 'n1' }])
    assertNewer(a, persisted)
    const observing = new HybridClock('n1', () => 1000)
    observing.observe({ wallMs: 1000, counter: 2 ** 53 - 1, nodeId: 'n2' })
    const c = observing.now()
    assert.ok(stampInBounds(c.wallMs, c.counter))
    assertNewer(c, { wallMs: 1000, counter: 2 ** 53 - 1, nodeId: 'n2' })
  })

  test('property: stamps stay strictly increasing and within bounds from any observed stamp', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.nat(5), (wallMs, counter, n) => {
      const clock = new HybridClock('n1', () => wallMs, 0)
      let last = clock.observe({ wallMs, counter, nodeId: 'n2' })
      for (let i = 0; i < n + 2; i++) {
        const next = clock.now()
        assertNewer(next, last)
        assert.ok(stampInBounds(next.wallMs, next.counter), JSON.stringify(next))
        last = next
      }
    }), { numRuns: 300 })
  })

  test('takes the wall time with counter 0 when the wall clock moved forward', () => {
    const wall = manualClock(1000)
    const clock = new HybridClock('n1', wall.now)
    assert.deepEqual(clock.now(), { wallMs: 1000, counter: 0, nodeId: 'n1' })
    wall.set(1500)
    assert.deepEqual(clock.now(), { wallMs: 1500, counter: 0, nodeId: 'n1' })
  })

  test('issues strictly increasing stamps while the wall clock stands still', () => {
    const clock = new HybridClock('n1', () => 1000)
    let previous = clock.now()
    for (let i = 0; i < 5; i++) {
      const next = clock.now()
      assertNewer(next, previous)
      assert.equal(next.wallMs, 1000, 'wall time does not move while the wall clock stands still')
      previous = next
    }
  })

  test('issues strictly increasing stamps when the wall clock goes backwards', () => {
    const wall = manualClock(10_000)
    const clock = new HybridClock('n1', wall.now)
    const before = clock.now()
    wall.set(4_000)
    const after = clock.now()
    assertNewer(after, before)
    assert.equal(after.wallMs, 10_000, 'a stamp never goes back to the earlier wall time')
  })

  test('issues strictly increasing stamps for any sequence of wall-clock readings', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 40 }), (readings) => {
      let i = 0
      const clock = new HybridClock('n1', () => readings[Math.min(i++, readings.length - 1)])
      let previous: Stamp | undefined
      for (let k = 0; k < readings.length; k++) {
        const next = clock.now()
        if (previous !== undefined) assertNewer(next, previous)
        previous = next
      }
    }), { numRuns: 500 })
  })

  test('continues after the persisted last stamp, so a restart never goes back in time', () => {
    const persisted: Stamp = { wallMs: 50_000, counter: 3, nodeId: 'n1' }
    const clock = new HybridClock('n1', () => 1_000, 5 * MINUTE, persisted)
    assertNewer(clock.now(), persisted)
  })
})

describe('HybridClock.observe', () => {
  test('makes later local stamps newer than a remote stamp from a faster clock', () => {
    const clock = new HybridClock('n1', () => 1000)
    clock.now()
    const remote: Stamp = { wallMs: 1000 + MINUTE, counter: 7, nodeId: 'n2' }
    clock.observe(remote)
    assertNewer(clock.now(), remote, 'the next local stamp')
  })

  test('makes later local stamps newer than a remote stamp with the same wall time and a higher counter', () => {
    const clock = new HybridClock('n1', () => 1000)
    clock.now()
    const remote: Stamp = { wallMs: 1000, counter: 9, nodeId: 'n0' }
    clock.observe(remote)
    assertNewer(clock.now(), remote, 'the next local stamp')
  })

  test('does not move the clock back when the remote stamp is older', () => {
    const clock = new HybridClock('n1', () => 5000)
    const local = clock.now()
    clock.observe({ wallMs: 10, counter: 99, nodeId: 'n2' })
    assert.deepEqual(clock.peek(), local)
    assertNewer(clock.now(), local)
  })

  test('returns a remote stamp within the skew limit unchanged', () => {
    const clock = new HybridClock('n1', () => 1000, 5 * MINUTE)
    const remote: Stamp = { wallMs: 1000 + 4 * MINUTE, counter: 2, nodeId: 'n2' }
    assert.deepEqual(clock.observe(remote), remote)
  })

  test('clamps a remote stamp further in the future than maxSkewMs to now + maxSkewMs', () => {
    const clock = new HybridClock('n1', () => 1000, 5 * MINUTE)
    const observed = clock.observe({ wallMs: 1000 + 10 * MINUTE, counter: 2, nodeId: 'n2' })
    assert.deepEqual(observed, { wallMs: 1000 + 5 * MINUTE, counter: 2, nodeId: 'n2' })
  })

  test('does not let a far-future remote stamp drag local time past now + maxSkewMs', () => {
    const clock = new HybridClock('n1', () => 1000, 5 * MINUTE)
    const observed = clock.observe({ wallMs: 1000 + 10 * MINUTE, counter: 2, nodeId: 'n2' })
    const next = clock.now()
    assertNewer(next, observed, 'the next local stamp')
    assert.equal(next.wallMs, 1000 + 5 * MINUTE)
  })

  test('keeps every local stamp newer than every stamp issued or observed before it', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('now' as const), wall: fc.integer({ min: 0, max: 10 }) }),
      fc.record({ kind: fc.constant('observe' as const), wall: fc.integer({ min: 0, max: 10 }), remote: stampArb.map(s => ({ ...s, wallMs: s.wallMs * 4 })) })
    )
    fc.assert(fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
      let wall = 0
      const clock = new HybridClock('b', () => wall, 20)
      const seen: Stamp[] = []
      for (const s of steps) {
        wall = s.wall
        if (s.kind === 'observe') {
          seen.push(clock.observe(s.remote))
        } else {
          const stamp = clock.now()
          for (const earlier of seen) assertNewer(stamp, earlier)
          seen.push(stamp)
        }
      }
    }), { numRuns: 500 })
  })
})

describe('HybridClock.rewind', () => {
  test('pulls a clock that stamped beyond the limit back to the limit, keeping its counter', () => {
    const wall = manualClock(10 * MINUTE)
    const clock = new HybridClock('n1', wall.now, 5 * MINUTE)
    clock.now()
    const ahead = clock.now()
    wall.set(0)
    clock.rewind(clock.limit(), [])
    assert.deepEqual(clock.peek(), { wallMs: 5 * MINUTE, counter: ahead.counter, nodeId: 'n1' })
  })

  test('leaves a clock within the limit as it was', () => {
    const clock = new HybridClock('n1', () => 1000, 5 * MINUTE)
    const last = clock.now()
    clock.rewind(clock.limit(), [])
    assert.deepEqual(clock.peek(), last)
  })

  test('issues the next stamp after every kept stamp, also one with a higher counter than the clock\'s', () => {
    const clock = new HybridClock('n1', () => 0, 5 * MINUTE, { wallMs: 20 * MINUTE, counter: 0, nodeId: 'n1' })
    const kept: Stamp = { wallMs: clock.limit(), counter: 7, nodeId: 'n1' }
    clock.rewind(clock.limit(), [kept])
    const next = clock.now()
    assertNewer(next, kept, 'the first stamp after the rewind')
    assert.equal(next.wallMs, 5 * MINUTE, 'the rewound clock stays at the limit')
  })
})

describe('clampStamp', () => {
  test('moves a stamp beyond now + maxSkewMs back to that limit, keeping counter and node', () => {
    assert.deepEqual(
      clampStamp({ wallMs: 20_000, counter: 4, nodeId: 'n2' }, 1_000, 5_000),
      { wallMs: 6_000, counter: 4, nodeId: 'n2' })
  })

  test('keeps a stamp exactly at the limit', () => {
    const stamp: Stamp = { wallMs: 6_000, counter: 4, nodeId: 'n2' }
    assert.deepEqual(clampStamp(stamp, 1_000, 5_000), stamp)
  })

  test('keeps a stamp in the past', () => {
    const stamp: Stamp = { wallMs: 10, counter: 1, nodeId: 'n2' }
    assert.deepEqual(clampStamp(stamp, 1_000, 5_000), stamp)
  })

  test('never returns a stamp past the limit', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }),
      (wallMs, now, skew) => {
        const clamped = clampStamp({ wallMs, counter: 0, nodeId: 'n' }, now, skew)
        assert.equal(clamped.wallMs, Math.min(wallMs, now + skew))
      }), { numRuns: 300 })
  })
})

describe('compareStamps', () => {
  test('orders by wall time first', () => {
    assert.ok(compareStamps({ wallMs: 1, counter: 9, nodeId: 'z' }, { wallMs: 2, counter: 0, nodeId: 'a' }) < 0)
  })

  test('orders by counter within one wall time', () => {
    assert.ok(compareStamps({ wallMs: 1, counter: 1, nodeId: 'z' }, { wallMs: 1, counter: 2, nodeId: 'a' }) < 0)
  })

  test('breaks ties of wall time and counter on the node id', () => {
    const a: Stamp = { wallMs: 1, counter: 1, nodeId: 'node-a' }
    const b: Stamp = { wallMs: 1, counter: 1, nodeId: 'node-b' }
    assert.ok(compareStamps(a, b) < 0)
    assert.ok(compareStamps(b, a) > 0)
  })

  test('is 0 exactly for stamps with equal fields', () => {
    fc.assert(fc.property(stampArb, stampArb, (a, b) => {
      const equal = a.wallMs === b.wallMs && a.counter === b.counter && a.nodeId === b.nodeId
      assert.equal(compareStamps(a, b) === 0, equal)
    }), { numRuns: 1000 })
  })

  test('is antisymmetric', () => {
    fc.assert(fc.property(stampArb, stampArb, (a, b) => {
      const ab = sign(compareStamps(a, b))
      const ba = sign(compareStamps(b, a))
      assert.ok(ab === -ba, `compare(a, b) = ${ab} but compare(b, a) = ${ba} for ${JSON.stringify(a)}, ${JSON.stringify(b)}`)
    }), { numRuns: 1000 })
  })

  test('is transitive', () => {
    fc.assert(fc.property(stampArb, stampArb, stampArb, (a, b, c) => {
      const ab = compareStamps(a, b)
      const bc = compareStamps(b, c)
      const ac = compareStamps(a, c)
      const show = `${JSON.stringify(a)}, ${JSON.stringify(b)}, ${JSON.stringify(c)}`
      if (ab <= 0 && bc <= 0) assert.ok(ac <= 0, `a <= b <= c but not a <= c: ${show}`)
      if (ab < 0 && bc < 0) assert.ok(ac < 0, `a < b < c but not a < c: ${show}`)
      if (ab >= 0 && bc >= 0) assert.ok(ac >= 0, `a >= b >= c but not a >= c: ${show}`)
    }), { numRuns: 1000 })
  })
})
