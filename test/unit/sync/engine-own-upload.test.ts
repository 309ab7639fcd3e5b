/**
 * A slave's own upload fetched back, on the in-process network: the master merges a list into
 * its empty dataset and passes the upload's file on as the version's delta; the slave that sent
 * it takes that version without decoding or merging the file again (own-uploads.ts).
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'
import type { ListDataset } from '../../../src/constants.js'
import { compareVersions } from '../../../src/version.js'

const LIST = Array.from({ length: 200 }, (_, i) => `spam${i}.example`)

async function trio (t: TestContext): Promise<{ c: FakeCluster, master: FakeNode, origin: FakeNode, other: FakeNode }> {
  const c = await FakeCluster.open(t, ['master', 'origin', 'other'])
  await c.elect('master', 1)
  await c.settle()
  return { c, master: c.node('master'), origin: c.node('origin'), other: c.node('other') }
}

/** The datasets `node` merges central state into from now on. */
function centralMerges (node: FakeNode): ListDataset[] {
  const merged: ListDataset[] = []
  const replica = node.state.replica
  const merge = replica.merge.bind(replica)
  replica.merge = async (dataset, incoming, opts) => {
    if (opts.synced) merged.push(dataset)
    return await merge(dataset, incoming, opts)
  }
  return merged
}

describe('a list dropped on a slave into an empty cluster', () => {
  test('is applied by the slave that uploaded it without merging the file it sent', async (t) => {
    const { c, master, origin } = await trio(t)
    const merged = centralMerges(origin)
    await c.edit(origin, 'blacklist.txt', LIST.join('\n') + '\n')
    await c.settle()
    assert.deepEqual(origin.engine.appliedVersion, master.engine.version)
    assert.deepEqual(merged, [])
    assert.deepEqual(await c.lines(origin, 'blacklist.txt'), [...LIST].sort())
  })

  test('is kept by the slave that uploaded it as the version\'s snapshot, the bytes it sent, not encoded and deflated again', async (t) => {
    const { c, master, origin } = await trio(t)
    await c.edit(origin, 'blacklist.txt', LIST.join('\n') + '\n')
    await c.settle()
    assert.deepEqual(origin.engine.appliedVersion, master.engine.version)
    // The master keeps the upload's deflated file as received (it merged it into an empty dataset).
    assert.deepEqual(await origin.state.replica.deflated('blacklist'), await master.state.replica.deflated('blacklist'))
  })

  test('is merged and written by the other slaves', async (t) => {
    const { c, master, origin, other } = await trio(t)
    const merged = centralMerges(other)
    await c.edit(origin, 'blacklist.txt', LIST.join('\n') + '\n')
    await c.settle()
    assert.deepEqual(other.engine.appliedVersion, master.engine.version)
    assert.deepEqual(merged, ['blacklist'])
    assert.deepEqual(await c.lines(other, 'blacklist.txt'), [...LIST].sort())
  })

  test('is fetched by the slave that uploaded it only once the master answered the upload, after the other slaves had it sent', async (t) => {
    const { c, master, origin, other } = await trio(t)
    const answer = c.network.inject({ call: 'upload', from: origin.nodeId, fault: { type: 'hold', at: 'answer' } })
    const fetches = (): number => c.network.count('fetch', e => e.from === origin.nodeId)
    const [before, was] = [fetches(), master.engine.version]
    await c.edit(origin, 'blacklist.txt', LIST.join('\n') + '\n')
    await c.network.until('the master cut the upload\'s version', () => compareVersions(master.engine.version, was) > 0)
    await other.engine.drain()
    assert.deepEqual(other.engine.appliedVersion, master.engine.version)
    origin.engine.tick()
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(fetches(), before)
    answer.open()
    await c.settle()
    assert.equal(fetches(), before + 1)
    assert.deepEqual(origin.engine.appliedVersion, master.engine.version)
  })

  test('is merged by its origin when a fetch answer carries it with the master\'s other changes', async (t) => {
    const { c, master, origin } = await trio(t)
    const merged = centralMerges(origin)
    // Every fetch fails until the master changed the list too: the one that then succeeds carries both changes.
    c.network.inject({ call: 'fetch', from: origin.nodeId, fault: { type: 'fail' }, times: 1000 })
    await c.edit(origin, 'blacklist.txt', LIST.join('\n') + '\n')
    await c.settle()
    await c.edit(master, 'blacklist.txt', [...LIST, 'late.example'].join('\n') + '\n')
    await c.settle()
    assert.deepEqual(merged, [])
    c.network.heal()
    origin.engine.tick()
    await c.settle()
    assert.deepEqual(origin.engine.appliedVersion, master.engine.version)
    assert.deepEqual(merged, ['blacklist'])
    assert.deepEqual(await c.lines(origin, 'blacklist.txt'), [...LIST, 'late.example'].sort())
  })
})
