/** VersionHistory's change summaries and the history a node receives with its syncs. */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { VersionHistory } from '../../../src/sync/version-history.js'
import { decodeHistory, type HistoryRecord } from '../../../src/archive/history-record.js'
import { UnknownVersionError } from '../../../src/errors.js'
import { ZERO_VERSION } from '../../../src/version.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { encodeEntries } from '../../../src/archive/list-codec.js'

const WALL_MS = 1_700_000_000_000

async function setup (t: TestContext, master: () => boolean, historyVersions = 5): Promise<{ replica: ListReplica, history: VersionHistory }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-version-history-replicated-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  const replica = await ListReplica.load(store, 'node', () => WALL_MS, 60_000)
  const history = new VersionHistory({ store, replica, historyVersions, now: () => WALL_MS, nameOf: id => id === 'm1' ? 'mx1' : undefined })
  replica.onCommit = (ds, changes) => { history.committed(master(), ds, changes) }
  await history.load()
  return { replica, history }
}

let counter = 0
const entry = (key: string, value = '', present = true): Entry => ({ key, value, present, stamp: { wallMs: WALL_MS, counter: counter++, nodeId: 'm1' } })

const record = (seq: number, extra: Partial<HistoryRecord> = {}): HistoryRecord => ({ version: { term: 2, seq }, time: WALL_MS + seq, origin: 'm1', name: 'mx1', counts: { blacklist: seq }, ...extra })

describe('VersionHistory across nodes', () => {
  test('a cut records what the master\'s commits changed since the last cut, and the origin\'s name', async (t) => {
    const { replica, history } = await setup(t, () => true)
    await replica.merge('blacklist', [entry('a.example'), entry('b.example', 'x')], { synced: true })
    await history.cut(1, 'm1')
    await replica.merge('blacklist', [entry('a.example', '', false), entry('b.example', 'y')], { synced: true })
    const { record: r } = await history.cut(1, 'm1')
    assert.equal(r.name, 'mx1')
    assert.deepEqual(r.changes?.lists.blacklist, { added: 0, removed: 1, changed: 1, keys: [{ key: 'a.example', kind: 'removed', old: '' }, { key: 'b.example', kind: 'changed', value: 'y', old: 'x' }] })
  })

  test('commits made while this node is not master are not summarised', async (t) => {
    let master = false
    const { replica, history } = await setup(t, () => master)
    await replica.merge('blacklist', [entry('a.example')], { synced: true })
    master = true
    const { record: r } = await history.cut(1, 'm1')
    assert.deepEqual(r.changes?.lists, {})
  })

  test('the records of the versions an archive covers travel, newest first, after `since` up to the version', async (t) => {
    const { history } = await setup(t, () => true)
    for (let i = 0; i < 3; i++) await history.snapshot(await history.cut(1, 'm1'))
    const sent = decodeHistory(await history.recordsFor({ term: 1, seq: 1 }, { term: 1, seq: 3 }))
    assert.deepEqual(sent.map(r => r.version.seq), [3, 2])
    assert.equal(sent[0].name, 'mx1')
    assert.equal(decodeHistory(await history.recordsFor(ZERO_VERSION, { term: 1, seq: 2 })).length, 2)
  })

  test('a received history is listed; the applied version\'s content is kept, one that came inside it is listed only', async (t) => {
    const { replica, history } = await setup(t, () => false)
    await replica.merge('blacklist', [entry('a.example')], { synced: true })
    await history.received({ term: 2, seq: 3 }, [record(3), record(2), record(9)], 'm1')
    const items = await history.list()
    assert.deepEqual(items.map(i => [i.version.seq, i.name, i.restorable]), [[3, 'mx1', true], [2, 'mx1', false]], 'a record past the applied version is not kept')
    assert.deepEqual((await (await history.contentAt({ term: 2, seq: 3 })).entries('blacklist')).map(e => e.key), ['a.example'])
    await assert.rejects(history.contentAt({ term: 2, seq: 2 }), UnknownVersionError)
  })

  test('the content of a version applied whole to an empty node is the list file as received, and reads back', async (t) => {
    const { replica, history } = await setup(t, () => false)
    const entries = [entry('a.example'), entry('b.example', 'x'), entry('gone.example', '', false)]
    const deflated = deflateRawSync(encodeEntries(entries).data)
    await replica.merge('blacklist', entries, { synced: true, received: { deflated, entries: entries.length } })
    await history.received({ term: 2, seq: 3 }, [record(3)], 'm1')
    assert.deepEqual(await (await history.contentAt({ term: 2, seq: 3 })).entries('blacklist'), entries)
  })

  test('a record this node already holds is not replaced by a received one', async (t) => {
    const { history } = await setup(t, () => false)
    await history.received({ term: 2, seq: 1 }, [record(1)], 'm1')
    await history.received({ term: 2, seq: 2 }, [record(2), record(1, { origin: 'forged', name: 'forged' })], 'm1')
    assert.equal((await history.item({ term: 2, seq: 1 }))?.origin, 'm1')
  })

  test('received versions beyond historyVersions are dropped, the oldest first', async (t) => {
    const { history } = await setup(t, () => false, 3)
    for (let seq = 1; seq <= 5; seq++) await history.received({ term: 2, seq }, [record(seq)], 'm1')
    assert.deepEqual((await history.list()).map(i => i.version.seq), [5, 4, 3])
  })
})
