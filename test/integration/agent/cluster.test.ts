/**
 * Three agents in one process on 127.0.0.1 (mDNS off): the whole stack but the CLI, fast
 * enough to check the sync flow behaviour by behaviour.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'

describe('three agents in one process', { timeout: 120_000 }, () => {
  let cluster: InProcessCluster

  before(async () => {
    cluster = await InProcessCluster.create('int')
    for (let i = 0; i < 3; i++) await cluster.start()
  })

  after(async () => { await cluster?.stop() })

  const stopped = new Set<Agent>()
  const live = (): Agent[] => cluster.agents.filter(a => !stopped.has(a))
  const oneMaster = async (): Promise<Agent> => await cluster.oneMaster(live())

  test('exactly one node is master and the others follow it', async () => {
    const master = await oneMaster()
    assert.equal(live().filter(a => a.election.role === 'slave').length, 2)
    for (const a of live()) assert.equal(a.election.masterId, master.nodeId)
  })

  test('a line added on a slave reaches every node and the master cuts a new version', async () => {
    const master = await oneMaster()
    const slave = live().find(a => a !== master)!
    const before = master.engine.version
    await writeFile(join(slave.config.settingsDir, 'blacklist.txt'), 'spam.example.com\n')
    await waitFor('all have spam.example.com', async () => {
      for (const a of live()) if (!(await listKeys(a, 'blacklist')).includes('spam.example.com')) return false
      return true
    })
    assert.ok(master.engine.version.seq > before.seq || master.engine.version.term > before.term)
    await waitFor('all applied the master version', () => live().every(a => a.engine.appliedVersion.seq === master.engine.version.seq))
  })

  test('a one-line change moves less than 2 KiB per receiving node', async () => {
    const master = await oneMaster()
    const sentBefore = live().map(a => a.status().bytesSent)
    await writeFile(join(master.config.settingsDir, 'whitelist.txt'), 'friend@example.com OK\n')
    await waitFor('all have the friend', async () => {
      for (const a of live()) if (!(await listKeys(a, 'whitelist')).includes('friend@example.com')) return false
      return true
    })
    const sent = live().map((a, i) => (a.status().bytesSent) - sentBefore[i]).reduce((x, y) => x + y, 0)
    assert.ok(sent < 2 * 2048, `sent ${sent} bytes for 2 receivers`)
  })

  test('an agent with a clean stop hands over: the others elect a new master', async () => {
    const master = await oneMaster()
    await master.stop()
    stopped.add(master)
    const next = await oneMaster()
    assert.notEqual(next.nodeId, master.nodeId)
    const slave = live().find(a => a !== next)!
    await writeFile(join(slave.config.settingsDir, 'autowhitelist.txt'), 'later@example.com\n')
    await waitFor('the survivors have the later change', async () => {
      for (const a of live()) if (!(await listKeys(a, 'autowhitelist')).includes('later@example.com')) return false
      return true
    })
  })

  test('a deleted list file deletes nothing and is written back when the agent starts', async () => {
    const master = await oneMaster()
    // It comes back on a new port, and its bootstrap peer (if any) may be gone: it finds the
    // cluster through the members it knew.
    const victim = live().find(a => a !== master)!
    await victim.stop()
    stopped.add(victim)
    await rm(join(victim.config.settingsDir, 'blacklist.txt'))
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), 'spam.example.com\nmore-spam.example.com\n')
    const again = await Agent.start(victim.config)
    cluster.agents.push(again)
    assert.deepEqual(await listKeys(again, 'blacklist'), ['spam.example.com'])
    await waitFor('the restarted node has the change made while it was down', async () => (await listKeys(again, 'blacklist')).includes('more-spam.example.com'))
    assert.deepEqual(await listKeys(master, 'blacklist'), ['more-spam.example.com', 'spam.example.com'])
  })

})
