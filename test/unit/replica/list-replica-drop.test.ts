/** ListReplica.dropEntries: what tombstone collection forgets is gone from memory and the store, and nothing else. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { file, keysOf, Node, WL } from '../../helpers/replica-node.js'

describe('ListReplica.dropEntries', () => {
  /** a, b and c scanned, then b deleted (a tombstone). */
  async function withTombstone (node: Node): Promise<void> {
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', ''], ['c.example', '']))
    await node.replica.recordFileView(WL, file(['a.example', ''], ['b.example', ''], ['c.example', '']))
    await node.replica.applyScan(WL, file(['a.example', ''], ['c.example', '']))
    assert.equal(node.replica.get(WL, 'b.example')?.present, false)
  }

  test('forgets a tombstone in memory and in the store, and keeps every other entry', async (t) => {
    const node = await Node.create(t)
    await withTombstone(node)
    assert.equal(await node.replica.dropEntries(WL, ['b.example']), 1)
    assert.equal(node.replica.get(WL, 'b.example'), undefined)
    assert.deepEqual(keysOf([...node.replica.entries(WL)]).sort(), ['a.example', 'c.example'])
    await node.restart()
    assert.deepEqual(keysOf([...node.replica.entries(WL)]).sort(), ['a.example', 'c.example'])
  })

  test('is no change to sync: the change sequence stays', async (t) => {
    const node = await Node.create(t)
    await withTombstone(node)
    const seq = node.replica.changeSeq
    await node.replica.dropEntries(WL, ['b.example'])
    assert.equal(node.replica.changeSeq, seq)
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 0)).sort(), ['a.example', 'c.example'])
  })

  test('leaves a dropped present entry to be written, so its line goes from the file', async (t) => {
    const node = await Node.create(t)
    await withTombstone(node)
    await node.replica.recordFileView(WL, file(['a.example', ''], ['c.example', '']))
    await node.replica.dropEntries(WL, ['a.example'])
    assert.deepEqual([...node.replica.unwrittenChanges(WL)!], [['a.example', undefined]])
    assert.deepEqual([...node.replica.desired(WL).keys()], ['c.example'])
  })

  test('ignores keys it does not hold', async (t) => {
    const node = await Node.create(t)
    await withTombstone(node)
    assert.equal(await node.replica.dropEntries(WL, ['nothing.example']), 0)
    assert.equal(node.replica.get(WL, 'a.example')?.present, true)
  })

  test('keeps a later change to the dataset whole (the bucket index is rebuilt)', async (t) => {
    const node = await Node.create(t)
    await withTombstone(node)
    await node.replica.dropEntries(WL, ['b.example'])
    await node.replica.applyScan(WL, file(['a.example', ''], ['c.example', ''], ['d.example', '']))
    await node.restart()
    assert.deepEqual(keysOf([...node.replica.entries(WL)]).sort(), ['a.example', 'c.example', 'd.example'])
  })
})
