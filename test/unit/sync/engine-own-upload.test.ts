/**
 * An upload's own version (protocol/sync-v1.md): when the master merges a slave's delta onto
 * exactly the version it was built on, the slave takes the new version as applied without
 * fetching it; when anything else came in between, or the slave changed something since, or
 * the master does not say so, it fetches as before. On the in-process network, whose beacons
 * reach the slave while the master still merges, before the upload's answer.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'
import type { NetEvent } from '../../helpers/fake-sync-network.js'

type UploadEvent = Extract<NetEvent, { type: 'upload' }>

/** A cluster of `names` (the first one master of term 1), settled: every slave applied its first version. */
async function cluster (t: TestContext, names = ['master', 'slave']): Promise<FakeCluster> {
  const c = await FakeCluster.open(t, names)
  await c.elect(names[0], 1)
  await c.settle()
  return c
}

/** Fetches `node` made after the first `skip` events. */
const fetchesSince = (c: FakeCluster, skip: number, node: FakeNode): NetEvent[] =>
  c.network.events.slice(skip).filter(e => e.type === 'fetch' && e.from === node.nodeId)

/** Uploads from `node` that ended after the first `skip` events. */
const uploadsSince = (c: FakeCluster, skip: number, node: FakeNode): UploadEvent[] =>
  c.network.events.slice(skip).filter((e): e is UploadEvent => e.type === 'upload' && e.from === node.nodeId)

const present = (n: FakeNode, key: string): boolean => n.state.replica.get('whitelist', key)?.present === true

/** A SpamAssassin backup that learned `numSpam` messages with token `tok`. */
const backup = (numSpam: number, tok: string): string => `v\t3\tdb_version # this must be the first line!!!\nv\t${numSpam}\tnum_spam\nv\t0\tnum_nonspam\nt\t${numSpam}\t0\t1700000000\t${tok}\n`

describe('an upload merged onto exactly its base', () => {
  test('is taken as applied by the slave without a fetch', async (t) => {
    const c = await cluster(t)
    const [master, slave] = [c.node('master'), c.node('slave')]
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await c.settle()
    assert.deepEqual(uploadsSince(c, skip, slave).map(e => ({ outcome: e.outcome, onlyBase: e.onlyBase })), [{ outcome: 'ok', onlyBase: true }])
    assert.deepEqual(fetchesSince(c, skip, slave), [])
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
    assert.equal(present(master, 'friend@example.com'), true)
  })

  test('is taken as applied for a change of the Bayes DB too', async (t) => {
    const c = await cluster(t)
    const [master, slave] = [c.node('master'), c.node('slave')]
    const skip = c.network.events.length
    await c.edit(slave, 'bayes.txt', backup(5, '00000000a0'))
    await c.settle()
    assert.deepEqual(uploadsSince(c, skip, slave).map(e => ({ outcome: e.outcome, onlyBase: e.onlyBase })), [{ outcome: 'ok', onlyBase: true }])
    assert.deepEqual(fetchesSince(c, skip, slave), [])
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
    assert.deepEqual(master.state.bayes.counts(), { tokens: 1, spam: 5, ham: 0 })
  })

  test('is in the slave\'s history as the version it is, from the slave', async (t) => {
    const c = await cluster(t)
    const [master, slave] = [c.node('master'), c.node('slave')]
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await c.settle()
    const item = await slave.engine.historyItem(master.engine.version)
    const cut = await master.engine.historyItem(master.engine.version)
    assert.deepEqual({ origin: item?.origin, time: item?.time, counts: item?.counts, changes: item?.changes }, { origin: slave.nodeId, time: cut?.time, counts: cut?.counts, changes: cut?.changes })
  })

  test('causes no fetch when the master\'s announcement comes before its answer', async (t) => {
    const c = await cluster(t)
    const [master, slave] = [c.node('master'), c.node('slave')]
    const gate = c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'hold', at: 'answer' } })
    const skip = c.network.events.length
    const before = master.engine.version
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await gate.reached
    // The master merged and announced; the slave heard it, and a heartbeat passes, before the answer.
    assert.ok(master.engine.version.seq > before.seq)
    assert.ok(c.network.count('beacon', e => e.from === master.nodeId && e.to === slave.nodeId && e.version?.seq === master.engine.version.seq) > 0)
    c.network.heartbeat()
    slave.engine.tick()
    await new Promise(resolve => setImmediate(resolve))
    gate.open()
    await c.settle()
    assert.deepEqual(fetchesSince(c, skip, slave), [])
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
  })
})

describe('an upload awaiting its answer', () => {
  test('holds back no fetch from a new master', async (t) => {
    const c = await cluster(t, ['master', 'slave', 'next'])
    const [master, slave, next] = [c.node('master'), c.node('slave'), c.node('next')]
    const gate = c.network.inject({ call: 'upload', from: slave.nodeId, to: master.nodeId, fault: { type: 'hold' } })
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await gate.reached
    await c.elect('next', 2)
    await c.network.until('the slave fetching from the new master', () => c.network.count('fetch', e => e.from === slave.nodeId && e.to === next.nodeId) > 0)
    gate.open()
    await c.settle()
    assert.deepEqual(slave.engine.appliedVersion, next.engine.version)
  })
})

describe('an upload whose version holds more than the upload', () => {
  test('is fetched when another node\'s change was merged in between', async (t) => {
    const c = await cluster(t, ['master', 'a', 'b'])
    const [master, a, b] = [c.node('master'), c.node('a'), c.node('b')]
    // a misses the beacon of b's version: its next delta is built on the version before it.
    c.network.inject({ call: 'beacon', from: master.nodeId, to: a.nodeId, fault: { type: 'fail' } })
    await c.edit(b, 'whitelist.txt', 'from-b@example.com\n')
    await c.settle()
    assert.equal(present(a, 'from-b@example.com'), false)
    const skip = c.network.events.length
    await c.edit(a, 'whitelist.txt', 'from-a@example.com\n')
    await c.settle()
    assert.deepEqual(uploadsSince(c, skip, a).map(e => e.onlyBase), [undefined])
    assert.ok(fetchesSince(c, skip, a).length > 0, 'a fetched the version')
    assert.deepEqual(a.engine.appliedVersion, master.engine.version)
    assert.deepEqual(await c.lines(a, 'whitelist.txt'), ['from-a@example.com', 'from-b@example.com'])
  })

  test('is fetched when the slave changed something after it built the upload', async (t) => {
    const c = await cluster(t)
    const [master, slave] = [c.node('master'), c.node('slave')]
    const gate = c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'hold', at: 'answer' } })
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await gate.reached
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\nlate@example.com\n')
    gate.open()
    await c.settle()
    assert.equal(uploadsSince(c, skip, slave)[0].onlyBase, true)
    assert.ok(fetchesSince(c, skip, slave).length > 0, 'the slave fetched')
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
    assert.equal(present(master, 'late@example.com'), true)
  })
})

describe('an upload answered by a master that does not say whether it is its own', () => {
  test('is fetched, as before', async (t) => {
    const c = await cluster(t)
    const [master, slave] = [c.node('master'), c.node('slave')]
    c.network.oldMasters = true
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await c.settle()
    assert.ok(fetchesSince(c, skip, slave).length > 0, 'the slave fetched')
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
  })
})
