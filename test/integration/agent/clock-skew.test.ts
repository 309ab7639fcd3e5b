/**
 * Three agents in this process with injected wall clocks: a pinned master and an honest slave
 * on one clock, a slave whose clock runs 10 minutes ahead. The test moves the shared clock
 * forward instead of waiting real minutes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { DEFAULT_MAX_SKEW_MS } from '../../../src/constants.js'
import { waitFor } from '../../helpers/agents.js'
import { testAgentConfig } from '../../helpers/in-process.js'

const MINUTE = 60 * 1000
const KEY = 'contested.example'

async function valueOf (agent: Agent): Promise<string | undefined> {
  const text = await readFile(join(agent.config.settingsDir, 'whitelist.txt'), 'utf8').catch(() => '')
  const line = text.split('\n').find(l => l.split(/\s+/)[0] === KEY)
  return line?.split(/\s+/)[1]
}

test('an honest edit made after the skew bound wins over a fast node\'s earlier edit on the master and the honest slave', { timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-skew-agents-'))
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, generateClusterKey())
  const agents: Agent[] = []
  t.after(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })
  /** How far the test moved time on; every node's clock includes it. */
  let advanced = 0
  const start = async (name: string, role: 'master' | 'slave', aheadMs: number): Promise<Agent> => {
    const dir = join(root, name)
    await mkdir(join(dir, 'settings'), { recursive: true })
    const bootstrap = agents.length === 0 ? [] : agents[0].status().listen as string[]
    const agent = await Agent.start(testAgentConfig(dir, keyFile, bootstrap, { role }), { wallClock: () => Date.now() + advanced + aheadMs })
    agents.push(agent)
    return agent
  }
  const master = await start('master', 'master', 0)
  const fast = await start('fast', 'slave', 10 * MINUTE)
  const honest = await start('honest', 'slave', 0)
  await waitFor('both slaves follow the pinned master', () => [fast, honest].every(a => a.election.masterId === master.nodeId))

  await writeFile(join(fast.config.settingsDir, 'whitelist.txt'), `${KEY} fast\n`)
  await waitFor('the fast edit on the master and the honest slave', async () => (await valueOf(master)) === 'fast' && (await valueOf(honest)) === 'fast')

  advanced = DEFAULT_MAX_SKEW_MS + 1000
  await writeFile(join(honest.config.settingsDir, 'whitelist.txt'), `${KEY} honest\n`)
  await waitFor('the honest edit on the master', async () => (await valueOf(master)) === 'honest')
  assert.equal(await valueOf(honest), 'honest')
  await t.test('the fast node itself takes the honest edit', {
    todo: 'issue 6: the fast node keeps its own unclamped +10 min stamp, so its file disagrees with the cluster until real time reaches it'
  }, async () => {
    await waitFor('the honest edit on the fast node', async () => (await valueOf(fast)) === 'honest', 10_000)
  })
})
