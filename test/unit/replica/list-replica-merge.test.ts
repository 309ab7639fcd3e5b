/**
 * ListReplica: entries merged from elsewhere next to the settings file (the file view, the keys
 * left to write), and stamps from the future (clamped at merge, lowered by clampFuture). The
 * merge's laws: list-replica-laws.test.ts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compareStamps, type Stamp } from '../../../src/crdt/hlc.js'
import { assertNewer, entries, file, keysOf, MAX_SKEW_MS, MINUTE, Node, remote, WL, written } from '../../helpers/replica-node.js'

describe('ListReplica.merge and the file view', () => {
  test('a merged remote entry is not taken for a local delete when the file was not rewritten', async (t) => {
    const node = await Node.create(t)
    const content = file(['a.example', ''])
    await node.replica.applyScan(WL, content)
    const added = await node.replica.merge(WL, [remote('remote.example', 'peer', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    assert.deepEqual(keysOf(added), ['remote.example'])
    assert.equal(await node.replica.fileValue(WL, added[0].key), null, 'the file does not hold it yet')
    assert.equal(added[0].synced, true)
    assert.deepEqual(await node.replica.applyScan(WL, content), [])
    assert.equal(node.replica.get(WL, 'remote.example')?.present, true)
    assert.deepEqual(node.replica.desired(WL), entries(['a.example', ''], ['remote.example', 'peer']))
  })

  test('a line already held from a merge, added to the file with the same value, is no change', async (t) => {
    const node = await Node.create(t)
    await node.replica.merge(WL, [remote('both.example', 'v', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    const merged = node.replica.get(WL, 'both.example')!
    const seq = node.replica.changeSeq
    assert.deepEqual(await node.replica.applyScan(WL, file(['both.example', 'v'])), [])
    assert.equal(node.replica.changeSeq, seq)
    assert.deepEqual(node.replica.get(WL, 'both.example'), merged, 'the entry does not move')
    assert.equal(await node.replica.fileValue(WL, 'both.example'), 'v', 'only the file view moves')
  })

  test('a remote delete of a line still in the unrewritten file is not undone by a rescan', async (t) => {
    const node = await Node.create(t)
    const content = file(['a.example', ''], ['b.example', ''])
    await node.replica.applyScan(WL, content)
    const mine = node.replica.get(WL, 'b.example')!
    node.wallMs += 1000
    await node.replica.merge(WL, [remote('b.example', '', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' }, false)], { synced: true })
    assert.equal(node.replica.get(WL, 'b.example')?.present, false)
    assert.deepEqual(await node.replica.applyScan(WL, content), [])
    assert.equal(node.replica.get(WL, 'b.example')?.present, false)
    assertNewer(node.replica.get(WL, 'b.example')!.stamp, mine.stamp)
  })

  test('after recordFileView, a scan without the merged key deletes it', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    await node.replica.merge(WL, [remote('remote.example', 'peer', { wallMs: node.wallMs, counter: 5, nodeId: 'node-b' })], { synced: true })
    const merged = node.replica.get(WL, 'remote.example')!
    await node.replica.recordFileView(WL, written(node))
    assert.equal(await node.replica.fileValue(WL, 'remote.example'), 'peer')
    const changed = await node.replica.applyScan(WL, file(['a.example', '']))
    assert.deepEqual(keysOf(changed), ['remote.example'])
    assert.equal(changed[0].present, false)
    assertNewer(changed[0].stamp, merged.stamp)
  })

  test('recordFileView is bookkeeping, not a change', async (t) => {
    const node = await Node.create(t)
    await node.replica.merge(WL, [remote('remote.example', '', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    const seq = node.replica.changeSeq
    await node.replica.recordFileView(WL, written(node))
    assert.equal(node.replica.changeSeq, seq)
    assert.deepEqual(await node.replica.changedSince(WL, seq), [])
  })

  test('a newer remote entry replaces the local one and an older one is ignored', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', 'mine']))
    const mine = node.replica.get(WL, 'a.example')!
    const older = await node.replica.merge(WL, [remote('a.example', 'older', { wallMs: node.wallMs - 1, counter: 0, nodeId: 'node-b' })], { synced: true })
    assert.deepEqual(older, [])
    assert.deepEqual(node.replica.get(WL, 'a.example'), mine)
    const newer = await node.replica.merge(WL, [remote('a.example', 'newer', { wallMs: node.wallMs + 1, counter: 0, nodeId: 'node-b' })], { synced: true })
    assert.deepEqual(keysOf(newer), ['a.example'])
    assert.equal(node.replica.get(WL, 'a.example')?.value, 'newer')
  })

  test('merging the same entries again changes nothing', async (t) => {
    const node = await Node.create(t)
    const batch = [
      remote('x.example', 'v', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' }),
      remote('y.example', '', { wallMs: node.wallMs, counter: 1, nodeId: 'node-b' }, false)
    ]
    assert.equal((await node.replica.merge(WL, batch, { synced: true })).length, 2)
    const seq = node.replica.changeSeq
    assert.deepEqual(await node.replica.merge(WL, batch, { synced: true }), [])
    assert.equal(node.replica.changeSeq, seq)
  })

  test('merging the same remote tombstone again changes nothing, whatever value it carries', async (t) => {
    const node = await Node.create(t)
    const tombstone = remote('x.example', 'note', { wallMs: node.wallMs - 1, counter: 0, nodeId: 'node-b' }, false)
    assert.equal((await node.replica.merge(WL, [tombstone], { synced: true })).length, 1)
    const seq = node.replica.changeSeq
    assert.deepEqual(await node.replica.merge(WL, [tombstone], { synced: true }), [])
    assert.equal(node.replica.changeSeq, seq)
  })

  test('local stamps after a merge are newer than the merged remote stamp', async (t) => {
    const node = await Node.create(t)
    const ahead: Stamp = { wallMs: node.wallMs + MINUTE, counter: 3, nodeId: 'node-b' }
    await node.replica.merge(WL, [remote('a.example', 'peer', ahead)], { synced: true })
    await node.replica.recordFileView(WL, written(node))
    await node.replica.applyScan(WL, file(['a.example', 'edited']))
    assertNewer(node.replica.get(WL, 'a.example')!.stamp, ahead)
    assert.equal(node.replica.get(WL, 'a.example')?.value, 'edited')
  })

  test('a stamp from further in the future than maxSkewMs is clamped to now + maxSkewMs', async (t) => {
    const node = await Node.create(t)
    const future: Stamp = { wallMs: node.wallMs + 10 * MINUTE, counter: 2, nodeId: 'node-b' }
    const changed = await node.replica.merge(WL, [remote('fast.example', '', future)], { synced: false })
    const stored = node.replica.get(WL, 'fast.example')!
    assert.deepEqual(changed, [stored])
    assert.deepEqual(stored.stamp, { wallMs: node.wallMs + MAX_SKEW_MS, counter: 2, nodeId: 'node-b' })
    await node.restart()
    assert.deepEqual(node.replica.get(WL, 'fast.example')?.stamp, stored.stamp, 'the clamped stamp is what is stored')
  })
})

describe('ListReplica.clampFuture', () => {
  test('changes nothing while every stamp is within now + maxSkewMs', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    const lseq = node.replica.changeSeq
    assert.equal(await node.replica.clampFuture(), 0)
    assert.equal(node.replica.changeSeq, lseq)
  })

  test('lowers only the stamps beyond the bound, to the bound, keeping value, counter and node id', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['old.example', 'x']))
    const old = node.replica.get(WL, 'old.example')!
    node.wallMs += 10 * MINUTE
    await node.replica.applyScan(WL, file(['old.example', 'x'], ['ahead.example', 'y']))
    const ahead = node.replica.get(WL, 'ahead.example')!
    node.wallMs -= 10 * MINUTE
    assert.equal(await node.replica.clampFuture(), 1)
    assert.deepEqual(node.replica.get(WL, 'old.example'), old)
    const lowered = node.replica.get(WL, 'ahead.example')!
    assert.deepEqual(lowered.stamp, { ...ahead.stamp, wallMs: node.wallMs + MAX_SKEW_MS })
    assert.equal(lowered.value, 'y')
    assert.ok(lowered.lseq > ahead.lseq, 'a change, so the next upload carries the lowered stamp')
  })

  test('the next local stamp sorts after every lowered one, also after a restart', async (t) => {
    const node = await Node.create(t)
    node.wallMs += 10 * MINUTE
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    node.wallMs -= 10 * MINUTE
    await node.replica.clampFuture()
    const lowered = [...node.replica.entries(WL)].map(e => e.stamp)
    await node.restart()
    await node.replica.applyScan(WL, file(['c.example', '']))
    const next = node.replica.get(WL, 'c.example')!.stamp
    for (const s of lowered) assert.ok(compareStamps(next, s) > 0)
    assert.equal(next.wallMs, node.wallMs + MAX_SKEW_MS, 'the clock came back to the bound and stayed there')
  })
})

describe('ListReplica.unwrittenChanges', () => {
  test('is unknown after load, so the first write renders every entry', async (t) => {
    const node = await Node.create(t)
    await node.replica.merge(WL, [remote('a.example', '', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    await node.replica.recordFileView(WL, written(node))
    await node.restart()
    assert.equal(node.replica.unwrittenChanges(WL), undefined)
  })

  test('lists the merged keys with their present value after the file was last written', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    await node.replica.recordFileView(WL, file(['a.example', ''], ['b.example', '']))
    node.wallMs += 1000
    const stamp = { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' }
    await node.replica.merge(WL, [remote('b.example', '', stamp, false), remote('c.example', 'v', stamp)], { synced: true })
    assert.deepEqual(node.replica.unwrittenChanges(WL), new Map([['b.example', undefined], ['c.example', 'v']]))
  })

  test('is unknown when most of many entries are unwritten (an initial sync renders every entry)', async (t) => {
    const node = await Node.create(t)
    await node.replica.recordFileView(WL, '')
    const stamp = { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' }
    await node.replica.merge(WL, Array.from({ length: 5000 }, (_, i) => remote(`k${i}.example`, '', stamp)), { synced: true })
    assert.equal(node.replica.unwrittenChanges(WL), undefined)
  })

  test('is empty once the file holding the present entries is recorded', async (t) => {
    const node = await Node.create(t)
    await node.replica.recordFileView(WL, '')
    await node.replica.merge(WL, [remote('a.example', '', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    await node.replica.recordFileView(WL, written(node))
    assert.deepEqual(node.replica.unwrittenChanges(WL), new Map())
  })

  test('a failed merge adds none of its keys', async (t) => {
    const node = await Node.create(t)
    await node.replica.recordFileView(WL, '')
    await node.replica.merge(WL, [remote('a.example', '', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    await node.store.close()
    await assert.rejects(node.replica.merge(WL, [remote('n.example', '', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true }))
    assert.deepEqual(node.replica.unwrittenChanges(WL), new Map([['a.example', '']]))
  })
})
