/**
 * Configuration of agents run in the test process: 127.0.0.1 on free ports, mDNS off, a
 * short debounce, no logs. Tests pass what they are about as overrides.
 */
import { join } from 'node:path'
import { defaultConfig, type Config } from '../../src/config.js'

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
