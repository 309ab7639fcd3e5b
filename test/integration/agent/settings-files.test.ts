/**
 * Issue 13 items 13, 14 and 16 with a running agent: /status stays small whatever the settings
 * files hold, a symlink out of the settings folder is refused and its target never shown, and a
 * line that is not UTF-8 stays in the file byte for byte and is not synced.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rename, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'
import { waitFor } from '../../helpers/agents.js'
import type { Agent } from '../../../src/agent.js'

describe('settings files a running agent refuses or reports in bounds', () => {
  let cluster: InProcessCluster
  let master: Agent
  let slave: Agent
  const notUtf8 = Buffer.from([0x62, 0xff, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x0a])

  before(async () => {
    cluster = await InProcessCluster.create('settings-files')
    master = await cluster.start({ priority: 10 })
    slave = await cluster.start({}, {
      // One invalid line of 10 MB.
      'whitelist.txt': 'good.example\n' + 'x'.repeat(10 * 1024 * 1024) + '..bad\n',
      'bayes.txt': 'v\t3\tdb_version # this must be the first line!!!\n' + 'junk\n'.repeat(200_000)
    })
    await cluster.oneMaster()
  })
  after(async () => { await cluster.stop() })

  test('status reports the first invalid lines, cut short, and their count', async () => {
    const s = slave.status() as any
    assert.equal(s.datasets.whitelist.invalidCount, 1)
    assert.equal(s.datasets.whitelist.invalidLines[0].text.length, 201)
    await waitFor('bayes.txt read', () => (slave.status() as any).datasets.bayes.invalidCount === 200_000)
    assert.equal((slave.status() as any).datasets.bayes.invalidLines.length, 100)
    const size = JSON.stringify(slave.status()).length
    console.log(`status with a 10 MB invalid line and 200k junk bayes lines: ${size} bytes`)
    assert.ok(size < 100_000, `status is ${size} bytes`)
  })

  test('a list file that is a symlink to the cluster key is refused and the key never shown', async () => {
    const key = (await readFile(cluster.keyFile, 'utf8')).trim()
    // Put in place of the file the agent created at start, in one step.
    await symlink(cluster.keyFile, join(slave.config.settingsDir, 'link.tmp'))
    await rename(join(slave.config.settingsDir, 'link.tmp'), join(slave.config.settingsDir, 'autowhitelist.txt'))
    const s = await waitFor('the refusal in status', () => {
      const s = slave.status() as any
      return s.datasets.autowhitelist.fileError !== undefined ? s : null
    })
    assert.match(s.datasets.autowhitelist.fileError, /^UnsafeSettingsFileError: .*symlink out of the settings folder/)
    assert.ok(s.errors.some((e: any) => e.what === 'read autowhitelist'))
    assert.ok(!JSON.stringify(s).includes(key))
    // A sync write is refused too: the key file is never overwritten.
    await writeFile(join(master.config.settingsDir, 'autowhitelist.txt'), 'auto.example\n')
    await waitFor('the write refused', () => (slave.status() as any).errors.some((e: any) => e.what === 'write autowhitelist'))
    assert.equal((await readFile(cluster.keyFile, 'utf8')).trim(), key)
    // Retried every heartbeat, reported once: count the retries as they happen.
    const folder = (slave as any).state.folder
    const write = folder.write.bind(folder)
    let tries = 0
    folder.write = async (ds: string) => { if (ds === 'autowhitelist') tries++; return await write(ds) }
    await waitFor('three more tries to write autowhitelist.txt', () => tries >= 3)
    assert.equal((slave.status() as any).errors.filter((e: any) => e.what === 'write autowhitelist').length, 1)
  })

  test('a line that is not UTF-8 is kept byte for byte, reported, and not synced', async () => {
    const file = join(slave.config.settingsDir, 'blacklist.txt')
    await writeFile(file, Buffer.concat([Buffer.from('ok.example\n'), notUtf8]))
    await waitFor('ok.example on the master', async () => (await listKeys(master)).includes('ok.example'))
    // A change from the master makes the slave rewrite the file.
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), 'ok.example\nfrom-master.example\n')
    await waitFor('from-master.example on the slave', async () => (await listKeys(slave)).includes('from-master.example'))
    const bytes = await readFile(file)
    assert.ok(bytes.includes(notUtf8), 'the line keeps its bytes')
    assert.ok(!bytes.includes(Buffer.from('\ufffd')), 'no replacement character')
    // Reported at the line where it now stands (a rewrite may move it), once the status caught up.
    const line = bytes.subarray(0, bytes.indexOf(notUtf8)).filter(b => b === 0x0a).length + 1
    await waitFor('the bad line reported where it stands', () => {
      const bad = (slave.status() as any).datasets.blacklist.invalidLines
      return JSON.stringify(bad.map((l: any) => [l.line, l.reason])) === JSON.stringify([[line, 'not valid UTF-8 (kept as it is, never synced)']])
    })
    assert.ok(!(await readFile(join(master.config.settingsDir, 'blacklist.txt'))).includes(Buffer.from('\ufffd')))
    assert.deepEqual(await listKeys(master), ['from-master.example', 'ok.example'])
  })
})
