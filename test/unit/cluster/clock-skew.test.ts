import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ClockSkewMonitor } from '../../../src/cluster/clock-skew.js'
import { ClusterClock } from '../../../src/crdt/cluster-clock.js'

function monitor (clockMoved: () => Promise<void> = async () => {}): { m: ClockSkewMonitor, warned: string[], moved: { n: number }, reported: string[], wall: { now: number } } {
  const wall = { now: 1_000_000 }
  const warned: string[] = []
  const reported: string[] = []
  const moved = { n: 0 }
  const m = new ClockSkewMonitor({
    selfId: 'me',
    clock: new ClusterClock(() => wall.now),
    warnMs: 500,
    nameOf: (id) => `mx-${id}`,
    log: { warn: (_fields: unknown, msg?: string) => { warned.push(msg ?? '') } },
    clockMoved: async () => { moved.n++; await clockMoved() },
    report: (what) => { reported.push(what) }
  })
  return { m, warned, moved, reported, wall }
}

test('no master heard: no offset of its own', () => {
  assert.equal(monitor().m.ownOffsetMs, null)
})

test('the master\'s clock sets this node\'s offset and moves cluster time', () => {
  const { m, moved } = monitor()
  m.heardMaster(1_000_200)
  assert.equal(m.ownOffsetMs, -200)
  assert.equal(m.offsetOf('me'), -200)
  assert.equal(moved.n, 1)
})

test('leading makes the offset 0', () => {
  const { m, moved } = monitor()
  m.lead()
  assert.equal(m.ownOffsetMs, 0)
  assert.equal(moved.n, 1)
})

test('a peer beyond the bound is warned about once, by name', () => {
  const { m, warned } = monitor()
  m.lead()
  m.heardPeer('p', 1_002_000)
  m.heardPeer('p', 1_002_000)
  assert.equal(m.offsetOf('p'), 2000)
  assert.equal(warned.length, 1)
  assert.match(warned[0], /^node mx-p's clock is 2000 ms off/)
})

test('a failed clock move goes to the error log', async () => {
  const { m, reported } = monitor(async () => { throw new Error('store closed') })
  m.lead()
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(reported, ['clock skew'])
})
