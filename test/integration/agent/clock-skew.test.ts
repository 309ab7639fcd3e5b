/**
 * Three agents in this process with injected wall clocks: a pinned master and an honest slave
 * on one clock, a slave whose clock runs 10 minutes ahead. The test moves the shared clock
 * forward instead of waiting real minutes.
 */
import { test, type TestContext } from 'node:test'
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

/** Agents in one temp folder, each bootstrapped to the first; all stopped and removed at the end. */
async function skewedCluster (t: TestContext): Promise<{
  start: (name: string, role: 'master' | 'slave', aheadMs: number, whitelist?: string) => Promise<Agent>
  /** Moves every node's clock on. */
  advance: (ms: number) => void
}> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-skew-agents-'))
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, generateClusterKey())
  const agents: Agent[] = []
  t.after(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })
  let advanced = 0
  return {
    start: async (name, role, aheadMs, whitelist) => {
      const dir = join(root, name)
      await mkdir(join(dir, 'settings'), { recursive: true })
      if (whitelist !== undefined) await writeFile(join(dir, 'settings', 'whitelist.txt'), whitelist)
      const bootstrap = agents.length === 0 ? [] : agents[0].status().listen
      const agent = await Agent.start(testAgentConfig(dir, keyFile, bootstrap, { role }), { wallClock: () => Date.now() + advanced + aheadMs })
      agents.push(agent)
      return agent
    },
    advance: (ms) => { advanced += ms }
  }
}

test('an honest edit made after the skew bound wins over a fast node\'s earlier edit on the master and both slaves', { timeout: 120_000 }, async (t) => {
  const { start, advance } = await skewedCluster(t)
  const master = await start('master', 'master', 0)
  const fast = await start('fast', 'slave', 10 * MINUTE)
  const honest = await start('honest', 'slave', 0)
  await waitFor('both slaves follow the pinned master', () => [fast, honest].every(a => a.election.masterId === master.nodeId))

  await writeFile(join(fast.config.settingsDir, 'whitelist.txt'), `${KEY} fast\n`)
  await waitFor('the fast edit on the master and the honest slave', async () => (await valueOf(master)) === 'fast' && (await valueOf(honest)) === 'fast')

  advance(DEFAULT_MAX_SKEW_MS + 1000)
  await writeFile(join(honest.config.settingsDir, 'whitelist.txt'), `${KEY} honest\n`)
  await waitFor('the honest edit on the master', async () => (await valueOf(master)) === 'honest')
  assert.equal(await valueOf(honest), 'honest')
  await waitFor('the honest edit on the fast node', async () => (await valueOf(fast)) === 'honest', 10_000)
})

test('a fast node\'s edit made before it knew the master is lowered to the bound: an honest edit after it wins on every node', { timeout: 120_000 }, async (t) => {
  const { start, advance } = await skewedCluster(t)
  // Alone and pinned slave, the fast node stamps its file on its own clock, 10 min ahead.
  const fast = await start('fast', 'slave', 10 * MINUTE, `${KEY} fast\n`)
  const master = await start('master', 'master', 0)
  const honest = await start('honest', 'slave', 0)
  await waitFor('the fast edit on the master and the honest slave', async () => (await valueOf(master)) === 'fast' && (await valueOf(honest)) === 'fast')
  // Beacon transit counts as 0, so the offsets are off by those milliseconds.
  assert.ok(Math.abs((fast.status().clockOffsetMs as number) - 10 * MINUTE) < 1000, 'the fast node\'s status shows its clock about 10 min ahead of the master\'s')

  advance(DEFAULT_MAX_SKEW_MS + 1000)
  await writeFile(join(honest.config.settingsDir, 'whitelist.txt'), `${KEY} honest\n`)
  await waitFor('the honest edit on the master', async () => (await valueOf(master)) === 'honest')
  await waitFor('the honest edit on the fast node', async () => (await valueOf(fast)) === 'honest', 10_000)
  const seenByMaster = (master.status().peers as Array<{ id: string, clockOffsetMs: number | null }>).find(p => p.id === fast.nodeId)
  assert.ok(Math.abs((seenByMaster?.clockOffsetMs ?? 0) - 10 * MINUTE) < 1000, 'the master\'s status shows the fast peer about 10 min ahead')
})

test('honest slaves of a master whose clock is 10 minutes ahead stamp on its clock: an honest edit a second after the master\'s wins everywhere', { timeout: 120_000 }, async (t) => {
  const { start, advance } = await skewedCluster(t)
  const master = await start('master', 'master', 10 * MINUTE)
  const honest = await start('honest', 'slave', 0)
  const other = await start('other', 'slave', 0)
  await waitFor('both slaves follow the pinned master', () => [honest, other].every(a => a.election.masterId === master.nodeId))

  await writeFile(join(master.config.settingsDir, 'whitelist.txt'), `${KEY} fast\n`)
  await waitFor('the master\'s edit on both slaves', async () => (await valueOf(honest)) === 'fast' && (await valueOf(other)) === 'fast')

  advance(1000)
  await writeFile(join(honest.config.settingsDir, 'whitelist.txt'), `${KEY} honest\n`)
  await waitFor('the honest edit on every node', async () => (await valueOf(master)) === 'honest' && (await valueOf(other)) === 'honest')
  assert.equal(await valueOf(honest), 'honest')
})
