/** The store's change log is pruned to its newest records, and "changed since" says when it no longer knows. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { StateStore } from '../../../src/store/state-store.js'
import { file, keysOf, Node, WL } from '../../helpers/replica-node.js'

/** Scans that give lseq 1-3 (a, b, c), then 4 (b changed), 5 (d added), 6 (a changed): one record per scan. */
async function history (node: Node): Promise<void> {
  await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', ''], ['c.example', '']))
  await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'x'], ['c.example', '']))
  await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'x'], ['c.example', ''], ['d.example', '']))
  await node.replica.applyScan(WL, file(['a.example', 'y'], ['b.example', 'x'], ['c.example', ''], ['d.example', '']))
}

describe('StateStore.pruneChangeLog', () => {
  test('keeps the newest records that hold at most the given keys and returns the newest lseq pruned', async (t) => {
    const node = await Node.create(t)
    await history(node)
    assert.equal(await node.store.pruneChangeLog(WL, 2), 4)
    assert.deepEqual(await node.store.changedKeysSince(WL, 4), ['d.example', 'a.example'])
  })

  test('prunes nothing from a log that holds no more keys than it keeps', async (t) => {
    const node = await Node.create(t)
    await history(node)
    assert.equal(await node.store.pruneChangeLog(WL, 6), 0)
    assert.deepEqual(await node.store.changedKeysSince(WL, 0), ['a.example', 'b.example', 'c.example', 'b.example', 'd.example', 'a.example'])
  })

  test('"changed since" a pruned lseq answers null, also after a restart', async (t) => {
    const node = await Node.create(t)
    await history(node)
    await node.store.pruneChangeLog(WL, 2)
    assert.equal(await node.store.changedKeysSince(WL, 3), null)
    await node.restart()
    assert.equal(await node.store.changedKeysSince(WL, 3), null)
    assert.deepEqual(await node.store.changedKeysSince(WL, 5), ['a.example'])
  })

  test('counts the keys written since the store was made or last pruned, also across a restart', async (t) => {
    const node = await Node.create(t)
    await history(node)
    assert.equal(node.store.changeLogGrowth(WL), 6)
    await node.store.pruneChangeLog(WL, 100)
    assert.equal(node.store.changeLogGrowth(WL), 0)
    await node.replica.applyScan(WL, file(['a.example', 'y'], ['b.example', 'x'], ['c.example', ''], ['d.example', ''], ['e.example', ''], ['f.example', '']))
    assert.equal(node.store.changeLogGrowth(WL), 2)
    await node.restart()
    assert.equal(node.store.changeLogGrowth(WL), 2)
  })

  test('a store of an earlier format does not know how much its log grew until it is pruned', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'spamsync-change-log-'))
    t.after(async () => { await rm(dir, { recursive: true, force: true }) })
    // As an agent of format 5 left it: a change-log record and no count.
    const db = new Level<string, string>(dir)
    await db.batch([{ type: 'put', key: 'm!storeFormat', value: '5' }, { type: 'put', key: `c!${WL}!${'1'.padStart(16, '0')}`, value: 'a.example' }])
    await db.close()
    const store = await StateStore.open(dir)
    t.after(async () => { await store.close() })
    assert.equal(store.changeLogGrowth(WL), Infinity)
    await store.pruneChangeLog(WL, 100)
    assert.equal(store.changeLogGrowth(WL), 0)
  })

  test('leaves other datasets\' logs alone', async (t) => {
    const node = await Node.create(t)
    await history(node)
    await node.replica.applyScan('blacklist', file(['spam.example', '']))
    await node.store.pruneChangeLog(WL, 0)
    assert.deepEqual(await node.store.changedKeysSince('blacklist', 0), ['spam.example'])
  })
})

describe('ListReplica.changedSince on a pruned change log', () => {
  test('gives the same entries as before the prune, by looking at every entry', async (t) => {
    const node = await Node.create(t)
    await history(node)
    const before = [await node.replica.changedSince(WL, 0), await node.replica.changedSince(WL, 3), await node.replica.changedSince(WL, 5)]
    await node.store.pruneChangeLog(WL, 1)
    const after = [await node.replica.changedSince(WL, 0), await node.replica.changedSince(WL, 3), await node.replica.changedSince(WL, 5)]
    assert.deepEqual(after, before)
    assert.deepEqual(keysOf(after[1]), ['b.example', 'd.example', 'a.example'])
  })
})
