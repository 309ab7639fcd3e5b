/**
 * Configuration of agents run in the test process: 127.0.0.1 on free ports, mDNS off, a
 * short debounce, no logs. Tests pass what they are about as overrides.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultConfig, type Config } from '../../src/config.js'
import { Agent, type AgentOptions } from '../../src/agent.js'
import { generateClusterKey, writeClusterKey } from '../../src/net/cluster-key.js'
import { waitFor } from './agents.js'

/** The config of a test agent whose folders live in `dir`. */
export function testAgentConfig (dir: string, keyFile: string, bootstrap: string[], overrides: Partial<Config> = {}): Config {
  return {
    ...defaultConfig(),
    dataDir: join(dir, 'data'),
    settingsDir: join(dir, 'settings'),
    clusterKey: keyFile,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    mdns: false,
    httpPort: 0,
    debounceMs: 20,
    logLevel: 'silent',
    ...overrides
  }
}

/** The keys of an agent's list file, sorted (comments and blank lines left out). */
export async function listKeys (agent: Agent, list = 'blacklist'): Promise<string[]> {
  const text = await readFile(join(agent.config.settingsDir, `${list}.txt`), 'utf8').catch(() => '')
  return text.split('\n').filter(l => l.trim() !== '' && !l.startsWith('#')).map(l => l.split(/\s+/)[0]).sort()
}

/**
 * Agents run in this process with one fresh cluster key, each in folder `n<i>` of a temp root;
 * every agent after the first is bootstrapped to the first. `stop()` stops them all and removes
 * the root, so a test's `after` is one call.
 */
export class InProcessCluster {
  /** Every agent started, including ones a test stopped or restarted (stop() is idempotent). */
  readonly agents: Agent[] = []

  private constructor (readonly root: string, readonly keyFile: string) {}

  /** An empty cluster whose temp root is named after `name`. */
  static async create (name: string): Promise<InProcessCluster> {
    const root = await mkdtemp(join(tmpdir(), `spamsync-${name}-`))
    const keyFile = join(root, 'cluster.key')
    await writeClusterKey(keyFile, generateClusterKey())
    return new InProcessCluster(root, keyFile)
  }

  /** Starts the next agent; `files` are written to its settings folder before it starts. */
  async start (overrides: Partial<Config> = {}, files: Record<string, string> = {}, opts: AgentOptions = {}): Promise<Agent> {
    const dir = join(this.root, `n${this.agents.length}`)
    await mkdir(join(dir, 'settings'), { recursive: true })
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'settings', name), text)
    const bootstrap = this.agents.length === 0 ? [] : this.agents[0].status().listen
    const agent = await Agent.start(testAgentConfig(dir, this.keyFile, bootstrap, overrides), opts)
    this.agents.push(agent)
    return agent
  }

  /** Waits until exactly one of `among` is master and every other one is its slave. */
  async oneMaster (among: Agent[] = this.agents): Promise<Agent> {
    return await waitFor('one master followed by all', () => {
      const masters = among.filter(a => a.election.role === 'master')
      if (masters.length !== 1) return null
      return among.every(a => a === masters[0] || (a.election.role === 'slave' && a.election.masterId === masters[0].nodeId)) ? masters[0] : null
    })
  }

  async stop (): Promise<void> {
    for (const a of this.agents) await a.stop().catch(() => {})
    await rm(this.root, { recursive: true, force: true })
  }
}
