import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { FULL_SNAPSHOT_EVERY, VersionHistory } from '../../../src/sync/version-history.js'
import { UnknownVersionError } from '../../../src/errors.js'
import { formatVersion, type Version } from '../../../src/version.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

const WALL_MS = 1_700_000_000_000

/** A store, a replica and a history on them in a temp dir, removed when the test ends. */
async function setup (t: TestContext, historyVersions = 5): Promise<{ store: StateStore, replica: ListReplica, history: VersionHistory, dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-version-history-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  const replica = await ListReplica.load(store, 'master', () => WALL_MS, 60_000)
  const history = new VersionHistory({ store, replica, historyVersions, now: () => WALL_MS })
  await history.load()
  return { store, replica, history, dir }
}

let stampCounter = 0
const entry = (key: string, present = true): Entry => ({ key, value: '', present, stamp: { wallMs: WALL_MS, counter: stampCounter++, nodeId: 'master' } })

/** Cuts a version and keeps its snapshot, as the engine does. */
async function cutAndKeep (history: VersionHistory, term: number, origin = 'master'): Promise<Version> {
  const cut = await history.cut(term, origin)
  await history.snapshot(cut)
  return cut.version
}

const keys = (entries: Entry[]): string[] => entries.filter(e => e.present).map(e => e.key).sort()

describe('VersionHistory', () => {
  test('numbers versions within a term from 1, and starts again at 1 in a new term', async (t) => {
    const { history } = await setup(t)
    assert.deepEqual(await cutAndKeep(history, 3), { term: 3, seq: 1 })
    assert.deepEqual(await cutAndKeep(history, 3), { term: 3, seq: 2 })
    assert.deepEqual(await cutAndKeep(history, 4), { term: 4, seq: 1 })
    assert.deepEqual(history.current, { term: 4, seq: 1 })
  })

  test('the current version survives a restart', async (t) => {
    const { store, replica, history } = await setup(t)
    await cutAndKeep(history, 2)
    await cutAndKeep(history, 2)
    const reopened = new VersionHistory({ store, replica, historyVersions: 5, now: () => WALL_MS })
    await reopened.load()
    assert.deepEqual(reopened.current, { term: 2, seq: 2 })
  })

  test('lists the kept versions newest first, with origin and present counts', async (t) => {
    const { replica, history } = await setup(t)
    await replica.merge('whitelist', [entry('a.example'), entry('b.example')], { synced: false })
    await cutAndKeep(history, 1, 'node-a')
    await replica.merge('whitelist', [entry('a.example', false)], { synced: false })
    await cutAndKeep(history, 1, 'node-b')
    const listed = await history.list()
    assert.deepEqual(listed.map(h => [formatVersion(h.version), h.origin, h.counts.whitelist]), [['1.2', 'node-b', 1], ['1.1', 'node-a', 2]])
    assert.equal(listed[0].time, new Date(WALL_MS).toISOString())
    assert.ok(listed[0].sizes.whitelist > 0, 'the snapshot size is listed')
  })

  test('lists only the newest historyVersions versions', async (t) => {
    const { history } = await setup(t, 3)
    for (let i = 0; i < 6; i++) await cutAndKeep(history, 1)
    const listed = (await history.list()).map(h => formatVersion(h.version))
    assert.deepEqual(listed, ['1.6', '1.5', '1.4'])
  })

  test('a delta snapshot keeps the versions it builds on, back to a full one', async (t) => {
    const { store, replica, history } = await setup(t, 2)
    for (let i = 0; i < 4; i++) {
      await replica.merge('blacklist', [entry(`k${i}.example`)], { synced: false })
      await cutAndKeep(history, 1)
    }
    const stored = (await store.listVersions(Infinity)).map(v => formatVersion(v))
    assert.deepEqual(stored, ['1.4', '1.3', '1.2', '1.1'], 'the bases of the kept deltas stay')
    assert.deepEqual((await history.record({ term: 1, seq: 4 }))?.deltaOf, { term: 1, seq: 3 })
    assert.equal((await history.record({ term: 1, seq: 1 }))?.deltaOf, undefined, 'the first snapshot is full')
  })

  test('a snapshot whose every entry changed since the one before is kept full, and the next is a delta of it', async (t) => {
    const { replica, history } = await setup(t)
    await cutAndKeep(history, 1)
    await replica.merge('blacklist', [entry('a.example'), entry('b.example')], { synced: false })
    await cutAndKeep(history, 1)
    await replica.merge('blacklist', [entry('c.example')], { synced: false })
    await cutAndKeep(history, 1)
    assert.equal((await history.record({ term: 1, seq: 2 }))?.deltaOf, undefined, 'the list that came into an empty state is a full snapshot')
    assert.deepEqual((await history.record({ term: 1, seq: 3 }))?.deltaOf, { term: 1, seq: 2 })
    assert.deepEqual(keys(await (await history.contentAt({ term: 1, seq: 3 })).entries('blacklist')), ['a.example', 'b.example', 'c.example'])
  })

  test(`every ${FULL_SNAPSHOT_EVERY}th snapshot is full, and older chains are then dropped`, async (t) => {
    const { store, history } = await setup(t, 2)
    for (let i = 0; i < FULL_SNAPSHOT_EVERY + 2; i++) await cutAndKeep(history, 1)
    const full = { term: 1, seq: FULL_SNAPSHOT_EVERY + 1 }
    assert.equal((await history.record(full))?.deltaOf, undefined)
    const stored = (await store.listVersions(Infinity)).map(v => formatVersion(v))
    assert.deepEqual(stored, [`1.${FULL_SNAPSHOT_EVERY + 2}`, formatVersion(full)])
  })

  test('the content of a kept version is its lists at that version, read through its delta chain', async (t) => {
    const { replica, history } = await setup(t)
    await replica.merge('whitelist', [entry('a.example'), entry('b.example')], { synced: false })
    await cutAndKeep(history, 1)
    await replica.merge('whitelist', [entry('b.example', false), entry('c.example')], { synced: false })
    const target = await cutAndKeep(history, 1)
    await replica.merge('whitelist', [entry('d.example')], { synced: false })
    await cutAndKeep(history, 1)
    const content = await history.contentAt(target)
    assert.deepEqual(keys(await content.entries('whitelist')), ['a.example', 'c.example'])
    assert.deepEqual(await content.entries('blacklist'), [])
  })

  test('the content of a version that is not kept is an UnknownVersionError', async (t) => {
    const { history } = await setup(t)
    await cutAndKeep(history, 1)
    await assert.rejects(history.contentAt({ term: 9, seq: 9 }), UnknownVersionError)
  })

  test('a version whose snapshot was never kept (a crash after the cut) cannot be rolled back to', async (t) => {
    const { history } = await setup(t)
    const cut = await history.cut(1, 'master')
    await assert.rejects(history.contentAt(cut.version), UnknownVersionError)
  })

  test('a delta can be made from the current version and from kept versions of its term only', async (t) => {
    const { history } = await setup(t, 2)
    for (let i = 0; i < 3; i++) await cutAndKeep(history, 1)
    await cutAndKeep(history, 2)
    assert.equal(await history.isDeltaBase({ term: 2, seq: 1 }), true)
    assert.equal(await history.isDeltaBase({ term: 1, seq: 3 }), false, 'an older term')
    assert.equal(await history.isDeltaBase({ term: 2, seq: 2 }), false, 'a version not cut yet')
  })
})
