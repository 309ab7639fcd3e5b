import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { defaultConfig, envName, flagName, groupSections, loadConfig, type ConfigSources } from '../../src/config.js'
import { DEFAULT_DATA_DIR, DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_SKEW_MS, DEFAULT_SETTINGS_DIR } from '../../src/constants.js'
import { ConfigError } from '../../src/errors.js'

/** A temp folder removed when the test ends, also when it fails. */
async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-config-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Writes `content` (an object is written as JSON) to a config file in a temp folder. */
async function configFile (t: TestContext, content: unknown): Promise<string> {
  const path = join(await tempDir(t), 'spamsync.json')
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

/** Asserts loading rejects with a ConfigError whose message matches every pattern. */
async function rejectsNaming (sources: ConfigSources, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(loadConfig(sources), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    for (const p of patterns) assert.match(err.message, p)
    return true
  })
}

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

  test('httpAllowedHosts refuses what is not a DNS name, naming the key', async (t) => {
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

describe('loadConfig errors name the key', () => {
  test('an unknown key in the file', async (t) => {
    const file = await configFile(t, { httpPort: 9000, htpPort: 9001 })
    await rejectsNaming({ file }, /unknown key htpPort \(did you mean httpPort\?\)/, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  })

  test('a key named like an Object.prototype member in the file is unknown too', async (t) => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
      const file = await configFile(t, { [key]: 1 })
      await rejectsNaming({ file }, new RegExp(`unknown key ${key}`))
    }
  })

  test('a string where the file needs a number', async (t) => {
    const file = await configFile(t, { httpPort: '9000' })
    await rejectsNaming({ file }, /httpPort must be a whole number/, /"9000"/)
  })

  test('a fractional number where the file needs a whole number', async (t) => {
    const file = await configFile(t, { debounceMs: 1.5 })
    await rejectsNaming({ file }, /debounceMs must be a whole number/)
  })

  test('a number where the file needs a list', async (t) => {
    const file = await configFile(t, { bootstrap: 5 })
    await rejectsNaming({ file }, /bootstrap must be a list of strings/)
  })

  test('a list with a non-string item in the file', async (t) => {
    const file = await configFile(t, { listen: ['/ip4/0.0.0.0/tcp/1', 2] })
    await rejectsNaming({ file }, /listen must be a list of strings/)
  })

  test('a string where the file needs true or false', async (t) => {
    const file = await configFile(t, { mdns: 'false' })
    await rejectsNaming({ file }, /mdns must be true or false/)
  })

  test('an empty string for a path in the file', async (t) => {
    const file = await configFile(t, { dataDir: '' })
    await rejectsNaming({ file }, /dataDir must be a string/)
  })

  test('httpPort out of range', async (t) => {
    const file = await configFile(t, { httpPort: 70000 })
    await rejectsNaming({ file }, /httpPort must be a whole number from 0 to 65535/, /70000/)
  })

  test('priority out of range, in the file and from the environment', async (t) => {
    const file = await configFile(t, { priority: 1000001 })
    await rejectsNaming({ file }, /priority must be a whole number from -1000000 to 1000000/)
    await rejectsNaming({ env: { SPAMSYNC_PRIORITY: '-1000001' } }, /SPAMSYNC_PRIORITY/, /priority must be/)
  })

  test('a role outside the enum', async (t) => {
    const file = await configFile(t, { role: 'boss' })
    await rejectsNaming({ file }, /role must be one of auto, master, slave/, /"boss"/)
  })

  test('a bad log level from a flag, naming the flag', async () => {
    await rejectsNaming({ flags: { logLevel: 'loud' } }, /--log-level/, /logLevel must be one of debug, info, warn, error, silent/)
  })

  test('a non-number environment value, naming the variable', async () => {
    await rejectsNaming({ env: { SPAMSYNC_HTTP_PORT: 'abc' } }, /SPAMSYNC_HTTP_PORT/, /httpPort must be a whole number/, /"abc"/)
  })

  test('a number in exponent form from the environment', async () => {
    await rejectsNaming({ env: { SPAMSYNC_HTTP_PORT: '8e3' } }, /httpPort must be a whole number/)
  })

  test('a non-boolean environment value', async () => {
    await rejectsNaming({ env: { SPAMSYNC_MDNS: 'maybe' } }, /SPAMSYNC_MDNS/, /mdns must be true or false/)
  })

  test('a bad value from a flag, naming the flag', async () => {
    await rejectsNaming({ flags: { httpPort: 'eighty' } }, /--http-port/, /httpPort must be/)
  })

  test('a config file that cannot be read', async (t) => {
    const missing = join(await tempDir(t), 'missing.json')
    await rejectsNaming({ file: missing }, /cannot read config/, /missing\.json/, /ENOENT/)
  })

  test('a config file that is not JSON', async (t) => {
    const file = await configFile(t, '{ "httpPort": 80, }')
    await rejectsNaming({ file }, /cannot read config/, /spamsync\.json/)
  })

  test('a config file that is JSON but not an object', async (t) => {
    for (const content of ['[1, 2]', '"text"', '42', 'null']) {
      const file = await configFile(t, content)
      await rejectsNaming({ file }, /must be a JSON object/)
    }
  })

  test('a later valid source does not hide an error in an earlier one', async (t) => {
    const file = await configFile(t, { httpPort: 70000 })
    await rejectsNaming({ file, flags: { httpPort: '80' } }, /httpPort/)
  })
})

describe('hooks and schedule keys', () => {
  test('a hooks section gives hooksAfterApply and hooksTimeoutSeconds', async (t) => {
    const file = await configFile(t, { hooks: { afterApply: 'postmap /etc/postfix/access', timeoutSeconds: 5 } })
    const config = await loadConfig({ file })
    assert.equal(config.hooksAfterApply, 'postmap /etc/postfix/access')
    assert.equal(config.hooksTimeoutSeconds, 5)
  })

  test('the flat keys work in a file, the environment and flags', async (t) => {
    const file = await configFile(t, { hooksAfterApply: 'true', uploadIntervalHours: 24 })
    const config = await loadConfig({ file, env: { SPAMSYNC_DOWNLOAD_INTERVAL_HOURS: '6' }, flags: { hooksTimeoutSeconds: '30' } })
    assert.equal(config.hooksAfterApply, 'true')
    assert.equal(config.uploadIntervalHours, 24)
    assert.equal(config.downloadIntervalHours, 6)
    assert.equal(config.hooksTimeoutSeconds, 30)
  })

  test('the interval limits 1 and 240 are allowed, and 0 is off', async (t) => {
    const file = await configFile(t, { uploadIntervalHours: 1, downloadIntervalHours: 240 })
    const config = await loadConfig({ file })
    assert.equal(config.uploadIntervalHours, 1)
    assert.equal(config.downloadIntervalHours, 240)
    const off = await loadConfig({ file: await configFile(t, { uploadIntervalHours: 0, downloadIntervalHours: 0 }) })
    assert.equal(off.uploadIntervalHours, 0)
  })

  test('a command may be empty (none), a path may not', async (t) => {
    const file = await configFile(t, { hooks: { afterApply: '' }, bayes: { exportCommand: '' } })
    assert.equal((await loadConfig({ file })).hooksAfterApply, '')
    await rejectsNaming({ file: await configFile(t, { settingsDir: '' }) }, /settingsDir must be a string/)
  })

  test('an unknown key in the hooks section, named as the file writes it, with the nearest key', async (t) => {
    const file = await configFile(t, { hooks: { afterAply: 'true' } })
    await rejectsNaming({ file }, /unknown key hooks\.afterAply \(did you mean hooks\.afterApply\?\)/)
  })

  test('an unknown key far from every known one gets no suggestion', async (t) => {
    const file = await configFile(t, { wholeDifferentThing: 1 })
    await rejectsNaming({ file }, /unknown key wholeDifferentThing$/)
  })

  test('a hooks section that is not an object', async (t) => {
    const file = await configFile(t, { hooks: 'postmap x' })
    await rejectsNaming({ file }, /hooks must be an object/)
  })

  test('a command that is not a string', async (t) => {
    const file = await configFile(t, { hooks: { afterApply: ['postmap', 'x'] } })
    await rejectsNaming({ file }, /hooksAfterApply must be a string/)
  })

  test('an interval that is not a whole number', async (t) => {
    await rejectsNaming({ file: await configFile(t, { uploadIntervalHours: '24' }) }, /uploadIntervalHours must be a whole number from 0 to 240/, /"24"/)
    await rejectsNaming({ file: await configFile(t, { downloadIntervalHours: 1.5 }) }, /downloadIntervalHours must be a whole number/)
  })

  test('intervals out of range: 241 and below 0', async (t) => {
    await rejectsNaming({ file: await configFile(t, { uploadIntervalHours: 241 }) }, /uploadIntervalHours must be a whole number from 0 to 240/, /241/)
    await rejectsNaming({ file: await configFile(t, { downloadIntervalHours: -1 }) }, /downloadIntervalHours must be a whole number from 0 to 240/)
    await rejectsNaming({ env: { SPAMSYNC_UPLOAD_INTERVAL_HOURS: '241' } }, /SPAMSYNC_UPLOAD_INTERVAL_HOURS/, /uploadIntervalHours/)
  })

  test('a hook timeout of 0 is out of range', async (t) => {
    await rejectsNaming({ file: await configFile(t, { hooks: { timeoutSeconds: 0 } }) }, /hooksTimeoutSeconds must be a whole number from 1 to 86400/)
  })

  test('equal upload and download intervals are refused, naming both keys', async (t) => {
    const file = await configFile(t, { uploadIntervalHours: 12, downloadIntervalHours: 12 })
    await rejectsNaming({ file }, /uploadIntervalHours/, /downloadIntervalHours/, /must differ/)
  })

  test('equal intervals from different sources are refused too', async (t) => {
    const file = await configFile(t, { uploadIntervalHours: 12 })
    await rejectsNaming({ file, flags: { downloadIntervalHours: '12' } }, /uploadIntervalHours and downloadIntervalHours must differ/)
  })
})

describe('paths in a config file', () => {
  test('relative folders are taken relative to the config file, not the working folder', async (t) => {
    const file = await configFile(t, { dataDir: 'data', settingsDir: './settings', clusterKey: '../keys/cluster.key' })
    const dir = dirname(file)
    const config = await loadConfig({ file })
    assert.equal(config.dataDir, join(dir, 'data'))
    assert.equal(config.settingsDir, join(dir, 'settings'))
    assert.equal(config.clusterKey, join(dir, '..', 'keys', 'cluster.key'))
  })

  test('the derived clusterKey follows a dataDir from the file', async (t) => {
    const file = await configFile(t, { dataDir: 'data' })
    assert.equal((await loadConfig({ file })).clusterKey, join(dirname(file), 'data', 'cluster.key'))
  })

  test('absolute folders are kept', async (t) => {
    const file = await configFile(t, { dataDir: '/var/lib/spamsync' })
    assert.equal((await loadConfig({ file })).dataDir, '/var/lib/spamsync')
  })

  test('folders from the environment and flags stay as given (relative to the working folder)', async (t) => {
    const file = await configFile(t, { dataDir: 'data' })
    const config = await loadConfig({ file, env: { SPAMSYNC_SETTINGS_DIR: 'env-settings' }, flags: { dataDir: 'flag-data' } })
    assert.equal(config.settingsDir, 'env-settings')
    assert.equal(config.dataDir, 'flag-data')
  })
})

describe('commandDir: where the Bayes commands and hooks run', () => {
  test("the config file's folder by default, so relative paths in commands agree with the file's", async (t) => {
    const file = await configFile(t, { hooks: { afterApply: './reload.sh' } })
    assert.equal((await loadConfig({ file })).commandDir, dirname(file))
  })

  test('the working folder without a config file', async () => {
    assert.equal((await loadConfig({})).commandDir, process.cwd())
  })

  test('a relative commandDir in the file is relative to the file', async (t) => {
    const file = await configFile(t, { commandDir: 'scripts' })
    assert.equal((await loadConfig({ file })).commandDir, join(dirname(file), 'scripts'))
  })
})

describe('groupSections', () => {
  test('groups bayes and hooks keys into sections that load back to the same config', async (t) => {
    const config = { ...defaultConfig(), name: 'mx1', dataDir: '/d', settingsDir: '/s', clusterKey: '/k', commandDir: '/c', hooksAfterApply: 'true', bayesMaxTokens: 5 }
    const grouped = groupSections(config)
    assert.deepEqual(grouped.hooks, { afterApply: 'true', timeoutSeconds: 60 })
    assert.equal((grouped.bayes as Record<string, unknown>).maxTokens, 5)
    assert.equal(grouped.hooksAfterApply, undefined)
    assert.deepEqual(await loadConfig({ file: await configFile(t, grouped) }), config)
  })
})

describe('config file comments', () => {
  test('// comments are ignored outside strings, and // inside a string is kept', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'spamsync-cfg-comments-'))
    t.after(async () => { await rm(dir, { recursive: true, force: true }) })
    const file = join(dir, 'spamsync.json')
    await writeFile(file, '// top\n{\n  // the hook\n  "hooks": { "afterApply": "curl http://127.0.0.1/reload // not a comment" }, // trailing\n  "priority": 3\n}\n')
    const config = await loadConfig({ file })
    assert.equal(config.hooksAfterApply, 'curl http://127.0.0.1/reload // not a comment')
    assert.equal(config.priority, 3)
  })
})

