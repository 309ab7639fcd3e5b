/**
 * Issue 17: a one-line change reaches a receiver's list file as an append in place (same inode),
 * not as a rewrite of the whole file, with the bytes a full render writes; an operator's edit
 * made on the receiver at the same time is kept in both files.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'
import { waitFor } from '../../helpers/agents.js'
import { parseListFile } from '../../../src/settings/list-file.js'
import { renderListFile } from '../../../src/settings/list-render.js'
import type { Agent } from '../../../src/agent.js'

/** A list of comments, entries with fields and a bad line, as an operator keeps it. */
const LIST = '# operator notes\n' + Array.from({ length: 2000 }, (_, i) => `host-${i}.example${i % 7 === 0 ? ' note' : ''}\n`).join('') + 'not a key!\n'

describe('a change written to a receiver\'s list file', () => {
  let cluster: InProcessCluster
  let master: Agent
  let slave: Agent
  const file = (a: Agent): string => join(a.config.settingsDir, 'blacklist.txt')

  before(async () => {
    cluster = await InProcessCluster.create('append-write')
    master = await cluster.start({ priority: 10 }, { 'blacklist.txt': LIST })
    slave = await cluster.start({}, { 'blacklist.txt': LIST })
    await cluster.oneMaster()
    await waitFor('both agents hold every key', () => [master, slave].every(a => (a.status() as any).datasets.blacklist.entries === 2000))
  })
  after(async () => { await cluster.stop() })

  test('arrives as an append to the same file, byte for byte what a full render writes', async () => {
    const ino = (await stat(file(slave), { bigint: true })).ino
    const before = await readFile(file(slave), 'utf8')
    await appendFile(file(master), 'added.example\n')
    await waitFor('added.example on the slave', async () => (await listKeys(slave)).includes('added.example'))
    assert.equal((await stat(file(slave), { bigint: true })).ino, ino)
    const desired = new Map(parseListFile(before, 'blacklist.txt').entries).set('added.example', '')
    assert.equal(await readFile(file(slave), 'utf8'), renderListFile(parseListFile(before, 'blacklist.txt'), desired))
  })

  test('an operator\'s line appended on the receiver while a change arrives is kept in both files', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => [`from-master-${i}.example`, `from-slave-${i}.example`])
    for (const [i, [m, s]] of lines.entries()) {
      await appendFile(file(master), `${m}\n`)
      // Varied, so the slave's append lands before, during and after the write of the master's line.
      await new Promise(resolve => setTimeout(resolve, 5 * (i % 7)))
      await appendFile(file(slave), `${s}\n`)
    }
    const all = lines.flat()
    for (const a of [master, slave]) await waitFor(`every line in ${a === master ? 'the master' : 'the slave'}'s file`, async () => { const keys = await listKeys(a); return all.every(k => keys.includes(k)) })
    // Whole lines only: nothing of one line ran into another.
    const keys = await listKeys(slave)
    assert.equal(keys.length, new Set(keys).size)
    assert.ok(keys.every(k => /^(host-\d+|added|from-(master|slave)-\d+)\.example$/.test(k) || k === 'not'), keys.join(' '))
  })

  test('a removal rewrites the receiver\'s file', async () => {
    const ino = (await stat(file(slave), { bigint: true })).ino
    const text = await readFile(file(master), 'utf8')
    await writeFile(file(master), text.replace('host-5.example\n', ''))
    await waitFor('host-5.example gone on the slave', async () => !(await listKeys(slave)).includes('host-5.example'))
    assert.notEqual((await stat(file(slave), { bigint: true })).ino, ino)
  })
})
