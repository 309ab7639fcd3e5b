/** The remote nodes an election has heard of, and the choices among them. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemberTable } from '../../../src/election/members.js'
import { beacon } from '../../helpers/election-sim.js'

const WINDOW = 3000
const SELF = { nodeId: 'self', priority: 0, pin: 'auto' as const }

describe('MemberTable', () => {
  it('lists a node as live until its last beacon is a window old', () => {
    const table = new MemberTable(WINDOW)
    table.record(beacon({ nodeId: 'a' }), 0)
    assert.equal(table.views(WINDOW - 1)[0].live, true)
    assert.equal(table.views(WINDOW)[0].live, false)
  })

  it('gives the live members\' ids, in plain string order, as the views mark them live', () => {
    const table = new MemberTable(WINDOW)
    table.record(beacon({ nodeId: 'c' }), 0)
    table.record(beacon({ nodeId: 'b' }), 1000)
    table.record(beacon({ nodeId: 'a' }), 2000)
    const now = WINDOW + 500
    assert.deepEqual(table.liveIds(now), ['a', 'b'])
    assert.deepEqual(table.liveIds(now), table.views(now).filter(m => m.live).map(m => m.nodeId))
  })

  it('names as best the best-ranked live eligible node, this one included', () => {
    const table = new MemberTable(WINDOW)
    table.record(beacon({ nodeId: 'a', pin: 'slave', priority: 9 }), 0)
    table.record(beacon({ nodeId: 'b', priority: 1 }), 0)
    assert.equal(table.best(SELF, 10), 'b')
    assert.equal(table.best(SELF, WINDOW + 10), 'self')
  })

  it('names an heir only once it outranks by configuration and has been live a whole window', () => {
    const table = new MemberTable(WINDOW)
    for (let t = 0; t <= WINDOW; t += 1000) table.record(beacon({ nodeId: 'b', priority: 1 }), t)
    table.record(beacon({ nodeId: 'a' }), 0)
    assert.equal(table.heir(SELF, WINDOW - 1), null)
    assert.equal(table.heir(SELF, WINDOW), 'b')
  })

  it('moves every last-heard time forward by a pause of this node', () => {
    const table = new MemberTable(WINDOW)
    table.record(beacon({ nodeId: 'a' }), 0)
    table.shift(10_000)
    assert.equal(table.views(10_000)[0].live, true)
  })

  it('ranks an unknown node as auto with the lowest priority', () => {
    assert.deepEqual(new MemberTable(WINDOW).rankOf('x'), { nodeId: 'x', priority: -Infinity, pin: 'auto' })
  })
})
