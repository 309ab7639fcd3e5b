import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateRawSync } from 'node:zlib'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { BayesReplica } from '../../../src/replica/bayes-replica.js'
import { buildArchive } from '../../../src/sync/archive-build.js'
import { applyArchive, changedLists } from '../../../src/sync/archive-apply.js'
import { readSettingsArchive, type ArchiveMeta } from '../../../src/sync/settings-archive.js'
import { tokensOf } from '../../../src/crdt/bayes-counters.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { decodeEntries, encodeColumns } from '../../../src/archive/list-codec.js'
import { packArchive } from '../../../src/archive/zip.js'
import type { StoredEntry } from '../../../src/store/state-store.js'

const WALL_MS = 1_700_000_000_000
const META: ArchiveMeta = { kind: 'full', origin: 'a', base: null, version: null }
let counter = 0
const entry = (key: string, present = true): Entry => ({ key, value: '', present, stamp: { wallMs: WALL_MS, counter: counter++, nodeId: 'a' } })
const contribution = { nodeId: 'a', db: { numSpam: 1, numHam: 0, seen: new Map(), tokens: tokensOf([['aaaaaaaaaa', { spam: 1, ham: 0, atime: 1_700_000_000 }]]) } }

/** An entry as any node holds it, without this node's change sequence and origin. */
const strip = (e: StoredEntry): Entry => ({ key: e.key, value: e.value, present: e.present, stamp: e.stamp })

/** A node's replicas on a store in a temp dir, closed and removed when the test ends. */
async function node (t: TestContext, name: string): Promise<{ replica: ListReplica, bayes: BayesReplica, store: StateStore }> {
  const dir = await mkdtemp(join(tmpdir(), `spamsync-archive-${name}-`))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { replica: await ListReplica.load(store, name, () => WALL_MS, 60_000), bayes: await BayesReplica.load(store, name), store }
}

describe('buildArchive', () => {
  test('all: every dataset, an empty one too, tombstones included', async (t) => {
    const { replica } = await node(t, 'a')
    await replica.merge('whitelist', [entry('a@example.com'), entry('gone@example.com', false)], { synced: true })
    const built = await buildArchive(META, replica, { lists: { kind: 'all' }, bayes: null })
    const archive = readSettingsArchive(built.zip)
    assert.deepEqual([...archive.lists.keys()].sort(), ['autowhitelist', 'blacklist', 'whitelist'])
    assert.equal(archive.lists.get('whitelist')?.length, 2)
    assert.equal(built.listEntries, 2)
  })

  test('all carries the same entries from a replica loaded on demand as from a loaded one', async (t) => {
    const { replica, store } = await node(t, 'a')
    await replica.merge('blacklist', [entry('x.example'), entry('y.example', false)], { synced: false })
    const onDemand = await ListReplica.load(store, 'a', () => WALL_MS, 60_000, { entries: 'onDemand' })
    const loaded = readSettingsArchive((await buildArchive(META, replica, { lists: { kind: 'all' }, bayes: null })).zip)
    const fromStore = readSettingsArchive((await buildArchive(META, onDemand, { lists: { kind: 'all' }, bayes: null })).zip)
    assert.deepEqual(fromStore.lists, loaded.lists)
  })

  test('changedSince with ownOnly: only this node\'s changes, and only datasets that have some', async (t) => {
    const { replica } = await node(t, 'a')
    await replica.merge('whitelist', [entry('central@example.com')], { synced: true })
    await replica.merge('whitelist', [entry('own@example.com')], { synced: false })
    const built = await buildArchive({ ...META, kind: 'delta', base: { term: 1, seq: 1 } }, replica, { lists: { kind: 'changedSince', lseq: 0, ownOnly: true }, bayes: null })
    const archive = readSettingsArchive(built.zip)
    assert.deepEqual([...archive.lists.keys()], ['whitelist'])
    assert.deepEqual(archive.lists.get('whitelist')?.map(e => e.key), ['own@example.com'])
  })

  test('no Bayes contribution: no bayes.bin', async (t) => {
    const { replica } = await node(t, 'a')
    const built = await buildArchive(META, replica, { lists: { kind: 'all' }, bayes: [] })
    assert.equal(built.bayes, false)
    assert.equal(readSettingsArchive(built.zip).bayes, null)
  })
})

