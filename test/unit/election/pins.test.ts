/** Election state machine: pinned roles and nodes that cannot apply. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { INTERVAL, WINDOW, Network, agreed } from '../../helpers/election-sim.js'

describe('election with pinned roles and nodes that cannot apply', () => {
  it('a pinned slave never becomes master, even with the best rank', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 9, pin: 'slave' }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.kill('b')
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'c')
    assert.ok(net.get('a').changes.every(c => c.role !== 'master'))
  })

  it('with only pinned slaves left there is no master and the term does not grow', () => {
    const net = new Network()
    net.add({ id: 'a', pin: 'slave' }, { id: 'b', pin: 'slave' }, { id: 'c' })
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'c')
    net.kill('c')
    net.run(50 * INTERVAL)
    assert.deepEqual(net.masters(), [])
    assert.equal(net.get('a').election.term, 1)
    assert.equal(net.get('a').election.role, 'candidate')
  })

  it('a pinned master stays master over better-ranked auto nodes', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 9 }, { id: 'z', pin: 'master' }, { id: 'b', priority: 5 })
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
    net.run(100 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
    assert.deepEqual(net.get('z').changes.map(c => c.role), ['master'])
  })

  it('a pinned master that joins takes over from an auto master at once, and the auto master uploads', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    net.add({ id: 'z', pin: 'master' })
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'z', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['z'])
  })

  it('two pinned masters settle on one, the better-ranked', () => {
    const net = new Network()
    net.add({ id: 'y', pin: 'master' }, { id: 'z', pin: 'master', priority: 1 }, { id: 'a', priority: 9 })
    net.partition(['y'], ['z', 'a'])
    net.run(6 * INTERVAL)
    assert.deepEqual(net.masters(), ['y', 'z'])
    net.heal()
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
  })


  it('a node that cannot apply is not named master while an able node is live', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 5, canLead: () => false }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.kill('b')
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'c')
    assert.ok(net.get('a').changes.every(c => c.role !== 'master'))
  })

  it('a master that can no longer apply hands over to an able node; alone it stays master', () => {
    let able = true
    const net = new Network()
    net.add({ id: 'a', canLead: () => able }, { id: 'b' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    able = false
    net.run(WINDOW + 2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['b'])

    const lonely = new Network()
    lonely.add({ id: 'z', canLead: () => false })
    lonely.run(10 * INTERVAL)
    assert.deepEqual(lonely.masters(), [])
    assert.equal(lonely.get('z').election.term, 0)
  })

})
