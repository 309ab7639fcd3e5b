/**
 * Fan-out of the master's full archive between engines on the in-process network: once the
 * master sent it to its seeds, a new node is told BUSY and takes it from a seed; a seed that
 * sends another archive than the master named is refused with WrongArchiveError, and the new
 * node falls back to the master.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'
import { buildSettingsArchive } from '../../../src/sync/settings-archive.js'
import { archiveRef } from '../../../src/protocol/archive-ref.js'
import { LIST_DATASETS } from '../../../src/constants.js'
import { FULL_SENDS_AT_ONCE } from '../../../src/sync/fan-out.js'
import { Status } from '../../../src/pb/spamsync.js'

const DOMAINS = Array.from({ length: 200 }, (_, i) => `spam${i}.example.com`)
const SEEDS = Array.from({ length: FULL_SENDS_AT_ONCE }, (_, i) => `seed${i}`)

/** A master holding DOMAINS whose full archive went to its seeds; then a fresh node follows it. */
async function seeded (t: TestContext): Promise<{ c: FakeCluster, master: FakeNode, seeds: FakeNode[] }> {
  const c = await FakeCluster.open(t, ['master', ...SEEDS], { fanOut: true })
  const master = c.node('master')
  await c.edit(master, 'blacklist.txt', DOMAINS.join('\n') + '\n')
  await c.elect('master', 1)
  await c.settle()
  return { c, master, seeds: SEEDS.map(name => c.node(name)) }
}

/** A new node joins as a slave of `master` and fetches. */
async function join (c: FakeCluster, master: FakeNode, name: string): Promise<FakeNode> {
  const fresh = await c.add(name)
  Object.assign(fresh.roles, { role: 'slave', masterId: master.nodeId, term: master.roles.term })
  await fresh.engine.syncDownload()
  await c.settle()
  return fresh
}

describe('fan-out of the full archive', () => {
  test('the seeds got the master\'s full archive from the master and offer it on', async (t) => {
    const { master, seeds } = await seeded(t)
    assert.notEqual(master.engine.fullArchive, null)
    for (const seed of seeds) {
      assert.equal(seed.engine.lastDownload?.peer, master.nodeId)
      assert.deepEqual(seed.engine.fullArchive, master.engine.fullArchive)
    }
  })

  test('a new node is told BUSY by the master and takes the full archive from a seed', async (t) => {
    const { c, master, seeds } = await seeded(t)
    const skip = c.network.events.length
    const fresh = await join(c, master, 'fresh')
    const fetches = c.network.events.slice(skip).filter(e => e.type === 'fetch' && e.from === fresh.nodeId)
    assert.deepEqual(fetches.map(e => e.type === 'fetch' && [e.to === master.nodeId ? 'master' : 'seed', e.status]), [['master', Status.BUSY], ['seed', Status.OK]])
    assert.ok(seeds.some(s => s.nodeId === fresh.engine.lastDownload?.peer))
    assert.deepEqual(await c.lines(fresh, 'blacklist.txt'), [...DOMAINS].sort())
  })

  test('a seed that sends another archive than the master named is refused with WrongArchiveError, and the new node falls back to the master', async (t) => {
    const { c, master, seeds } = await seeded(t)
    const version = master.engine.version
    const other = buildSettingsArchive({ kind: 'full', origin: 'liar', base: null, version }, new Map(LIST_DATASETS.map(ds => [ds, []])), null)
    // Every seed lies: it answers a named fetch with another archive of the same version.
    for (const seed of seeds) {
      c.network.inject({ call: 'fetch', to: seed.nodeId, fault: { type: 'tamper', answer: (a) => ({ ...a, zip: other, archive: archiveRef(other, version) }) } })
    }
    const fresh = await join(c, master, 'fresh')
    const refusals = fresh.engine.errors.filter(e => e.what.startsWith('download from '))
    assert.equal(refusals.length, seeds.length, JSON.stringify(fresh.engine.errors))
    for (const e of refusals) assert.match(e.message, /^WrongArchiveError: /)
    assert.equal(fresh.engine.lastDownload?.peer, master.nodeId)
    assert.deepEqual(fresh.engine.fullArchive, master.engine.fullArchive)
    assert.deepEqual(await c.lines(fresh, 'blacklist.txt'), [...DOMAINS].sort())
  })
})