describe('applyArchive', () => {
  test('merges each list and the Bayes contributions, and says what changed', async (t) => {
    const source = await node(t, 'a')
    await source.replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    const zip = (await buildArchive(META, source.replica, { lists: { kind: 'all' }, bayes: [contribution] })).zip
    const target = await node(t, 'b')
    const seen: string[] = []
    const applied = await applyArchive(readSettingsArchive(zip), target, { synced: true, listChanged: async (ds) => { seen.push(ds) } })
    assert.deepEqual(changedLists(applied), ['whitelist'])
    assert.deepEqual(seen, ['whitelist'], 'listChanged runs for each changed dataset')
    assert.ok(applied.bayesChanged > 0)
    assert.equal(target.replica.get('whitelist', 'a@example.com')?.synced, true)
    assert.equal((await target.bayes.merged()).numSpam, 1)
  })

  test('a whole list applied to an empty node is kept as the deflate stream it came in (the version snapshot)', async (t) => {
    const { replica } = await node(t, 'a')
    await replica.merge('whitelist', [entry('a@example.com'), entry('gone@example.com', false)], { synced: true })
    const archive = readSettingsArchive((await buildArchive(META, replica, { lists: { kind: 'all' }, bayes: null })).zip)
    const b = await node(t, 'b')
    await applyArchive(archive, { replica: b.replica }, { synced: true })
    assert.equal(await b.replica.deflated('whitelist'), archive.deflatedLists.get('whitelist'))
    assert.deepEqual(inflateRawSync(await b.replica.deflated('whitelist')), Buffer.from((await b.replica.encoded('whitelist')).data))
  })

  test('a whole list merged into an empty dataset goes out in the next delta as the list file it came in, byte for byte what a build makes', async (t) => {
    const origin = await node(t, 'a')
    await origin.replica.merge('whitelist', [entry('a@example.com'), entry('gone@example.com', false)], { synced: false })
    const upload = readSettingsArchive((await buildArchive({ ...META, kind: 'delta', base: { term: 1, seq: 1 } }, origin.replica, { lists: { kind: 'changedSince', lseq: 0, ownOnly: true }, bayes: null })).zip)
    const master = await node(t, 'm')
    await applyArchive(upload, { replica: master.replica }, { synced: true, passOn: true })
    const delta = await buildArchive({ ...META, kind: 'delta', base: { term: 1, seq: 1 } }, master.replica, { lists: { kind: 'changedSince', lseq: 0, ownOnly: false }, bayes: null })
    const sent = delta.lists.get('whitelist')?.data
    assert.equal(sent, upload.encodedLists.get('whitelist')?.data, 'the upload\'s bytes, not a new encoding')
    assert.deepEqual(sent, encodeColumns(await master.replica.columns('whitelist')).data)
    const slave = await node(t, 's')
    await applyArchive(readSettingsArchive(delta.zip), { replica: slave.replica }, { synced: true })
    assert.deepEqual([...slave.replica.entries('whitelist')].map(strip), [...master.replica.entries('whitelist')].map(strip))
  })

  test('a slave (nothing to pass on) does not hold the list file it applied as its encoding', async (t) => {
    const { replica } = await node(t, 'a')
    await replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    const archive = readSettingsArchive((await buildArchive(META, replica, { lists: { kind: 'all' }, bayes: null })).zip)
    const b = await node(t, 'b')
    await applyArchive(archive, { replica: b.replica }, { synced: true })
    assert.notEqual((await b.replica.encoded('whitelist')).data, archive.encodedLists.get('whitelist')?.data)
  })

  test('a list file that is not this agent\'s encoding of its entries is encoded anew when passed on', async (t) => {
    const body = `spamsync-list 2\nn 0 a\na@example.com\t1\t${WALL_MS}\t0\t0\t\n`
    const zip = packArchive({ agentVersion: '0.0.0', schemaVersion: 1, createdAt: new Date(WALL_MS).toISOString(), ...META }, [{ name: 'whitelist.list', data: new TextEncoder().encode(body), entries: 1 }])
    const archive = readSettingsArchive(zip)
    assert.equal(archive.encodedLists.has('whitelist'), false)
    const b = await node(t, 'b')
    await applyArchive(archive, { replica: b.replica }, { synced: true, passOn: true })
    assert.deepEqual(new TextDecoder().decode((await b.replica.encoded('whitelist')).data), body.replace('spamsync-list 2', 'spamsync-list 1'))
  })

  test('a list file with entries taken out before the merge (the tombstone screen) is not kept as what the dataset holds', async (t) => {
    const { replica } = await node(t, 'a')
    await replica.merge('whitelist', [entry('a@example.com'), entry('stale@example.com')], { synced: false })
    const archive = readSettingsArchive((await buildArchive(META, replica, { lists: { kind: 'all' }, bayes: null })).zip)
    archive.lists.set('whitelist', archive.lists.get('whitelist')?.filter(e => e.key !== 'stale@example.com') ?? [])
    const b = await node(t, 'b')
    await applyArchive(archive, { replica: b.replica }, { synced: true, passOn: true })
    assert.notEqual(await b.replica.deflated('whitelist'), archive.deflatedLists.get('whitelist'))
    assert.deepEqual(decodeEntries(inflateRawSync(await b.replica.deflated('whitelist'))).map(e => e.key), ['a@example.com'])
    assert.deepEqual(decodeEntries((await b.replica.encoded('whitelist')).data).map(e => e.key), ['a@example.com'])
  })

  test('applied twice, the second time changes nothing', async (t) => {
    const source = await node(t, 'a')
    await source.replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    const archive = readSettingsArchive((await buildArchive(META, source.replica, { lists: { kind: 'all' }, bayes: [contribution] })).zip)
    const target = await node(t, 'b')
    await applyArchive(archive, target, { synced: false })
    const again = await applyArchive(archive, target, { synced: false })
    assert.deepEqual(changedLists(again), [])
    assert.equal(again.bayesChanged, 0)
  })

  test('without a Bayes replica the contributions are left out', async (t) => {
    const source = await node(t, 'a')
    const archive = readSettingsArchive((await buildArchive(META, source.replica, { lists: { kind: 'all' }, bayes: [contribution] })).zip)
    const target = await node(t, 'b')
    const applied = await applyArchive(archive, { replica: target.replica }, { synced: true })
    assert.equal(applied.bayesChanged, 0)
    assert.equal((await target.bayes.merged()).numSpam, 0)
  })
})
