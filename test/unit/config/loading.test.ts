/** loadConfig: key names, defaults, the precedence of file, environment and flags, and how values are parsed. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { defaultConfig, envName, flagName, loadConfig } from '../../../src/config.js'
import { DEFAULT_DATA_DIR, DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_SKEW_MS, DEFAULT_SETTINGS_DIR } from '../../../src/constants.js'
import { configFile } from './config-files.js'

describe('envName and flagName', () => {
  test('envName turns a camelCase key into SPAMSYNC_UPPER_SNAKE', () => {
    assert.equal(envName('dataDir'), 'SPAMSYNC_DATA_DIR')
    assert.equal(envName('rescanIntervalSeconds'), 'SPAMSYNC_RESCAN_INTERVAL_SECONDS')
    assert.equal(envName('mdns'), 'SPAMSYNC_MDNS')
  })

  test('flagName turns a camelCase key into kebab-case', () => {
    assert.equal(flagName('dataDir'), 'data-dir')
    assert.equal(flagName('rescanIntervalSeconds'), 'rescan-interval-seconds')
    assert.equal(flagName('mdns'), 'mdns')
  })
})

describe('loadConfig defaults', () => {
  test('gives the documented defaults when nothing is given', async () => {
    const config = await loadConfig({})
    assert.deepEqual(config, {
      name: hostname(),
      dataDir: DEFAULT_DATA_DIR,
      settingsDir: DEFAULT_SETTINGS_DIR,
      maxSettingsFileBytes: 256 * 1024 * 1024,
      clusterKey: join(DEFAULT_DATA_DIR, 'cluster.key'),
      listen: ['/ip4/0.0.0.0/tcp/4737'],
      bootstrap: [],
      mdns: true,
      httpPort: 8737,
      httpHost: '127.0.0.1',
      httpAllowedHosts: [],
      priority: 0,
      role: 'auto',
      strictVersion: false,
      debounceMs: DEFAULT_DEBOUNCE_MS,
      rescanIntervalSeconds: 60,
      maxSkewMs: DEFAULT_MAX_SKEW_MS,
      logLevel: 'info',
      commandDir: process.cwd(),
      bayesExportCommand: '',
      bayesImportCommand: '',
      bayesScanIntervalSeconds: 300,
      bayesCommandTimeoutSeconds: 120,
      bayesMaxTokens: 0,
      hooksAfterApply: '',
      hooksTimeoutSeconds: 60,
      uploadIntervalHours: 0,
      downloadIntervalHours: 0,
      historyVersions: 50,
      historyFloorBytes: 256 * 1024,
      historyFactor: 3,
      tombstoneKeepHours: 24,
      fanOut: true,
      outputs: []
    })
  })

  test('takes the keys of a bayes section as bayesX keys', async (t) => {
    const file = await configFile(t, { bayes: { exportCommand: 'sa-learn --backup > b.txt', scanIntervalSeconds: 60 } })
    const config = await loadConfig({ file })
    assert.equal(config.bayesExportCommand, 'sa-learn --backup > b.txt')
    assert.equal(config.bayesScanIntervalSeconds, 60)
  })

  test('derives clusterKey from the configured dataDir', async () => {
    const config = await loadConfig({ flags: { dataDir: '/var/lib/spamsync' } })
    assert.equal(config.clusterKey, '/var/lib/spamsync/cluster.key')
  })

  test('keeps a clusterKey that is given', async () => {
    const config = await loadConfig({ flags: { dataDir: '/var/lib/spamsync', clusterKey: '/etc/spamsync/key' } })
    assert.equal(config.clusterKey, '/etc/spamsync/key')
  })

  test('reads only SPAMSYNC_* variables from the environment', async () => {
    const config = await loadConfig({ env: { HTTP_PORT: '1', PORT: '2', DATA_DIR: '/x' } })
    assert.deepEqual(config, await loadConfig({}))
  })

  test('does not share default lists between loads', async () => {
    const first = await loadConfig({})
    first.listen.push('/ip4/127.0.0.1/tcp/1')
    assert.deepEqual((await loadConfig({})).listen, ['/ip4/0.0.0.0/tcp/4737'])
    assert.deepEqual(defaultConfig().listen, ['/ip4/0.0.0.0/tcp/4737'])
  })
})

describe('loadConfig precedence', () => {
  test('the file overrides the defaults', async (t) => {
    const file = await configFile(t, { httpPort: 9000, role: 'slave', bootstrap: ['/dns4/peer/tcp/4737'] })
    const config = await loadConfig({ file })
    assert.equal(config.httpPort, 9000)
    assert.equal(config.role, 'slave')
    assert.deepEqual(config.bootstrap, ['/dns4/peer/tcp/4737'])
    assert.equal(config.priority, 0, 'keys the file does not set keep their default')
  })

  test('the environment overrides the file', async (t) => {
    const file = await configFile(t, { httpPort: 9000, priority: 5 })
    const config = await loadConfig({ file, env: { SPAMSYNC_HTTP_PORT: '9100' } })
    assert.equal(config.httpPort, 9100)
    assert.equal(config.priority, 5)
  })

  test('flags override the environment and the file', async (t) => {
    const file = await configFile(t, { httpPort: 9000, priority: 5, role: 'slave' })
    const config = await loadConfig({
      file,
      env: { SPAMSYNC_HTTP_PORT: '9100', SPAMSYNC_PRIORITY: '7' },
      flags: { httpPort: '9200' }
    })
    assert.equal(config.httpPort, 9200, 'flag beats env and file')
    assert.equal(config.priority, 7, 'env beats file')
    assert.equal(config.role, 'slave', 'file beats default')
  })

  test('a flag left undefined does not override', async () => {
    const config = await loadConfig({ env: { SPAMSYNC_HTTP_PORT: '9100' }, flags: { httpPort: undefined } })
    assert.equal(config.httpPort, 9100)
  })

  test('httpAllowedHosts takes DNS names from the file, the environment (comma-separated) and repeated flags', async (t) => {
    const file = await configFile(t, { httpAllowedHosts: ['mail1.example.com'] })
    assert.deepEqual((await loadConfig({ file })).httpAllowedHosts, ['mail1.example.com'])
    assert.deepEqual((await loadConfig({ env: { SPAMSYNC_HTTP_ALLOWED_HOSTS: 'a.example, b.example' } })).httpAllowedHosts, ['a.example', 'b.example'])
    assert.deepEqual((await loadConfig({ flags: { httpAllowedHosts: ['c.example', 'd'] } })).httpAllowedHosts, ['c.example', 'd'])
  })

  test('httpAllowedHosts refuses what is not a DNS name, naming the key', async () => {
    for (const bad of ['http://a.example', 'a.example:8737', '*.example', 'a b', '-a.example']) {
      await assert.rejects(loadConfig({ flags: { httpAllowedHosts: [bad] } }), /--http-allowed-hosts: httpAllowedHosts must be a list of DNS names/)
    }
  })

  test('an empty environment variable does not override', async (t) => {
    const file = await configFile(t, { httpHost: '0.0.0.0' })
    const config = await loadConfig({ file, env: { SPAMSYNC_HTTP_HOST: '' } })
    assert.equal(config.httpHost, '0.0.0.0')
  })
})

describe('loadConfig value parsing', () => {
  test('--no-mdns (a boolean false flag) turns mDNS off', async () => {
    const config = await loadConfig({ flags: { mdns: false } })
    assert.equal(config.mdns, false)
  })

  test('a boolean false flag overrides a true from the environment', async () => {
    const config = await loadConfig({ env: { SPAMSYNC_STRICT_VERSION: 'true' }, flags: { strictVersion: false } })
    assert.equal(config.strictVersion, false)
  })

  test('boolean environment values accept true/false, 1/0, yes/no, on/off', async () => {
    for (const [raw, expected] of [['true', true], ['1', true], ['YES', true], ['on', true], ['false', false], ['0', false], ['no', false], ['Off', false]] as const) {
      const config = await loadConfig({ env: { SPAMSYNC_MDNS: raw, SPAMSYNC_STRICT_VERSION: raw } })
      assert.equal(config.mdns, expected, `SPAMSYNC_MDNS=${raw}`)
      assert.equal(config.strictVersion, expected, `SPAMSYNC_STRICT_VERSION=${raw}`)
    }
  })

  test('a comma list in the environment becomes a list', async () => {
    const config = await loadConfig({ env: { SPAMSYNC_BOOTSTRAP: 'a,b' } })
    assert.deepEqual(config.bootstrap, ['a', 'b'])
  })

  test('a comma list is trimmed and empty items are dropped', async () => {
    const config = await loadConfig({ env: { SPAMSYNC_LISTEN: ' /ip4/1.2.3.4/tcp/1 ,, /ip4/5.6.7.8/tcp/2 ,' } })
    assert.deepEqual(config.listen, ['/ip4/1.2.3.4/tcp/1', '/ip4/5.6.7.8/tcp/2'])
  })

  test('a repeated flag (a list of strings) becomes the list', async () => {
    const config = await loadConfig({ flags: { bootstrap: ['/ip4/10.0.0.1/tcp/4737', '/ip4/10.0.0.2/tcp/4737'] } })
    assert.deepEqual(config.bootstrap, ['/ip4/10.0.0.1/tcp/4737', '/ip4/10.0.0.2/tcp/4737'])
  })

  test('whole numbers from the environment are parsed, negative ones too', async () => {
    const config = await loadConfig({ env: { SPAMSYNC_PRIORITY: '-20', SPAMSYNC_DEBOUNCE_MS: ' 50 ' } })
    assert.equal(config.priority, -20)
    assert.equal(config.debounceMs, 50)
  })

  test('range limits are inclusive', async () => {
    const config = await loadConfig({ env: { SPAMSYNC_HTTP_PORT: '65535', SPAMSYNC_PRIORITY: '-1000000' } })
    assert.equal(config.httpPort, 65535)
    assert.equal(config.priority, -1000000)
  })
})
