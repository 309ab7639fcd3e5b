/** ListReplica: how a scan of a settings file stamps the operator's edits, also across restarts. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compareStamps } from '../../../src/crdt/hlc.js'
import { assertNewer, entries, file, keysOf, MINUTE, NODE, Node, WL } from '../../helpers/replica-node.js'

describe('ListReplica.applyScan', () => {
  test('stamps every entry of a new file as a present local change', async (t) => {
    const node = await Node.create(t)
    const changed = await node.replica.applyScan(WL, file(['a@example.com', ''], ['example.org', 'partner']))
    assert.deepEqual(keysOf(changed).sort(), ['a@example.com', 'example.org'])
    for (const e of changed) {
      assert.equal(e.present, true)
      assert.equal(e.synced, false, 'a local edit is still to be uploaded')
      assert.equal(e.stamp.nodeId, NODE)
      assert.equal(e.stamp.wallMs, node.wallMs)
      assert.equal(await node.replica.fileValue(WL, e.key), e.value, 'the file view records what the file holds')
      assert.deepEqual(node.replica.get(WL, e.key), e)
    }
    assert.equal(node.replica.get(WL, 'example.org')?.value, 'partner')
    assert.notEqual(compareStamps(changed[0].stamp, changed[1].stamp), 0, 'each entry has its own stamp')
    assert.equal(node.replica.presentCount(WL), 2)
    assert.deepEqual(node.replica.desired(WL), entries(['a@example.com', ''], ['example.org', 'partner']))
  })

  test('entries added to a file of comments and bad lines only are stamped, the bad lines not, and a line twice once', async (t) => {
    const node = await Node.create(t)
    const before = '# dropped in below\nnot a domain!\n'
    await node.replica.applyScan(WL, before)
    assert.equal(node.replica.changeSeq, 0)
    const changed = await node.replica.applyScan(WL, before + 'b.example\na.example x\nb.example\n')
    assert.deepEqual(changed.map(e => `${e.key}=${e.value}`).sort(), ['a.example=x', 'b.example='])
    assert.deepEqual(changed.map(e => e.lseq).sort(), [1, 2])
  })

  test('gives each change the next local change sequence', async (t) => {
    const node = await Node.create(t)
    const changed = await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    assert.deepEqual(changed.map(e => e.lseq).sort(), [1, 2])
    assert.equal(node.replica.changeSeq, 2)
  })

  test('a rescan of the same content changes nothing', async (t) => {
    const node = await Node.create(t)
    const content = file(['a.example', ''], ['b.example', 'note'])
    await node.replica.applyScan(WL, content)
    const before = [...node.replica.entries(WL)].map(e => ({ ...e }))
    const seq = node.replica.changeSeq
    node.wallMs += 1000
    assert.deepEqual(await node.replica.applyScan(WL, content), [])
    assert.deepEqual([...node.replica.entries(WL)], before)
    assert.equal(node.replica.changeSeq, seq)
  })

  test('a changed value is a change with a newer stamp', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'old note']))
    const old = node.replica.get(WL, 'b.example')!
    const changed = await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'new note']))
    assert.deepEqual(keysOf(changed), ['b.example'])
    const now = node.replica.get(WL, 'b.example')!
    assert.equal(now.value, 'new note')
    assert.equal(now.present, true)
    assertNewer(now.stamp, old.stamp)
    assert.ok(now.lseq > old.lseq)
  })

  test('a removed line becomes a tombstone with a newer stamp', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'note']))
    const old = node.replica.get(WL, 'b.example')!
    const changed = await node.replica.applyScan(WL, file(['a.example', '']))
    assert.equal(changed.length, 1)
    const tombstone = node.replica.get(WL, 'b.example')!
    assert.deepEqual(changed[0], tombstone)
    assert.equal(tombstone.present, false)
    assert.equal(tombstone.value, '')
    assert.equal(await node.replica.fileValue(WL, tombstone.key), null)
    assertNewer(tombstone.stamp, old.stamp)
    assert.equal(node.replica.presentCount(WL), 1)
    assert.deepEqual(node.replica.desired(WL), entries(['a.example', '']))
  })

  test('stamps stay newer than earlier ones when the wall clock stands still', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '1']))
    const first = node.replica.get(WL, 'a.example')!.stamp
    await node.replica.applyScan(WL, file(['a.example', '2']))
    assertNewer(node.replica.get(WL, 'a.example')!.stamp, first)
  })

  test('a line added back after its removal is present again with a newer stamp', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    await node.replica.applyScan(WL, file())
    const tombstone = node.replica.get(WL, 'a.example')!
    const changed = await node.replica.applyScan(WL, file(['a.example', 'back']))
    assert.deepEqual(keysOf(changed), ['a.example'])
    assert.equal(node.replica.get(WL, 'a.example')?.present, true)
    assertNewer(node.replica.get(WL, 'a.example')!.stamp, tombstone.stamp)
  })

  test('a scan of one dataset leaves the others untouched', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan('blacklist', file(['spam.example', '']))
    await node.replica.applyScan(WL, file())
    assert.equal(node.replica.get('blacklist', 'spam.example')?.present, true)
    assert.equal(node.replica.presentCount(WL), 0)
  })
})

describe('ListReplica across restarts', () => {
  test('a scan of the unchanged file after a restart changes nothing', async (t) => {
    const node = await Node.create(t)
    const content = file(['a.example', ''], ['b.example', 'note'], ['c.example', ''])
    await node.replica.applyScan(WL, content)
    const before = [...node.replica.entries(WL)].map(e => ({ ...e }))
    await node.restart()
    assert.deepEqual([...node.replica.entries(WL)].sort((x, y) => x.lseq - y.lseq), before.sort((x, y) => x.lseq - y.lseq), 'the replica is loaded as it was')
    assert.deepEqual(await node.replica.applyScan(WL, content), [])
    assert.equal(node.replica.changeSeq, 3)
  })

  test('a line removed while the agent was stopped becomes exactly one tombstone', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'note'], ['c.example', '']))
    const old = node.replica.get(WL, 'b.example')!
    await node.restart()
    const changed = await node.replica.applyScan(WL, file(['a.example', ''], ['c.example', '']))
    assert.equal(changed.length, 1)
    assert.equal(changed[0].key, 'b.example')
    assert.equal(changed[0].present, false)
    assertNewer(changed[0].stamp, old.stamp)
    assert.equal(changed[0].lseq, 4, 'the change sequence continues where it stopped')
  })

  test('stamps after a restart are newer than before it even when the wall clock went back', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    const before = node.replica.get(WL, 'a.example')!.stamp
    await node.restart()
    node.wallMs -= 10 * MINUTE
    await node.replica.applyScan(WL, file())
    assertNewer(node.replica.get(WL, 'a.example')!.stamp, before)
  })
})
