/** Election state machine: elections, failover, partitions and handover, on simulated clusters. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BUSY_MASTER_INTERVALS } from '../../../src/election/state.js'
import { INTERVAL, WINDOW, STEP, Network, agreed, lone } from '../../helpers/election-sim.js'

describe('election state machine', () => {
  it('a single node becomes master of term 1 after the startup wait', () => {
    const net = new Network()
    const [a] = net.add({ id: 'a' })
    net.run(WINDOW - STEP)
    assert.equal(a.election.role, 'candidate')
    net.run(INTERVAL)
    assert.equal(a.election.role, 'master')
    assert.equal(a.election.term, 1)
    assert.deepEqual(a.persisted, [1])
  })

  it('three nodes elect exactly one master, the best-ranked one', () => {
    const net = new Network()
    net.add({ id: 'c' }, { id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
  })

  it('a higher priority beats a smaller node id', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 1 }, { id: 'b', priority: 1 }, { id: 'z', priority: 5 })
    net.run(6 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
  })

  it('when the master dies the next best becomes master 3 to 4 intervals after its last heartbeat, in term + 1', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b', phase: 300 }, { id: 'c', phase: 600 })
    net.run(6 * INTERVAL + 120)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    const lastBeat = net.get('a').lastPublished
    net.kill('a')
    let electedAt = -1
    net.run(6 * INTERVAL, () => {
      if (electedAt < 0 && net.masters().length > 0) electedAt = net.now
    })
    assert.ok(electedAt - lastBeat >= WINDOW, `elected ${electedAt - lastBeat} ms after the last heartbeat`)
    assert.ok(electedAt - lastBeat <= WINDOW + INTERVAL, `elected ${electedAt - lastBeat} ms after the last heartbeat`)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
  })

  it('each node says why it entered a term: the startup wait, the silent master, or a beacon it adopted', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b', phase: 300 }, { id: 'c', phase: 600 })
    net.run(6 * INTERVAL + 120)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    const causes = (id: string): string[] => net.get(id).termStarts.map(t => `${t.term} ${t.reason.cause} ${t.reason.nodeId ?? '-'}`)
    const first = ['a', 'b', 'c'].flatMap(causes)
    assert.ok(first.some(c => c.startsWith('1 named-silent -')), `one node's startup wait ran out: ${first.join(', ')}`)
    net.kill('a')
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    const second = ['b', 'c'].flatMap(causes).filter(c => c.startsWith('2 '))
    assert.ok(second.includes('2 master-silent a'), `a node saw master a go silent: ${second.join(', ')}`)
    const silent = [net.get('b'), net.get('c')].flatMap(n => n.termStarts).find(t => t.reason.cause === 'master-silent')
    assert.ok(silent?.reason.silentMs !== undefined && silent.reason.windowMs !== undefined && silent.reason.silentMs >= silent.reason.windowMs)
  })

  it('a master that is silent but still connected (busy) keeps its role, and is followed again when it speaks', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b', phase: 300 }, { id: 'c', phase: 600 })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    net.block('a')
    net.run((BUSY_MASTER_INTERVALS - 2) * INTERVAL)
    assert.deepEqual(net.masters(), ['a'], 'no node took over while the busy master was connected')
    assert.equal(net.get('b').election.term, 1)
    net.unblock('a')
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
  })

  it('a master silent for BUSY_MASTER_INTERVALS is replaced even while its connection is open', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b', phase: 300 }, { id: 'c', phase: 600 })
    net.run(6 * INTERVAL)
    net.block('a')
    net.run((BUSY_MASTER_INTERVALS + 2) * INTERVAL)
    assert.equal(net.get('b').election.role, 'master')
    assert.equal(net.get('c').election.masterId, 'b')
    assert.equal(net.get('b').election.term, 2)
  })

  it('persists a new term before it reports, publishes or acts in it', () => {
    const { election, clock, log } = lone()
    election.start()
    for (let i = 1; i <= 3; i++) { clock.now = i * INTERVAL; election.tick() }
    assert.deepEqual(log, ['publish candidate 0', 'publish candidate 0', 'publish candidate 0',
      'persist 1', 'role master self 1', 'publish master 1'])
  })

  it('a partition {A} {B,C} gives two masters; after the heal the higher term wins and the loser uploads its full state', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    net.partition(['a'], ['b', 'c'])
    net.run(6 * INTERVAL)
    assert.deepEqual(net.masters(), ['a', 'b'])
    assert.equal(net.get('a').election.term, 1)
    assert.equal(net.get('b').election.term, 2)
    net.heal()
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['b'])
    assert.deepEqual(net.get('c').uploads, [])
  })

  it('two masters of one term after a heal: the better rank wins and the loser uploads its full state', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.partition(['a'], ['b'])
    net.run(6 * INTERVAL)
    assert.deepEqual(net.masters(), ['a', 'b'])
    net.heal()
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    assert.deepEqual(net.get('b').uploads, ['a'])
    assert.deepEqual(net.get('a').uploads, [])
  })

  it('after a heal the master of the higher term stays, though a smaller id rejoins', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    net.partition(['a'], ['b', 'c'])
    net.run(6 * INTERVAL)
    net.heal()
    net.run(WINDOW - STEP)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    net.run(20 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['b'])
  })

  it('after a heal a node of higher priority takes over in term + 1 once it has been live for the window', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 1 }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    net.partition(['a'], ['b', 'c'])
    net.run(6 * INTERVAL)
    net.heal()
    net.run(WINDOW - STEP)
    assert.equal(agreed(net).masterId, 'b')
    net.run(3 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 3 })
    assert.deepEqual(net.get('b').uploads, ['a'])
  })

  it('a node with a smaller id that joins a healthy cluster does not change its master or term', () => {
    const net = new Network()
    net.add({ id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.add({ id: 'a' })
    net.run(100 * INTERVAL, () => { assert.deepEqual(net.masters(), ['b']) })
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    assert.deepEqual(net.get('b').changes.map(c => c.role), ['master'])
  })

  it('a node of higher priority that joins takes over only after it has been live for the window', () => {
    const net = new Network()
    net.add({ id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.run(INTERVAL / 2)
    const joinedAt = net.now
    net.add({ id: 'a', priority: 1 })
    net.run(WINDOW - STEP, () => { assert.deepEqual(net.masters(), ['b']) })
    net.run(2 * INTERVAL + STEP)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 2 })
    const became = net.get('a').changes.find(c => c.role === 'master')
    assert.ok(became !== undefined && became.at - joinedAt >= WINDOW && became.at - joinedAt <= WINDOW + INTERVAL)
    assert.deepEqual(net.get('b').uploads, ['a'])
  })

  it('does not flap: with stable membership the master and term never change', () => {
    const net = new Network()
    net.add({ id: 'e', priority: 2, phase: 100 }, { id: 'd', priority: 2, phase: 400 },
      { id: 'c', priority: 1, phase: 700 }, { id: 'b', phase: 900 }, { id: 'a' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'd', term: 1 })
    const before = [...net.nodes.values()].map(n => n.changes.length)
    net.run(1000 * INTERVAL)
    assert.deepEqual([...net.nodes.values()].map(n => n.changes.length), before)
    assert.deepEqual(agreed(net), { masterId: 'd', term: 1 })
  })

})
