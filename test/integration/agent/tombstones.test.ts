/**
 * Tombstones in a cluster of three agents in one process (127.0.0.1, mDNS off), with the waits of
 * protocol/sync-v1.md, "Tombstones", shortened: a deleted entry is forgotten on every node once
 * every member applied its delete, and a member that comes back after the keep time does not
 * bring it back.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent, type AgentOptions } from '../../../src/agent.js'
import type { ListReplica } from '../../../src/replica/list-replica.js'
import { compareVersions } from '../../../src/version.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'

/** A member not heard for 3 s is no longer waited for; an edit reaches the master within 0.3 s. */
const OPTS: AgentOptions = { tombstones: { keepMs: 3000, graceMs: 300, intervalMs: 200 } }

const replicaOf = (agent: Agent): ListReplica => (agent as any).state.replica
/** True when the agent holds no entry for `key` at all: not even a tombstone. */
const forgotten = (agent: Agent, key: string): boolean => replicaOf(agent).get('blacklist', key) === undefined

describe('tombstones in a cluster of three agents', { timeout: 120_000 }, () => {
  let cluster: InProcessCluster
  let master: Agent
  let slaves: Agent[]

  before(async () => {
    cluster = await InProcessCluster.create('tombstones')
    for (let i = 0; i < 3; i++) await cluster.start({}, {}, OPTS)
    master = await cluster.oneMaster()
    slaves = cluster.agents.filter(a => a !== master)
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), 'keep.example\nfirst.example\nsecond.example\n')
    await waitFor('every node has the three lines', async () => {
      for (const a of cluster.agents) if ((await listKeys(a)).length !== 3) return false
      return true
    })
  })

  after(async () => { await cluster?.stop() })

  test('a line deleted on a slave is forgotten on every node once every member applied the delete', async () => {
    await writeFile(join(slaves[0].config.settingsDir, 'blacklist.txt'), 'keep.example\nsecond.example\n')
    await waitFor('every node forgot first.example, tombstone included', () => cluster.agents.every(a => forgotten(a, 'first.example')), 30_000)
    for (const a of cluster.agents) assert.deepEqual(await listKeys(a), ['keep.example', 'second.example'])
    assert.ok(master.status().tombstoneFloor !== null, 'the master\'s status shows its floor')
  })

  test('a member away longer than the keep time does not bring back a line deleted meanwhile', async () => {
    const [away, other] = slaves
    await away.stop()
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), 'keep.example\n')
    await waitFor('the master and the other slave forgot second.example once the away member is no longer waited for', () => forgotten(master, 'second.example') && forgotten(other, 'second.example'), 30_000)

    // It comes back with its store and its file as they were: second.example present in both.
    const again = await Agent.start(away.config, OPTS)
    cluster.agents.push(again)
    assert.equal(replicaOf(again).get('blacklist', 'second.example')?.present, true)
    await waitFor('the returning member took the master\'s newest full state', () =>
      !again.engine.tombstones.mustTakeFullState && again.engine.lastDownload?.kind === 'full' && compareVersions(again.engine.appliedVersion, master.engine.version) === 0, 30_000)
    assert.equal(replicaOf(again).get('blacklist', 'second.example')?.present ?? false, false, 'its stale copy is gone: it has nothing of it to upload')
    for (const a of [master, other, again]) assert.deepEqual(await listKeys(a), ['keep.example'])
    assert.ok(forgotten(master, 'second.example'), 'the master holds no entry for second.example')
  })
})
