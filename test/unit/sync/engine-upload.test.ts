/**
 * A slave's uploads to the master, on the in-process network: what the engine does when an
 * upload fails, when its stream is cut, when the master's answer is lost, and when a change
 * comes while an upload is in flight. Every wait is on the network's events or the engine's
 * own promises, never on time.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'
import type { NetEvent } from '../../helpers/fake-sync-network.js'

type UploadEvent = Extract<NetEvent, { type: 'upload' }>

/** A master and one slave in term 1, the slave's first (full) upload done. */
async function pair (t: TestContext): Promise<{ c: FakeCluster, master: FakeNode, slave: FakeNode }> {
  const c = await FakeCluster.open(t, ['master', 'slave'])
  await c.elect('master', 1)
  await c.settle()
  return { c, master: c.node('master'), slave: c.node('slave') }
}

/** Uploads from `slave` that ended after the first `skip` events. */
function uploadsSince (c: FakeCluster, skip: number, slave: FakeNode): UploadEvent[] {
  return c.network.events.slice(skip).filter((e): e is UploadEvent => e.type === 'upload' && e.from === slave.nodeId)
}

const present = (n: FakeNode, key: string): boolean => n.state.replica.get('whitelist', key)?.present === true

/** A whitelist of `n` addresses: an archive of a few kB, so a cut leaves part of it. */
const manyAddresses = (n: number, tag = ''): string => Array.from({ length: n }, (_, i) => `user${i}${tag}@host${i * 7919}.example\n`).join('')

describe('an upload that fails', () => {
  test('is reported in the errors status shows, and the master has nothing of it', async (t) => {
    const { c, master, slave } = await pair(t)
    c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'fail' } })
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await c.settle()
    assert.ok(slave.engine.errors.some(e => e.what === 'upload' && /connection reset/.test(e.message)), JSON.stringify(slave.engine.errors))
    assert.equal(present(master, 'friend@example.com'), false)
  })

  test('is sent again at the next heartbeat, and the master merges it', async (t) => {
    const { c, master, slave } = await pair(t)
    c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'fail' } })
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await c.settle()
    const skip = c.network.events.length
    slave.engine.tick()
    await c.settle()
    assert.deepEqual(uploadsSince(c, skip, slave).map(e => e.outcome), ['ok'])
    assert.equal(present(master, 'friend@example.com'), true)
    assert.equal(slave.engine.lastUpload?.peer, master.nodeId)
  })

  test('is not sent again at a heartbeat once an upload succeeded', async (t) => {
    const { c, slave } = await pair(t)
    c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'fail' } })
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await c.settle()
    slave.engine.tick()
    await c.settle()
    const skip = c.network.events.length
    slave.engine.tick()
    await c.settle()
    assert.deepEqual(uploadsSince(c, skip, slave), [])
  })
})

describe('an upload whose stream is cut', () => {
  test('resumes with the same archive from the bytes the master holds', async (t) => {
    const { c, master, slave } = await pair(t)
    c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'cut', afterBytes: 1000 } })
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', manyAddresses(2000))
    await c.settle()
    slave.engine.tick()
    await c.settle()
    const [cut, resumed] = uploadsSince(c, skip, slave)
    assert.equal(cut.outcome, 'cut')
    assert.ok(cut.size > 2000, `the archive is ${cut.size} bytes`)
    assert.deepEqual({ outcome: resumed.outcome, sha256: resumed.sha256, offset: resumed.offset, sent: resumed.sent }, { outcome: 'ok', sha256: cut.sha256, offset: 1000, sent: cut.size - 1000 })
    assert.equal(master.state.replica.presentCount('whitelist'), 2000)
  })

  test('is sent anew from its start when the slave changed something since', async (t) => {
    const { c, master, slave } = await pair(t)
    c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'cut', afterBytes: 1000 } })
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', manyAddresses(2000))
    await c.settle()
    await c.edit(slave, 'whitelist.txt', manyAddresses(2000) + 'late@example.com\n')
    await c.settle()
    const [cut, fresh] = uploadsSince(c, skip, slave)
    assert.equal(cut.outcome, 'cut')
    assert.notEqual(fresh.sha256, cut.sha256)
    assert.deepEqual({ outcome: fresh.outcome, offset: fresh.offset, sent: fresh.sent }, { outcome: 'ok', offset: 0, sent: fresh.size })
    assert.equal(present(master, 'late@example.com'), true)
  })
})

describe('an upload whose answer is lost', () => {
  test('is answered again from the merge the master did, without its bytes and without a second version', async (t) => {
    const { c, master, slave } = await pair(t)
    c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'drop' } })
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', 'friend@example.com\n')
    await c.settle()
    const merged = master.engine.version
    slave.engine.tick()
    await c.settle()
    const [dropped, again] = uploadsSince(c, skip, slave)
    assert.equal(dropped.outcome, 'dropped')
    assert.deepEqual({ outcome: again.outcome, sha256: again.sha256, sent: again.sent, version: again.version }, { outcome: 'ok', sha256: dropped.sha256, sent: 0, version: merged })
    assert.deepEqual(master.engine.version, merged)
  })
})

describe('a change while an upload is in flight', () => {
  test('causes another upload once the one in flight is done', async (t) => {
    const { c, master, slave } = await pair(t)
    const gate = c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'hold' } })
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', 'first@example.com\n')
    await gate.reached
    await c.edit(slave, 'whitelist.txt', 'first@example.com\nsecond@example.com\n')
    assert.deepEqual(uploadsSince(c, skip, slave), [], 'the first upload is still in flight')
    gate.open()
    await c.settle()
    const [first, second] = uploadsSince(c, skip, slave)
    assert.deepEqual([first.outcome, second?.outcome], ['ok', 'ok'])
    assert.notEqual(first.sha256, second.sha256)
    assert.equal(present(master, 'first@example.com'), true)
    assert.equal(present(master, 'second@example.com'), true)
  })

  test('held while nothing else changed causes no second upload', async (t) => {
    const { c, slave } = await pair(t)
    const gate = c.network.inject({ call: 'upload', from: slave.nodeId, fault: { type: 'hold' } })
    const skip = c.network.events.length
    await c.edit(slave, 'whitelist.txt', 'first@example.com\n')
    await gate.reached
    gate.open()
    await c.settle()
    assert.deepEqual(uploadsSince(c, skip, slave).map(e => e.outcome), ['ok'])
  })
})
