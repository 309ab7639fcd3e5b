/**
 * Configuration of agents run in the test process: 127.0.0.1 on free ports, mDNS off, a
 * short debounce, no logs. Tests pass what they are about as overrides.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultConfig, type Config } from '../../src/config.js'
import type { Agent } from '../../src/agent.js'

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