describe('outputs', () => {
  const one = { format: 'postfix-access', datasets: ['whitelist', 'blacklist'], path: 'maps/sender_access', command: 'postmap hash:maps/sender_access' }

  test('are read with paths relative to the config file; disabled ones are left out', async (t) => {
    const file = await configFile(t, { outputs: [one, { ...one, path: '/abs/x', enabled: false }, { format: 'rspamd-ip', datasets: ['blacklist'], path: '/abs/ip.map' }] })
    const config = await loadConfig({ file })
    assert.deepEqual(config.outputs, [
      { format: 'postfix-access', datasets: ['whitelist', 'blacklist'], path: join(dirname(file), 'maps/sender_access'), command: 'postmap hash:maps/sender_access' },
      { format: 'rspamd-ip', datasets: ['blacklist'], path: '/abs/ip.map', command: '' }
    ])
  })

  test('default to none', async () => {
    assert.deepEqual((await loadConfig({})).outputs, [])
  })

  test('a bad entry is refused naming outputs[i] and the field', async (t) => {
    await rejectsNaming({ file: await configFile(t, { outputs: [one, { ...one, format: 'exim' }] }) }, /outputs\[1\]\.format must be one of postfix-access, postfix-cidr, spamassassin, rspamd-from, rspamd-ip/)
    await rejectsNaming({ file: await configFile(t, { outputs: [{ ...one, datasets: ['greylist'] }] }) }, /outputs\[0\]\.datasets must be a non-empty list/)
    await rejectsNaming({ file: await configFile(t, { outputs: [{ ...one, datasets: [] }] }) }, /outputs\[0\]\.datasets/)
    await rejectsNaming({ file: await configFile(t, { outputs: [{ ...one, path: '' }] }) }, /outputs\[0\]\.path must be a file path/)
    await rejectsNaming({ file: await configFile(t, { outputs: [{ ...one, command: 3 }] }) }, /outputs\[0\]\.command must be a string/)
    await rejectsNaming({ file: await configFile(t, { outputs: [{ ...one, reload: 'x' }] }) }, /outputs\[0\]: unknown field reload/)
    await rejectsNaming({ file: await configFile(t, { outputs: [one, one] }) }, /outputs\[1\]\.path .* is also outputs\[0\]\.path/)
    await rejectsNaming({ file: await configFile(t, { outputs: { format: 'postfix-access' } }) }, /outputs must be a list/)
  })

  test('an rspamd map mixing allow and block lists is refused', async (t) => {
    await rejectsNaming({ file: await configFile(t, { outputs: [{ format: 'rspamd-from', datasets: ['whitelist', 'blacklist'], path: 'from.map' }] }) }, /outputs\[0\]: a rspamd-from map holds one verdict/)
  })
})

describe('name: the node\'s name in status, metrics and logs', () => {
  test('defaults to the host name; the file, SPAMSYNC_NAME and --name set it, later ones winning', async (t) => {
    assert.equal((await loadConfig({})).name, hostname())
    const file = await configFile(t, { name: 'mx-file' })
    assert.equal((await loadConfig({ file })).name, 'mx-file')
    assert.equal((await loadConfig({ file, env: { SPAMSYNC_NAME: 'mx-env' } })).name, 'mx-env')
    assert.equal((await loadConfig({ file, env: { SPAMSYNC_NAME: 'mx-env' }, flags: { name: 'mx-flag' } })).name, 'mx-flag')
  })

  test('a name longer than 64 characters or with control characters is refused, naming the key', async (t) => {
    await rejectsNaming({ flags: { name: 'm'.repeat(65) } }, /--name: name must be a string of at most 64 characters/)
    await rejectsNaming({ file: await configFile(t, { name: 'mx1\u001b[2J' }) }, /name must be a string of at most 64 characters, without control characters/)
    assert.equal((await loadConfig({ flags: { name: 'm'.repeat(64) } })).name, 'm'.repeat(64))
  })
})
