/**
 * The store keeps no change log: "changed since" reads the entry buckets, so a list with churn
 * leaves nothing behind but its live entries, and an older store's log is deleted when opened.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Level } from 'level'
import { STORE_FORMAT } from '../../../src/store/state-store.js'
import { file, keysOf, Node, WL } from '../../helpers/replica-node.js'

/** Scans that give lseq 1-3 (a, b, c), then 4 (b changed), 5 (d added), 6 (a changed). */
async function history (node: Node): Promise<void> {
  await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', ''], ['c.example', '']))
  await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'x'], ['c.example', '']))
  await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'x'], ['c.example', ''], ['d.example', '']))
  await node.replica.applyScan(WL, file(['a.example', 'y'], ['b.example', 'x'], ['c.example', ''], ['d.example', '']))
}

/** The raw LevelDB keys of a closed store that start with `prefix`. */
async function rawKeys (dir: string, prefix: string): Promise<string[]> {
  const db = new Level<string, string>(dir)
  try {
    return await db.keys({ gte: prefix, lt: prefix + '\xff' }).all()
  } finally {
    await db.close()
  }
}

describe('StateStore without a change log', () => {
  test('commits write no change-log records', async (t) => {
    const node = await Node.create(t)
    await history(node)
    await node.store.close()
    assert.deepEqual(await rawKeys(node.dir, 'c!'), [])
    assert.notDeepEqual(await rawKeys(node.dir, 'e!'), [])
    await node.start()
  })

  test('opening a format-5 store deletes its change log and keeps its entries', async (t) => {
    const node = await Node.create(t)
    await history(node)
    const before = await node.replica.changedSince(WL, 0)
    await node.store.close()
    // As an agent of format 5 left it: change-log records next to the entries.
    const db = new Level<string, string>(node.dir)
    await db.batch([
      { type: 'put', key: 'm!storeFormat', value: '5' },
      { type: 'put', key: `c!${WL}!${'3'.padStart(16, '0')}`, value: 'a.example\nb.example\nc.example' },
      { type: 'put', key: `c!blacklist!${'7'.padStart(16, '0')}`, value: 'spam.example' }
    ])
    await db.close()
    await node.start()
    assert.equal(await node.store.getMeta('storeFormat'), STORE_FORMAT)
    assert.deepEqual(await node.replica.changedSince(WL, 0), before)
    await node.store.close()
    assert.deepEqual(await rawKeys(node.dir, 'c!'), [])
    await node.start()
  })
})

describe('ListReplica.changedSince from the buckets', () => {
  test('gives the entries changed after a point, oldest change first', async (t) => {
    const node = await Node.create(t)
    await history(node)
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 3)), ['b.example', 'd.example', 'a.example'])
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 5)), ['a.example'])
    assert.deepEqual(await node.replica.changedSince(WL, 6), [])
  })

  test('gives the same entries after a restart', async (t) => {
    const node = await Node.create(t)
    await history(node)
    const before = await node.replica.changedSince(WL, 3)
    await node.restart()
    assert.deepEqual(await node.replica.changedSince(WL, 3), before)
  })
})
