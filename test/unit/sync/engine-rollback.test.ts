/**
 * Rollback on the master, with a slave following on the in-process network: a rollback makes a
 * new version whose lists equal an older kept one, built from its snapshot chain (a full
 * snapshot and the deltas after it); a later rollback can go forward again to a version newer
 * than the one rolled back to.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'
import { UnknownVersionError } from '../../../src/errors.js'
import { formatVersion, type Version } from '../../../src/version.js'

const FILES = ['a.example\n', 'a.example\nb.example\n', 'a.example\nb.example\nc.example\n']

/** A master that cut one version per FILES text (after its first, empty one), and a slave. */
async function withHistory (t: TestContext, historyVersions = 10): Promise<{ c: FakeCluster, master: FakeNode, slave: FakeNode, versions: Version[] }> {
  const c = await FakeCluster.open(t, ['master', 'slave'], { historyVersions })
  const master = await c.elect('master', 1)
  await c.settle()
  const versions: Version[] = []
  for (const text of FILES) {
    await c.edit(master, 'blacklist.txt', text)
    versions.push(master.engine.version)
  }
  await c.settle()
  return { c, master, slave: c.node('slave'), versions }
}

const lines = (text: string): string[] => text.split('\n').filter(l => l !== '').sort()

describe('a rollback chain', () => {
  test('a rollback to an older version makes a new version with its lists, which the slave applies', async (t) => {
    const { c, master, slave, versions } = await withHistory(t)
    const made = (await master.engine.rollback(versions[0])).version
    await c.settle()
    assert.deepEqual(made, { term: 1, seq: versions[2].seq + 1 })
    assert.deepEqual(await c.lines(master, 'blacklist.txt'), lines(FILES[0]))
    assert.deepEqual(slave.engine.appliedVersion, made)
    assert.deepEqual(await c.lines(slave, 'blacklist.txt'), lines(FILES[0]))
  })

  test('a rollback after it to a newer version brings back what the first one removed', async (t) => {
    const { c, master, slave, versions } = await withHistory(t)
    await master.engine.rollback(versions[0])
    const made = (await master.engine.rollback(versions[2])).version
    await c.settle()
    assert.deepEqual(await c.lines(master, 'blacklist.txt'), lines(FILES[2]))
    assert.deepEqual(slave.engine.appliedVersion, made)
    assert.deepEqual(await c.lines(slave, 'blacklist.txt'), lines(FILES[2]))
  })

  test('each rollback is in the history, named for the version it went back to', async (t) => {
    const { master, versions } = await withHistory(t)
    await master.engine.rollback(versions[0])
    await master.engine.rollback(versions[1])
    const origins = (await master.engine.history()).slice(0, 2).map(h => h.origin)
    assert.deepEqual(origins, [`rollback of ${formatVersion(versions[1])}`, `rollback of ${formatVersion(versions[0])}`])
  })

  test('a rollback to a version dropped from the history is refused with UnknownVersionError and changes nothing', async (t) => {
    const { c, master, versions } = await withHistory(t, 2)
    const before = master.engine.version
    await assert.rejects(master.engine.rollback(versions[0]), UnknownVersionError)
    assert.deepEqual(master.engine.version, before)
    assert.deepEqual(await c.lines(master, 'blacklist.txt'), lines(FILES[2]))
  })
})
