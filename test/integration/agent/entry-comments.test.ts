/**
 * Issue 15, "a one-line entry comment travels": `KEY VALUE # comment` reaches every node with the
 * entry, so the list files on all nodes say the same thing; whole-line comments stay in the file
 * they were written in; outputs read the value alone.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InProcessCluster } from '../../helpers/in-process.js'
import { waitFor } from '../../helpers/agents.js'
import type { Agent } from '../../../src/agent.js'

describe('entry comments between two agents', () => {
  let cluster: InProcessCluster
  let master: Agent
  let slave: Agent
  const outputOf = (agent: Agent): string => join(agent.config.settingsDir, '..', 'sender_access')
  const listOf = async (agent: Agent): Promise<string> => await readFile(join(agent.config.settingsDir, 'blacklist.txt'), 'utf8')

  before(async () => {
    cluster = await InProcessCluster.create('entry-comments')
    const outputs = (dir: string): any => [{ format: 'postfix-access', datasets: ['blacklist'], path: join(dir, 'sender_access') }]
    master = await cluster.start({ priority: 10, outputs: outputs(join(cluster.root, 'n0')) }, { 'blacklist.txt': '# kept on the master only\n' })
    slave = await cluster.start({ outputs: outputs(join(cluster.root, 'n1')) }, { 'blacklist.txt': '# kept on the slave only\n' })
    await cluster.oneMaster()
  })
  after(async () => { await cluster.stop() })

  test('an entry\'s comment travels with it; whole-line comments stay where they were written', async () => {
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), '# kept on the master only\nspam@bad.example 550 go away  # ticket 42\nnote.example   #just a note\n')
    const text = await waitFor('both entries on the slave', async () => {
      const t = await listOf(slave)
      return t.includes('note.example') && t.includes('spam@bad.example') ? t : null
    })
    assert.deepEqual(text.split('\n'), ['# kept on the slave only', 'note.example #just a note', 'spam@bad.example 550 go away # ticket 42', ''])
  })

  test('outputs on every node carry the value without the comment', async () => {
    for (const agent of [master, slave]) {
      const out = await waitFor('the output rendered', async () => {
        const t = await readFile(outputOf(agent), 'utf8').catch(() => '')
        return t.includes('spam@bad.example') && t.includes('note.example') ? t : null
      })
      const body = out.split('\n').filter(l => l !== '' && !l.startsWith('#'))
      assert.deepEqual(body, ['note.example REJECT', 'spam@bad.example 550 go away'])
      assert.ok(!out.includes('ticket 42') && !out.includes('just a note'))
    }
  })

  test('an edit of the comment alone travels back, and so does its removal', async () => {
    const file = join(slave.config.settingsDir, 'blacklist.txt')
    await writeFile(file, (await listOf(slave)).replace('# ticket 42', '# ticket 43'))
    await waitFor('the new comment on the master', async () => (await listOf(master)).includes('spam@bad.example 550 go away # ticket 43\n'))
    await writeFile(file, (await listOf(slave)).replace(' #just a note', ''))
    await waitFor('the comment removed on the master', async () => (await listOf(master)).includes('note.example\n'))
    assert.ok(!(await listOf(master)).includes('just a note'))
    assert.ok((await listOf(master)).startsWith('# kept on the master only\n'))
  })
})
