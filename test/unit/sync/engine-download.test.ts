/**
 * A slave's downloads on the in-process network: a lost announcement or a failed fetch delays
 * a version only until the next heartbeat.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'

async function pair (t: TestContext): Promise<{ c: FakeCluster, master: FakeNode, slave: FakeNode }> {
  const c = await FakeCluster.open(t, ['master', 'slave'])
  await c.elect('master', 1)
  await c.settle()
  return { c, master: c.node('master'), slave: c.node('slave') }
}

describe('a slave that missed a version', () => {
  test('whose announcement was lost fetches the version once the next heartbeat\'s beacon arrives', async (t) => {
    const { c, master, slave } = await pair(t)
    c.network.inject({ call: 'beacon', from: master.nodeId, to: slave.nodeId, fault: { type: 'drop' } })
    const fetches = c.network.count('fetch', e => e.from === slave.nodeId)
    await c.edit(master, 'blacklist.txt', 'spam.example\n')
    await c.settle()
    assert.equal(c.network.count('fetch', e => e.from === slave.nodeId), fetches, 'no fetch without the announcement')
    c.network.heartbeat()
    await c.network.until('the slave fetched', () => c.network.count('fetch', e => e.from === slave.nodeId) > fetches)
    await c.settle()
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
    assert.deepEqual(await c.lines(slave, 'blacklist.txt'), ['spam.example'])
  })

  test('whose fetch failed reports it and fetches again at the next heartbeat', async (t) => {
    const { c, master, slave } = await pair(t)
    c.network.inject({ call: 'fetch', from: slave.nodeId, fault: { type: 'fail' } })
    await c.edit(master, 'blacklist.txt', 'spam.example\n')
    await c.settle()
    assert.ok(slave.engine.errors.some(e => e.what === 'download'), JSON.stringify(slave.engine.errors))
    assert.notDeepEqual(slave.engine.appliedVersion, master.engine.version)
    slave.engine.tick()
    await c.settle()
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
    assert.deepEqual(await c.lines(slave, 'blacklist.txt'), ['spam.example'])
  })
})
