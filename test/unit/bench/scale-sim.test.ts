/**
 * The scale simulation (bench/scale-sim.ts) on a small cluster: the same seed gives the same
 * run, and what it counts is what the code does (the master's beacon reaches each of the n - 1
 * others once per heartbeat, the master sending RELAY_FAN_OUT copies and the relay tree the rest,
 * or the master all of them without the relay; a slave one every beacon period; the master sends at most
 * FULL_SENDS_AT_ONCE full archives; a member back after a silence is introduced by the master).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { simulate } from '../../../bench/scale-sim.js'
import { EventQueue } from '../../../bench/sim/events.js'
import { DEFAULT_COSTS } from '../../../bench/sim/model.js'
import { SimCluster } from '../../../bench/sim/cluster.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS, beaconPeriod } from '../../../src/election/state.js'
import { FULL_SENDS_AT_ONCE } from '../../../src/sync/fan-out.js'
import { RELAY_FAN_OUT } from '../../../src/election/relay-tree.js'

describe('EventQueue', () => {
  test('runs events in time order, and those of one instant in the order they were queued', async () => {
    const q = new EventQueue()
    const seen: string[] = []
    q.at(5, () => { seen.push('b1') })
    q.at(1, () => { seen.push('a') })
    q.at(5, () => { seen.push('b2') })
    q.at(3, () => { q.after(2, () => { seen.push('b3') }) })
    await q.runUntil(10)
    assert.deepEqual(seen, ['a', 'b1', 'b2', 'b3'])
    assert.equal(q.now, 10)
  })
})

describe('scale simulation, 10 nodes', () => {
  const N = 10

  test('the same seed gives the same run', async () => {
    const a = await simulate(N, { seed: 7, trials: 3 })
    const b = await simulate(N, { seed: 7, trials: 3 })
    const { wallMs: _a, ...ra } = a
    const { wallMs: _b, ...rb } = b
    assert.deepEqual(ra, rb)
    const c = await simulate(N, { seed: 8, trials: 3 })
    assert.notDeepEqual(c.failover, a.failover, 'another seed gives another run')
  })

  test('counts what the code sends and does', async () => {
    const r = await simulate(N, { seed: 3, trials: 4 })
    // The master's beacon reaches every other node each heartbeat, a slave's every beacon period; nothing else while the cluster is steady.
    // A heartbeat every 1.5 s (election-v1.md, "Timing constants"): two thirds of the frames of 1 s.
    const perS = 1 / 1.5
    // (The figure is rounded to 0.1.)
    const frames = ((N - 1) * perS + (N - 1) * (N - 1) * perS / beaconPeriod(N)) / N
    assert.ok(Math.abs(r.beacon.framesPerNodePerS - frames) <= 0.06, `${r.beacon.framesPerNodePerS} frames per node per s, ${frames} expected`)
    assert.ok(Math.abs(r.beacon.bytesPerNodePerS - r.beacon.framesPerNodePerS * r.beacon.frameBytes) <= 0.05 * r.beacon.frameBytes + N, `${r.beacon.bytesPerNodePerS} B/s`)
    // The master itself sends RELAY_FAN_OUT signed copies (each above the mean frame), the relay tree the rest.
    const master = r.beacon.masterBytesPerS ?? 0
    assert.ok(master >= RELAY_FAN_OUT * perS * r.beacon.frameBytes && master < (RELAY_FAN_OUT + 1) * perS * r.beacon.frameBytes, `master ${master} B/s`)
    assert.equal(r.errors, 0)
    // Every change reaches every node, no sooner than the debounce, scan and apply on the way.
    assert.equal(r.change.timeouts, 0)
    assert.equal(r.change.allMs.length, 4)
    assert.deepEqual(r.change.origins, ['master', 'slave', 'slave', 'slave'])
    for (const ms of r.change.allMs) assert.ok(ms >= DEFAULT_COSTS.debounceMs + DEFAULT_COSTS.scanMs + DEFAULT_COSTS.applyDeltaMs, `${ms} ms`)
    // A dead master is replaced after the survivors miss its beacons for a liveness window.
    const window = DEFAULT_MISSED_HEARTBEATS * DEFAULT_HEARTBEAT_INTERVAL_MS
    const f = r.failover
    assert.ok(f.electedMs !== null && f.electedMs >= window - DEFAULT_HEARTBEAT_INTERVAL_MS && f.electedMs <= window + 2 * DEFAULT_HEARTBEAT_INTERVAL_MS, `elected after ${f.electedMs} ms`)
    // The new term's full archive reaches each of the N - 2 other survivors once, at most FULL_SENDS_AT_ONCE from the master.
    assert.ok(f.allAppliedMs !== null && f.allAppliedMs > f.electedMs)
    assert.ok(f.masterArchives >= 1 && f.masterArchives <= FULL_SENDS_AT_ONCE, `master sent ${f.masterArchives}`)
    assert.equal(f.masterArchives + f.peerArchives, N - 2)
    assert.equal(f.masterEgressBytes, f.masterArchives * f.archiveBytes)
    assert.equal(f.fullUploads, N - 2)
    // The killed master, back: the master introduces it to the N - 2 others, each slave to the
    // master alone; it introduces only the members it hears before it follows the master (beacon-router.ts).
    assert.ok(r.rejoin.followsMs !== null && r.rejoin.followsMs <= 2 * DEFAULT_HEARTBEAT_INTERVAL_MS, `follows after ${r.rejoin.followsMs} ms`)
    assert.equal(r.rejoin.introFramesPerOther, Math.round((N - 2 + N - 2) / (N - 1) * 10) / 10)
    assert.ok(r.rejoin.introFrames % (N - 2) === 0 && r.rejoin.introFrames <= 3 * (N - 2), `${r.rejoin.introFrames} introductions`)
  })

  test('without the relay the master beacons each other node itself', async () => {
    const r = await simulate(N, { seed: 3, trials: 1, sim: { relay: false } })
    assert.ok(r.beacon.masterBytesPerS !== null && r.beacon.masterBytesPerS >= (N - 1) * r.beacon.frameBytes * 0.9 * 1000 / DEFAULT_HEARTBEAT_INTERVAL_MS, `master ${r.beacon.masterBytesPerS} B/s`)
  })

  test('without fan-out the master sends every survivor the archive itself', async () => {
    const r = await simulate(N, { seed: 3, trials: 1, fanOut: false })
    assert.equal(r.failover.masterArchives, N - 2)
    assert.equal(r.failover.peerArchives, 0)
  })

  test('a link dead but open (frames lost, the connection still open) changes neither master nor term; the master counts the slave behind it gone after its beacon period times W', async () => {
    // What the agent relies on instead of libp2p's keep-alive ping (src/net/libp2p-node.ts, CONNECTION_MONITOR).
    const c = new SimCluster({ nodes: N, seed: 5 })
    assert.notEqual(await c.until(() => c.agreedMaster() !== null, 60_000), null)
    await c.runFor(60_000)
    const master = c.agreedMaster()
    assert.ok(master !== null)
    const term = master.election.term
    const [slave, other] = c.nodes.filter(n => n !== master)
    for (const [a, b] of [[master, slave], [slave, other]]) {
      a.deafTo.add(b.index)
      b.deafTo.add(a.index)
    }
    const live = (): boolean | undefined => master.election.members().find(m => m.nodeId === slave.id)?.live
    const window = DEFAULT_MISSED_HEARTBEATS * DEFAULT_HEARTBEAT_INTERVAL_MS
    const periodMs = beaconPeriod(N) * window
    // The slave's last beacon the master heard came at most one beacon period before the cut.
    await c.runFor(periodMs - beaconPeriod(N) * DEFAULT_HEARTBEAT_INTERVAL_MS - DEFAULT_HEARTBEAT_INTERVAL_MS)
    assert.equal(live(), true)
    await c.runFor(beaconPeriod(N) * DEFAULT_HEARTBEAT_INTERVAL_MS + 2 * DEFAULT_HEARTBEAT_INTERVAL_MS)
    assert.equal(live(), false)
    // Ten minutes on: one master and one term all along, and the slave still takes its master's beats through the tree.
    const split = await c.until(() => c.agreedMaster() !== master || master.election.term !== term, 10 * 60_000)
    assert.equal(split, null)
    assert.equal(slave.election.masterId, master.id)
    assert.ok(c.queue.now - slave.lastDirect[master.index] <= window, `last beat ${c.queue.now - slave.lastDirect[master.index]} ms ago`)
  })
})
