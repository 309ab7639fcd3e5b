/**
 * Fan-out across agents in one process on 127.0.0.1 (mDNS off): after the master sent its full
 * archive to two seeds, a new node takes it from a peer that holds it. A peer that sends another
 * archive than the master named is tested on the in-process network (unit/sync/engine-fan-out).
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { FULL_SENDS_AT_ONCE } from '../../../src/sync/fan-out.js'
import { waitFor } from '../../helpers/agents.js'
import { listKeys, testAgentConfig } from '../../helpers/in-process.js'

const DOMAINS = Array.from({ length: 200 }, (_, i) => `spam${i}.example.com`)

const status = (a: Agent): any => a.status()

describe('fan-out of the full archive', { timeout: 180_000 }, () => {
  let root: string
  let keyFile: string
  const agents: Agent[] = []
  let master: Agent
  const seeds: Agent[] = []

  async function startAgent (name: string, overrides = {}): Promise<Agent> {
    const dir = join(root, name)
    await mkdir(join(dir, 'settings'), { recursive: true })
    if (name === 'master') await writeFile(join(dir, 'settings', 'blacklist.txt'), DOMAINS.join('\n') + '\n')
    const bootstrap = agents.length === 0 ? [] : status(agents[0]).listen as string[]
    const agent = await Agent.start(testAgentConfig(dir, keyFile, bootstrap, overrides))
    agents.push(agent)
    return agent
  }

  /** Waits until `a` follows the master and holds every key at the master's version. */
  async function caughtUp (a: Agent): Promise<void> {
    const want = [...DOMAINS].sort().join()
    await waitFor(`${a.nodeId} to hold the master's blacklist`, async () =>
      a.election.masterId === master.nodeId && status(a).appliedVersion.seq === status(master).version.seq && (await listKeys(a)).join() === want)
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'spamsync-fan-out-'))
    keyFile = join(root, 'cluster.key')
    await writeClusterKey(keyFile, generateClusterKey())
    master = await startAgent('master', { priority: 10 })
    await waitFor('the first node to be master', () => master.election.role === 'master')
    // One at a time, so both are the master's seeds.
    for (let i = 0; i < FULL_SENDS_AT_ONCE; i++) {
      const seed = await startAgent(`seed${i}`)
      await caughtUp(seed)
      seeds.push(seed)
    }
  })
  after(async () => {
    for (const a of agents) await a.stop()
    await rm(root, { recursive: true, force: true })
  })

  test('the seeds got the master\'s full archive from the master and offer it on', () => {
    const offered = status(master).fullArchive
    assert.notEqual(offered, null)
    for (const seed of seeds) {
      assert.equal(status(seed).lastDownload.peer, master.nodeId)
      assert.deepEqual(status(seed).fullArchive, offered)
    }
  })

  test('a new node takes the full archive from a peer that holds it, not from the master', async () => {
    const servedBefore = status(master).fetchBytesServed
    const late = await startAgent('late')
    await caughtUp(late)
    assert.ok(seeds.map(s => s.nodeId).includes(status(late).lastDownload.peer), `fetched from ${status(late).lastDownload.peer}`)
    const size = status(master).fullArchive.size
    assert.ok(status(master).fetchBytesServed - servedBefore < size, 'the master sent the archive again')
  })
})
