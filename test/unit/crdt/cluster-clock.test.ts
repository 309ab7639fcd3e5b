import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ClockSkews, ClusterClock } from '../../../src/crdt/cluster-clock.js'

const MINUTE = 60 * 1000

describe('ClusterClock', () => {
  test('runs on the local clock with no offset until a master\'s clock is heard', () => {
    const clock = new ClusterClock(() => 1000)
    assert.equal(clock.now(), 1000)
    assert.equal(clock.offsetMs, null)
  })

  test('runs on the master\'s clock once a master beacon was heard', () => {
    let local = 10 * MINUTE
    const clock = new ClusterClock(() => local)
    clock.heardMaster(0)
    assert.equal(clock.offsetMs, -10 * MINUTE)
    local += 1000
    assert.equal(clock.now(), 1000, 'cluster time moves with the local clock, offset kept')
    assert.equal(clock.local(), 10 * MINUTE + 1000, 'the local clock is unchanged')
  })

  test('takes the latest master beacon\'s offset, also from a new master', () => {
    const clock = new ClusterClock(() => 0)
    clock.heardMaster(10 * MINUTE)
    clock.heardMaster(2000)
    assert.equal(clock.now(), 2000)
  })

  test('runs on its own clock when this node leads', () => {
    const clock = new ClusterClock(() => 5000)
    clock.heardMaster(0)
    clock.lead()
    assert.equal(clock.offsetMs, 0)
    assert.equal(clock.now(), 5000)
  })

  test('tells how far a peer\'s clock is ahead of cluster time', () => {
    const clock = new ClusterClock(() => 10 * MINUTE)
    clock.heardMaster(0)
    assert.equal(clock.peerAhead(10 * MINUTE), 10 * MINUTE)
    assert.equal(clock.peerAhead(-MINUTE), -MINUTE)
  })
})

describe('ClockSkews', () => {
  test('says to warn once when a node goes beyond the threshold, and again only after it came back', () => {
    const skews = new ClockSkews(MINUTE)
    assert.equal(skews.record('a', MINUTE), false, 'exactly at the threshold is fine')
    assert.equal(skews.record('a', 10 * MINUTE), true)
    assert.equal(skews.record('a', 10 * MINUTE), false, 'no second warning for the same skew')
    assert.equal(skews.record('a', 0), false)
    assert.equal(skews.record('a', -2 * MINUTE), true, 'a clock behind counts too')
  })

  test('keeps the last distance per node, null for a node never heard', () => {
    const skews = new ClockSkews(MINUTE)
    skews.record('a', 5)
    skews.record('a', 7)
    assert.equal(skews.get('a'), 7)
    assert.equal(skews.get('b'), null)
  })
})
