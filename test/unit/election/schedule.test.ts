/** The beacon schedule: who publishes when, how long a quiet member stays live, and what it keeps of v1. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ALL_TO_ALL_MAX_NODES, MAX_BEACON_PERIOD, MAX_LONG_BEACON_PERIOD, MIN_SLAVE_PERIOD, beaconPeriod } from '../../../src/election/state.js'
import { INTERVAL, WINDOW, Network, agreed, beacon, lone } from '../../helpers/election-sim.js'
import type { Version } from '../../../src/version.js'

/** A cluster of `n` nodes n00, n01, ... at spread phases, settled on n00. */
function cluster (n: number): Network {
  const net = new Network()
  net.add(...Array.from({ length: n }, (_, i) => ({ id: `n${String(i).padStart(2, '0')}`, phase: (i * 37) % INTERVAL })))
  net.run(8 * INTERVAL)
  assert.equal(agreed(net).masterId, 'n00')
  return net
}

/** Beacons each node publishes over `ms`. */
function publishedOver (net: Network, ms: number): Map<string, number> {
  const before = new Map(net.alive().map(n => [n.spec.id, n.published]))
  net.run(ms)
  return new Map(net.alive().map(n => [n.spec.id, n.published - (before.get(n.spec.id) ?? 0)]))
}

