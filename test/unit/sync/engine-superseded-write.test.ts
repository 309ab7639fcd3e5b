/**
 * bayes.txt is written once for a run of versions: a node that applies or merges a change
 * while a newer one is already on its way leaves the write to that newer change, so a DB of
 * millions of tokens is formatted and written once, not per version. Engines run on the
 * in-process network; a held fetch answer or held uploads make the newer change arrive first.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'
import { parseSaBackup } from '../../../src/settings/sa-backup.js'

const HEAD = 'v\t3\tdb_version # this must be the first line!!!\n'
/** A SpamAssassin backup that learned `numSpam` messages with token `tok`. */
const backup = (numSpam: number, tok: string): string => HEAD + `v\t${numSpam}\tnum_spam\nv\t0\tnum_nonspam\nt\t${numSpam}\t0\t1700000000\t${tok}\n`

/** Writes of bayes.txt `node` reported after the first `skip` onFilesChanged calls. */
const bayesWrites = (node: FakeNode, skip: number): number => node.written.slice(skip).filter(ds => ds.includes('bayes')).length

const numSpam = async (node: FakeNode): Promise<number> => parseSaBackup(await readFile(join(node.settingsDir, 'bayes.txt'), 'utf8'), 'bayes.txt').db.numSpam

async function cluster (t: TestContext, names: string[]): Promise<{ c: FakeCluster, master: FakeNode }> {
  const c = await FakeCluster.open(t, names)
  const master = await c.elect(names[0], 1)
  await c.settle()
  return { c, master }
}

describe('a write superseded by a newer version', () => {
  test('a slave that applies a version while a newer one is announced writes bayes.txt once, for the newer one', async (t) => {
    const { c, master } = await cluster(t, ['master', 'slave'])
    const slave = c.node('slave')
    const gate = c.network.inject({ call: 'fetch', from: slave.nodeId, fault: { type: 'hold', at: 'answer' } })
    const skip = slave.written.length
    const events = c.network.events.length
    await c.edit(master, 'bayes.txt', backup(5, '00000000a0'))
    await gate.reached
    // The answer (the first version) is on its way; the master learns more and announces it.
    await c.edit(master, 'bayes.txt', backup(7, '00000000a0'))
    gate.open()
    await c.settle()
    assert.deepEqual(slave.engine.appliedVersion, master.engine.version)
    const fetched = c.network.events.slice(events).filter(e => e.type === 'fetch' && e.from === slave.nodeId && e.bytes > 0)
    assert.equal(fetched.length, 2, 'both versions were fetched')
    assert.equal(bayesWrites(slave, skip), 1)
    assert.equal(await numSpam(slave), 7)
  })

  test('a slave that applies the newest version writes bayes.txt at once', async (t) => {
    const { c, master } = await cluster(t, ['master', 'slave'])
    const slave = c.node('slave')
    const skip = slave.written.length
    await c.edit(master, 'bayes.txt', backup(5, '00000000a0'))
    await c.settle()
    assert.equal(bayesWrites(slave, skip), 1)
    assert.equal(await numSpam(slave), 5)
  })

  test('the master that merges an upload while another waits for its queue writes bayes.txt once, after the second', async (t) => {
    const { c, master } = await cluster(t, ['master', 'one', 'two'])
    const slaves = [c.node('one'), c.node('two')]
    const gates = slaves.map(s => c.network.inject({ call: 'upload', from: s.nodeId, fault: { type: 'hold' } }))
    for (const [i, s] of slaves.entries()) await c.edit(s, 'bayes.txt', backup(2 + i, `0000000${i}b0`))
    await Promise.all(gates.map(async g => await g.reached))
    const skip = master.written.length
    const before = master.engine.version
    // Both uploads reach the master together: the second waits for the queue while the first merges.
    for (const g of gates) g.open()
    await c.settle()
    assert.equal(master.engine.version.seq, before.seq + 2, 'each upload made a version')
    assert.equal(bayesWrites(master, skip), 1)
    assert.equal(await numSpam(master), 5)
  })
})
