/** ListReplica and its store: changes since a point, failed writes, and entries loaded on demand. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { encodeColumns, encodeEntries } from '../../../src/archive/list-codec.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import type { LoadOptions } from '../../../src/replica/list-replica.js'
import { MAX_VIEW_PATCHES } from '../../../src/replica/view-patch.js'
import { fileViewName, fileViewPatchName } from '../../../src/store/state-store.js'
import { file, keysOf, MAX_SKEW_MS, MINUTE, Node, remote, WL, written } from '../../helpers/replica-node.js'

describe('ListReplica.changedSince', () => {
  /** Three keys scanned (lseq 1-3), then b changed (4) and d added (5). */
  async function history (node: Node): Promise<void> {
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', ''], ['c.example', '']))
    assert.equal(node.replica.changeSeq, 3)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'changed'], ['c.example', ''], ['d.example', '']))
    assert.equal(node.replica.changeSeq, 5)
  }

  test('returns exactly the entries changed after the given point, oldest first', async (t) => {
    const node = await Node.create(t)
    await history(node)
    const since3 = await node.replica.changedSince(WL, 3)
    assert.deepEqual(keysOf(since3), ['b.example', 'd.example'])
    assert.deepEqual(since3, [node.replica.get(WL, 'b.example'), node.replica.get(WL, 'd.example')])
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 4)), ['d.example'])
  })

  test('lists each key once, at its latest change', async (t) => {
    const node = await Node.create(t)
    await history(node)
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 0)), ['a.example', 'c.example', 'b.example', 'd.example'])
  })

  test('finds changes spread over every bucket, before and after a restart', async (t) => {
    const node = await Node.create(t)
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}.example`)
    await node.replica.applyScan(WL, file(...keys.map((k): [string, string] => [k, ''])))
    const changed = keys.filter((_, i) => i % 7 === 0)
    await node.replica.applyScan(WL, file(...keys.map((k, i): [string, string] => [k, i % 7 === 0 ? 'changed' : ''])))
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, keys.length)).sort(), [...changed].sort())
    await node.restart()
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, keys.length)).sort(), [...changed].sort())
    assert.equal((await node.replica.changedSince(WL, 0)).length, keys.length)
  })

  test('own only: leaves out the entries that came from the central state', async (t) => {
    const node = await Node.create(t)
    await history(node)
    await node.replica.merge(WL, [remote('e.example', '', { wallMs: node.wallMs, counter: 9, nodeId: 'node-b' })], { synced: true })
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 3, true)), ['b.example', 'd.example'])
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 3)), ['b.example', 'd.example', 'e.example'])
  })

  test('returns nothing at or after the newest change', async (t) => {
    const node = await Node.create(t)
    await history(node)
    assert.deepEqual(await node.replica.changedSince(WL, 5), [])
    assert.deepEqual(await node.replica.changedSince(WL, 99), [])
  })

  test('returns the same after a restart', async (t) => {
    const node = await Node.create(t)
    await history(node)
    await node.restart()
    assert.equal(node.replica.changeSeq, 5)
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 3)), ['b.example', 'd.example'])
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 0)), ['a.example', 'c.example', 'b.example', 'd.example'])
  })

  test('counts merged remote entries and tombstones as changes', async (t) => {
    const node = await Node.create(t)
    await history(node)
    await node.replica.merge(WL, [remote('e.example', '', { wallMs: node.wallMs, counter: 9, nodeId: 'node-b' })], { synced: true })
    await node.replica.recordFileView(WL, written(node))
    await node.replica.applyScan(WL, file(['b.example', 'changed'], ['c.example', ''], ['d.example', ''], ['e.example', '']))
    const since5 = await node.replica.changedSince(WL, 5)
    assert.deepEqual(keysOf(since5), ['e.example', 'a.example'])
    assert.equal(since5[1].present, false)
  })

  test('keeps datasets apart', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    await node.replica.applyScan('blacklist', file(['spam.example', '']))
    assert.deepEqual(keysOf(await node.replica.changedSince(WL, 0)), ['a.example'])
    assert.deepEqual(keysOf(await node.replica.changedSince('blacklist', 0)), ['spam.example'])
    assert.deepEqual(keysOf(await node.replica.changedSince('blacklist', 1)), ['spam.example'])
  })
})

describe('ListReplica when the store cannot write', () => {
  test('a failed scan leaves the in-memory replica unchanged', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', 'old'], ['b.example', '']))
    const before = [...node.replica.entries(WL)].map(e => ({ ...e }))
    const seq = node.replica.changeSeq
    await node.store.close()
    await assert.rejects(node.replica.applyScan(WL, file(['a.example', 'new'], ['c.example', ''])))
    assert.equal(node.replica.get(WL, 'a.example')?.value, 'old')
    assert.equal(node.replica.get(WL, 'b.example')?.present, true)
    assert.equal(node.replica.get(WL, 'c.example'), undefined)
    assert.deepEqual([...node.replica.entries(WL)], before)
    assert.equal(node.replica.changeSeq, seq)
  })

  test('a failed merge leaves the in-memory replica unchanged', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', 'old']))
    const before = node.replica.get(WL, 'a.example')
    await node.store.close()
    await assert.rejects(node.replica.merge(WL, [
      remote('a.example', 'remote', { wallMs: node.wallMs + 1, counter: 0, nodeId: 'node-b' }),
      remote('n.example', '', { wallMs: node.wallMs + 1, counter: 0, nodeId: 'node-b' })
    ], { synced: true }))
    assert.deepEqual(node.replica.get(WL, 'a.example'), before)
    assert.equal(node.replica.get(WL, 'n.example'), undefined)
  })

  test('the scan that failed is found again once the store works', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', 'old']))
    await node.store.close()
    await assert.rejects(node.replica.applyScan(WL, file(['a.example', 'new'])))
    await node.start()
    const changed = await node.replica.applyScan(WL, file(['a.example', 'new']))
    assert.deepEqual(keysOf(changed), ['a.example'])
    assert.equal(node.replica.get(WL, 'a.example')?.value, 'new')
  })
})

describe('ListReplica.encoded', () => {
  test('encodes the entries changed after a point as changedSince names them', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'changed']))
    assert.deepEqual((await node.replica.encoded(WL, { lseq: 2, ownOnly: false })).data, encodeEntries(await node.replica.changedSince(WL, 2)).data)
    assert.equal((await node.replica.encoded(WL, { lseq: 3, ownOnly: false })).entries, 0)
  })

  test('a change after a point older than every entry shares the whole list\'s encoding, until the next change', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    const all = await node.replica.encoded(WL)
    assert.equal(await node.replica.encoded(WL, { lseq: 0, ownOnly: false }), all)
    await node.replica.applyScan(WL, file(['a.example', '']))
    const after = await node.replica.encoded(WL)
    assert.notEqual(after, all)
    assert.deepEqual(after.data, encodeEntries([...node.replica.entries(WL)]).data)
  })
})

describe('ListReplica.encoded, own changes', () => {
  test('while no entry came from the central state, own changes share the whole list\'s encoding', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    assert.equal(await node.replica.encoded(WL, { lseq: 0, ownOnly: true }), await node.replica.encoded(WL))
  })

  test('once an entry came from the central state, own changes leave it out', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    await node.replica.merge(WL, [remote('b.example', '', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    assert.equal((await node.replica.encoded(WL, { lseq: 0, ownOnly: true })).entries, 1)
    assert.equal((await node.replica.encoded(WL)).entries, 2)
  })
})

describe('ListReplica.deflated', () => {
  const received = (wallMs: number): { entries: Entry[], deflated: Uint8Array } => {
    const entries = [remote('a.example', '', { wallMs, counter: 0, nodeId: 'node-b' }), remote('b.example', 'x', { wallMs, counter: 1, nodeId: 'node-b' })]
    return { entries, deflated: deflateRawSync(encodeEntries(entries).data) }
  }

  test('is the encoded list deflated', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    assert.deepEqual(inflateRawSync(await node.replica.deflated(WL)), Buffer.from((await node.replica.encoded(WL)).data))
  })

  test('a whole list merged unchanged into an empty dataset is kept as the bytes received, until the next change', async (t) => {
    const node = await Node.create(t)
    const { entries, deflated } = received(node.wallMs)
    await node.replica.merge(WL, entries, { synced: true, received: { deflated, entries: entries.length } })
    assert.equal(await node.replica.deflated(WL), deflated)
    assert.equal(await node.replica.deflated(WL, { lseq: 0, ownOnly: false }), deflated)
    await node.replica.applyScan(WL, file(['a.example', 'changed']))
    assert.notEqual(await node.replica.deflated(WL), deflated)
  })

  test('the bytes received are kept when the settings file is then written (a new file view changes no entry)', async (t) => {
    const node = await Node.create(t)
    const { entries, deflated } = received(node.wallMs)
    await node.replica.merge(WL, entries, { synced: true, received: { deflated, entries: entries.length } })
    await node.replica.recordFileView(WL, written(node))
    assert.equal(await node.replica.deflated(WL), deflated)
  })

  test('a list merged with a stamp clamped to the skew bound is encoded anew, not kept as received', async (t) => {
    const node = await Node.create(t)
    const { entries, deflated } = received(node.wallMs + 10 * MAX_SKEW_MS)
    await node.replica.merge(WL, entries, { synced: true, received: { deflated, entries: entries.length } })
    assert.deepEqual(inflateRawSync(await node.replica.deflated(WL)), Buffer.from(encodeEntries([...node.replica.entries(WL)]).data))
  })

  test('a list merged into a dataset that held entries is encoded anew, not kept as received', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['c.example', '']))
    const { entries, deflated } = received(node.wallMs)
    await node.replica.merge(WL, entries, { synced: true, received: { deflated, entries: entries.length } })
    assert.equal(inflateRawSync(await node.replica.deflated(WL)).toString().split('\n').filter(l => l.includes('\t')).length, 3)
  })
})

describe('ListReplica with entries on demand', () => {
  const onDemand: LoadOptions = { entries: 'onDemand' }

  test('columns() reads every entry from the store without loading the entries', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['b.example', 'x'], ['a.example', '']))
    await node.replica.applyScan(WL, file(['b.example', 'x']))
    const all = [...node.replica.entries(WL)]
    await node.restart(onDemand)
    assert.deepEqual(encodeColumns(await node.replica.columns(WL)).data, encodeEntries(all).data)
    assert.throws(() => node.replica.entries(WL), /entries of whitelist are not loaded/)
  })

  test('a scan of the unchanged file needs no entries', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    await node.restart(onDemand)
    assert.deepEqual(await node.replica.applyScan(WL, file(['a.example', ''])), [])
    assert.throws(() => node.replica.entries(WL), /not loaded/)
  })

  test('a scan of a changed file loads the entries first, so a removed line becomes a tombstone', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    await node.restart(onDemand)
    const changed = await node.replica.applyScan(WL, file(['a.example', '']))
    assert.deepEqual(changed.map(e => [e.key, e.present]), [['b.example', false]])
    assert.equal(node.replica.get(WL, 'a.example')?.present, true)
  })

  test('a merge loads the entries first, so an older remote entry loses', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', 'local']))
    await node.restart(onDemand)
    const changed = await node.replica.merge(WL, [remote('a.example', 'old', { wallMs: 1, counter: 0, nodeId: 'node-b' })], { synced: false })
    assert.deepEqual(changed, [])
    assert.equal(node.replica.get(WL, 'a.example')?.value, 'local')
  })

  test('clampFuture finds a future stamp in entries not loaded yet', async (t) => {
    const node = await Node.create(t)
    await node.replica.merge(WL, [remote('a.example', '', { wallMs: node.wallMs + MAX_SKEW_MS, counter: 0, nodeId: 'node-b' })], { synced: false })
    node.wallMs -= MINUTE
    await node.restart(onDemand)
    assert.equal(node.replica.aheadOfBound(), true)
    assert.equal(await node.replica.clampFuture(), 1)
    assert.equal(node.replica.get(WL, 'a.example')?.stamp.wallMs, node.wallMs + MAX_SKEW_MS)
  })
})

describe('ListReplica file views in the store', () => {
  test('a big file view changed line by line, past the patches kept, loads as it was after a restart', async (t) => {
    const node = await Node.create(t)
    let text = Array.from({ length: 8000 }, (_, i) => `host-${i}.example`).join('\n') + '\n'
    await node.replica.applyScan(WL, text)
    const patches = async (): Promise<number> => (await node.store.blobsWithPrefix(fileViewPatchName(WL, 0).slice(0, -8))).length
    let most = 0
    for (let i = 0; ; i++) {
      text = i % 2 === 0 ? text + `added-${i}.example\n` : text.replace(`host-${i}.example\n`, '')
      await node.replica.applyScan(WL, text)
      const stored = await patches()
      if (i === 3 || stored < most) {
        await node.restart()
        assert.equal((await node.replica.fileView(WL)).text, text)
      }
      // Once the patches' bytes reach their share of the text, the full text is stored and they go.
      if (stored < most) break
      most = stored
    }
    assert.ok(most > 100 && most <= MAX_VIEW_PATCHES, `${most} patches`)
    assert.equal(node.replica.get(WL, 'host-1.example')?.present, false)
  })

  test('one-line changes of a big file view store patches only, not its full text every few changes', async (t) => {
    const node = await Node.create(t)
    let text = Array.from({ length: 8000 }, (_, i) => `host-${i}.example`).join('\n') + '\n'
    await node.replica.applyScan(WL, text)
    const full = await node.store.getBlob(fileViewName(WL))
    for (let i = 0; i < 40; i++) {
      text += `added-${i}.example\n`
      await node.replica.applyScan(WL, text)
    }
    assert.deepEqual(await node.store.getBlob(fileViewName(WL)), full)
    assert.equal((await node.store.blobsWithPrefix(fileViewPatchName(WL, 0).slice(0, -8))).length, 40)
  })
})