describe('beacon schedule', () => {
  it('a slave beacons every heartbeat up to ALL_TO_ALL_MAX_NODES nodes, then about twice a second whatever the size but no more often than every MIN_SLAVE_PERIOD, up to MAX_BEACON_PERIOD', () => {
    assert.equal(beaconPeriod(ALL_TO_ALL_MAX_NODES), 1)
    assert.equal(beaconPeriod(ALL_TO_ALL_MAX_NODES + 1), MIN_SLAVE_PERIOD)
    assert.equal(beaconPeriod(10), MIN_SLAVE_PERIOD, 'at 10 nodes a period of 5 was 0.53-0.63% of a core per idle agent, 10 was 0.43-0.46%')
    assert.equal(beaconPeriod(81), 40)
    assert.equal(beaconPeriod(83), 41)
    assert.equal(beaconPeriod(200), 100)
    assert.equal(beaconPeriod(10_000), MAX_BEACON_PERIOD)
  })

  it('a slave whose period grows as the cluster grows past ALL_TO_ALL_MAX_NODES says so at once: no node counts it gone, and the term stays', () => {
    const net = cluster(3)
    net.add(...Array.from({ length: 7 }, (_, i) => ({ id: `m${i}`, phase: (i * 53) % INTERVAL })))
    net.run(3 * INTERVAL)
    const notLive: string[] = []
    net.run(3 * MIN_SLAVE_PERIOD * INTERVAL, () => {
      for (const n of net.alive()) {
        for (const m of n.election.members()) if (!m.live) notLive.push(`${n.spec.id} saw ${m.nodeId} gone at ${net.now}`)
      }
    })
    assert.deepEqual(notLive.slice(0, 3), [])
    assert.deepEqual(agreed(net), { masterId: 'n00', term: 1 })
  })

  it('past MAX_BEACON_PERIOD the period keeps growing with the cluster, up to MAX_LONG_BEACON_PERIOD, where every member takes long periods', () => {
    assert.equal(beaconPeriod(1000, MAX_LONG_BEACON_PERIOD), 500)
    assert.equal(beaconPeriod(100_000, MAX_LONG_BEACON_PERIOD), MAX_LONG_BEACON_PERIOD)
  })

  it('a slave of 1,000 nodes that all take long periods beacons every 500 heartbeats; one older member heard caps it at MAX_BEACON_PERIOD', () => {
    const { election, sent, clock } = lone()
    election.start()
    const hear = (older: boolean): void => {
      election.receive(beacon({ nodeId: 'm', role: 'master', term: 1, masterId: 'm', period: 1, longPeriods: true }))
      for (let i = 0; i < 998; i++) election.receive(beacon({ nodeId: `p${i}`, role: 'slave', term: 1, masterId: 'm', ...(older && i === 7 ? { period: MAX_BEACON_PERIOD } : { period: 500, longPeriods: true }) }))
    }
    hear(false)
    clock.now += INTERVAL
    election.tick()
    clock.now += INTERVAL
    election.tick()
    assert.equal(sent.at(-1)?.period, 500)
    assert.equal(sent.at(-1)?.longPeriods, true)
    hear(true)
    const k = sent.length
    for (let i = 0; i < MAX_BEACON_PERIOD; i++) {
      election.receive(beacon({ nodeId: 'm', role: 'master', term: 1, masterId: 'm', period: 1, longPeriods: true }))
      clock.now += INTERVAL
      election.tick()
    }
    assert.equal(sent.length, k + 1, 'the older member counts a slave silent past 120 windows as gone')
    assert.equal(sent.at(-1)?.period, MAX_BEACON_PERIOD)
  })

  it(`up to ${ALL_TO_ALL_MAX_NODES} nodes every node publishes every heartbeat, as in protocol v1`, () => {
    const net = cluster(ALL_TO_ALL_MAX_NODES)
    for (const [id, k] of publishedOver(net, 20 * INTERVAL)) assert.equal(k, 20, id)
  })

  it('in a 10-node cluster the master publishes every heartbeat and a slave every beacon period', () => {
    const net = cluster(10)
    const beats = beaconPeriod(10)
    for (const [id, k] of publishedOver(net, beats * INTERVAL)) assert.equal(k, id === 'n00' ? beats : 1, id)
  })

  it('a quiet slave stays live at the others for its period times the window, and is gone at once when its connection closes', () => {
    const net = cluster(10)
    const view = (): boolean | undefined => net.get('n00').election.members().find(m => m.nodeId === 'n05')?.live
    let quietest = 0
    net.run(2 * beaconPeriod(10) * INTERVAL, () => {
      assert.equal(view(), true, `silent for ${net.now - net.get('n05').lastPublished} ms`)
      quietest = Math.max(quietest, net.now - net.get('n05').lastPublished)
    })
    assert.ok(quietest > WINDOW, `silent for at most ${quietest} ms`)
    net.kill('n05')
    assert.equal(view(), false)
  })

  it('when the master of a 10-node cluster dies, the next best is master 3 to 4 intervals after its last heartbeat and all follow it, as in v1', () => {
    const net = cluster(10)
    const lastBeat = net.get('n00').lastPublished
    net.kill('n00')
    let electedAt = -1
    net.run(6 * INTERVAL, () => {
      if (electedAt < 0 && net.masters().length > 0) electedAt = net.now
    })
    assert.ok(electedAt - lastBeat >= WINDOW && electedAt - lastBeat <= WINDOW + INTERVAL, `elected ${electedAt - lastBeat} ms after the last heartbeat`)
    assert.deepEqual(agreed(net), { masterId: 'n01', term: 2 })
  })

  it('a slave publishes at once when its applied version changes, between two periodic beacons', () => {
    let applied: Version = { term: 1, seq: 1 }
    const { election, sent, clock } = lone({ appliedVersion: () => applied, version: () => applied })
    election.start()
    for (let i = 0; i < 9; i++) election.receive(beacon({ nodeId: `p${i}`, role: 'slave', term: 1, masterId: 'm', period: 5 }))
    election.receive(beacon({ nodeId: 'm', role: 'master', term: 1, masterId: 'm', period: 1 }))
    clock.now += INTERVAL
    election.tick()
    const k = sent.length
    for (const id of ['m', ...Array.from({ length: 9 }, (_, i) => `p${i}`)]) election.receive(beacon({ nodeId: id, role: id === 'm' ? 'master' : 'slave', term: 1, masterId: 'm', period: id === 'm' ? 1 : 5 }))
    clock.now += INTERVAL
    election.tick()
    assert.equal(sent.length, k, 'nothing changed: no beacon before the period is over')
    applied = { term: 1, seq: 2 }
    election.receive(beacon({ nodeId: 'm', role: 'master', term: 1, masterId: 'm', period: 1 }))
    clock.now += INTERVAL
    election.tick()
    assert.equal(sent.length, k + 1)
    assert.deepEqual(sent.at(-1)?.appliedVersion, applied)
    assert.equal(sent.at(-1)?.period, beaconPeriod(11))
  })

  it('a slave beacons every heartbeat while a live member is an agent from before the schedule (it declares no period)', () => {
    const { election, sent, clock } = lone()
    election.start()
    const hear = (): void => {
      election.receive(beacon({ nodeId: 'm', role: 'master', term: 1, masterId: 'm', period: 1 }))
      for (let i = 0; i < 8; i++) election.receive(beacon({ nodeId: `p${i}`, role: 'slave', term: 1, masterId: 'm', ...(i === 0 ? {} : { period: 5 }) }))
    }
    hear()
    const k = sent.length
    for (let i = 0; i < 4; i++) {
      hear()
      clock.now += INTERVAL
      election.tick()
    }
    assert.equal(sent.length, k + 4)
    assert.ok(sent.slice(k).every(b => b.period === 1))
  })

  it('a named master that does not answer within the window is not named again while it stays silent', () => {
    const { election, sent, clock } = lone({ transport: { publish: b => { sent.push(b) }, connected: () => true } })
    election.start()
    // 'a' outranks this node by id; it is a quiet slave (period 5) that stopped answering.
    election.receive(beacon({ nodeId: 'a', role: 'slave', term: 0, masterId: null, period: 5 }))
    for (let i = 1; i <= 3; i++) { clock.now = i * INTERVAL; election.tick() }
    assert.equal(election.role, 'candidate')
    assert.equal(election.masterId, 'a')
    for (let i = 4; i <= 6; i++) { clock.now = i * INTERVAL; election.tick() }
    assert.equal(election.role, 'master', 'the next term names the next best live node: this one')
    assert.equal(election.term, 2)
  })
})
