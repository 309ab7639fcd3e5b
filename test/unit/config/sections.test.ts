/** Config sections and keys with rules of their own: hooks and schedule, paths, commandDir, comments, outputs, name. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { defaultConfig, groupSections, loadConfig } from '../../../src/config.js'
import { configFile, rejectsNaming } from './config-files.js'

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
