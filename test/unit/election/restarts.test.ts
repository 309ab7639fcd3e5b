/** Election state machine: restarts, pauses, bad beacons and bad options. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BUSY_MASTER_INTERVALS, ElectionNotStartedError, MAX_TERM, MAX_TERM_STEP, type Role } from '../../../src/election/state.js'
import { ConfigError } from '../../../src/errors.js'
import { INTERVAL, WINDOW, Network, agreed, lone, beacon } from '../../helpers/election-sim.js'

describe('election across restarts, pauses and bad input', () => {
  it('a node restarted while connected that hears no beacon for a while waits, then follows the master in its term', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    net.kill('b')
    net.restart('b')
    const b = net.get('b')
    b.deaf = true
    net.run((BUSY_MASTER_INTERVALS - 2) * INTERVAL, () => { assert.deepEqual(net.masters(), ['a']) })
    assert.deepEqual([b.election.role, b.election.term], ['candidate', 1])
    b.deaf = false
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
  })

  it('a node that starts with no connection takes the startup wait only', () => {
    const net = new Network()
    net.add({ id: 'a' })
    net.partition(['a'], ['z'])
    net.add({ id: 'z' })
    net.run(WINDOW + INTERVAL)
    assert.deepEqual(net.masters(), ['a', 'z'])
  })

  it('a restarted node with a newer persisted term keeps it and does not depose the master', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    net.add({ id: 'c', term: 7 })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 7 })
    assert.deepEqual(net.get('a').changes.map(c => c.role), ['master', 'master'])
    assert.deepEqual(net.get('c').persisted, [])
  })

  it('a restarted master comes back at its persisted term or later, never earlier', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    net.kill('a')
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    net.kill('b')
    net.restart('a')
    assert.equal(net.get('a').election.term, 1)
    net.restart('b')
    assert.equal(net.get('b').election.term, 2)
    net.run(10 * INTERVAL)
    const { masterId, term } = agreed(net)
    assert.equal(masterId, 'a')
    assert.ok(term >= 3)
  })

  it('counts beacons of an older term for liveness but does not follow them', () => {
    const { election, clock } = lone({ term: 5 })
    election.start()
    election.receive(beacon({ nodeId: 'x', role: 'master', term: 3, masterId: 'x' }))
    assert.equal(election.role, 'candidate')
    assert.equal(election.masterId, null)
    assert.deepEqual(election.members().map(m => [m.nodeId, m.live]), [['x', true]])
    clock.now = WINDOW
    assert.deepEqual(election.members().map(m => [m.nodeId, m.live]), [['x', false]])
  })

  it('ignores its own beacons and malformed ones', () => {
    const { election } = lone()
    election.start()
    election.receive(beacon({ nodeId: 'self', role: 'master', term: 9, masterId: 'self' }))
    election.receive(beacon({ nodeId: 'y', role: 'master', term: -1, masterId: 'y' }))
    election.receive({ ...beacon({ nodeId: 'y', role: 'master', term: 4 }), role: 'king' as Role })
    assert.equal(election.term, 0)
    assert.deepEqual(election.members(), [])
  })

  it('refuses tick() before start()', () => {
    const { election } = lone()
    assert.throws(() => { election.tick() }, ElectionNotStartedError)
  })

  it('refuses bad options with a ConfigError', () => {
    assert.throws(() => lone({ term: -1 }), ConfigError)
    assert.throws(() => lone({ heartbeatIntervalMs: 0 }), ConfigError)
    assert.throws(() => lone({ missedHeartbeats: 0.5 }), ConfigError)
    assert.throws(() => lone({ nodeId: '' }), ConfigError)
  })


  it('drops a beacon whose term lies more than MAX_TERM_STEP beyond its own or past MAX_TERM, and keeps running', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    const settled = agreed(net)
    for (const term of [2 ** 53 - 1, MAX_TERM, settled.term + MAX_TERM_STEP + 1]) {
      for (const node of net.alive()) node.election.receive(beacon({ nodeId: 'evil', role: 'master', term, masterId: 'evil', pin: 'master' }))
    }
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), settled)
    assert.ok(net.alive().every(n => n.election.members().every(m => m.nodeId !== 'evil')))
  })

  it('follows a term up to MAX_TERM_STEP ahead, and stops raising the term at MAX_TERM', () => {
    const { election, clock } = lone({ term: MAX_TERM - 1 })
    election.start()
    election.receive(beacon({ nodeId: 'x', role: 'master', term: MAX_TERM, masterId: 'x' }))
    assert.deepEqual([election.role, election.masterId, election.term], ['slave', 'x', MAX_TERM])
    // x goes silent: at the cap the node takes the master role in the same term instead of a new one.
    for (let t = 1; t <= 8; t++) {
      clock.now = t * INTERVAL
      election.tick()
    }
    assert.deepEqual([election.role, election.term], ['master', MAX_TERM])
    assert.throws(() => lone({ term: MAX_TERM + 1 }), ConfigError)
  })


  it('a slave paused longer than the liveness window does not depose a live master', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    const { masterId, term } = agreed(net)
    const paused = net.get(masterId === 'c' ? 'b' : 'c')
    paused.alive = false
    net.run(5 * INTERVAL)
    paused.alive = true
    paused.nextTick = net.now
    net.run(5 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId, term })
  })

  it('a master paused longer than the liveness window is replaced, and follows when it wakes', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    const before = agreed(net)
    const master = net.get(before.masterId)
    master.alive = false
    net.run(6 * INTERVAL)
    master.alive = true
    master.nextTick = net.now
    net.run(10 * INTERVAL)
    assert.equal(net.masters().length, 1)
    assert.ok(agreed(net).term > before.term)
  })
})
