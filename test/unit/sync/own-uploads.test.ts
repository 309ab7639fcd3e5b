/**
 * OwnUploads: which list files of this node's uploads a fetch may leave undecoded and unmerged,
 * and the read of an archive that leaves them so.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { buildArchive, type BuiltArchive } from '../../../src/sync/archive-build.js'
import { decodeLeftOut, readSettingsArchive, type ArchiveMeta } from '../../../src/sync/settings-archive.js'
import { OwnUploads } from '../../../src/sync/own-uploads.js'
import { sha256Hex } from '../../../src/archive/zip.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

const WALL_MS = 1_700_000_000_000
const UPLOAD: ArchiveMeta = { kind: 'delta', origin: 'a', base: { term: 1, seq: 1 }, version: null }
let counter = 0
const entry = (key: string): Entry => ({ key, value: '', present: true, stamp: { wallMs: WALL_MS, counter: counter++, nodeId: 'a' } })

async function replicaIn (t: TestContext): Promise<ListReplica> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-own-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return await ListReplica.load(store, 'a', () => WALL_MS, 60_000)
}

/** An upload of `replica`'s own changes, remembered in `own` as the uploader does. */
async function upload (replica: ListReplica, own: OwnUploads): Promise<BuiltArchive> {
  const lseq = replica.changeSeq
  const built = await buildArchive(UPLOAD, replica, { lists: { kind: 'changedSince', lseq: 0, ownOnly: true }, bayes: null })
  own.remember(built.lists, lseq)
  return built
}

const shaOf = (built: BuiltArchive, ds: 'whitelist' | 'blacklist'): string => sha256Hex(built.lists.get(ds)?.data ?? new Uint8Array(0))

describe('OwnUploads', () => {
  test('an uploaded list file, its dataset unchanged since, changes nothing when merged back', async (t) => {
    const replica = await replicaIn(t)
    const own = new OwnUploads(replica)
    await replica.merge('blacklist', [entry('spam.example'), entry('junk.example')], { synced: false })
    const built = await upload(replica, own)
    assert.equal(own.uploaded(shaOf(built, 'blacklist')), true)
    assert.equal(await own.changesNothing('blacklist', shaOf(built, 'blacklist')), true)
  })

  test('once the dataset changed after the upload was built, the file is merged again', async (t) => {
    const replica = await replicaIn(t)
    const own = new OwnUploads(replica)
    await replica.merge('blacklist', [entry('spam.example')], { synced: false })
    const built = await upload(replica, own)
    await replica.merge('blacklist', [entry('more.example')], { synced: true })
    assert.equal(await own.changesNothing('blacklist', shaOf(built, 'blacklist')), false)
  })

  test('a change to another dataset does not count', async (t) => {
    const replica = await replicaIn(t)
    const own = new OwnUploads(replica)
    await replica.merge('blacklist', [entry('spam.example')], { synced: false })
    const built = await upload(replica, own)
    await replica.merge('whitelist', [entry('friend@example.com')], { synced: true })
    assert.equal(await own.changesNothing('blacklist', shaOf(built, 'blacklist')), true)
  })

  test('a file that is not this node\'s upload, or not of that dataset, is merged', async (t) => {
    const replica = await replicaIn(t)
    const own = new OwnUploads(replica)
    await replica.merge('blacklist', [entry('spam.example')], { synced: false })
    const built = await upload(replica, own)
    assert.equal(own.uploaded('0'.repeat(64)), false)
    assert.equal(await own.changesNothing('blacklist', '0'.repeat(64)), false)
    assert.equal(await own.changesNothing('whitelist', shaOf(built, 'blacklist')), false)
  })

  test('an uploaded file fetched back is the snapshot of a dataset holding its entries only (ListReplica.keepFile)', async (t) => {
    const replica = await replicaIn(t)
    await replica.merge('blacklist', [entry('spam.example'), entry('junk.example')], { synced: false })
    const file = new Uint8Array([1, 2, 3])
    replica.keepFile('blacklist', { deflated: file, entries: 1 })
    assert.notDeepEqual(await replica.deflated('blacklist'), file)
    replica.keepFile('blacklist', { deflated: file, entries: 2 })
    assert.equal(await replica.deflated('blacklist'), file)
  })

  test('the entries of an uploaded file are counted as this node encoded them, tombstones included, none for a file it did not upload', async (t) => {
    const replica = await replicaIn(t)
    const own = new OwnUploads(replica)
    await replica.merge('blacklist', [entry('spam.example'), entry('junk.example'), { ...entry('gone.example'), present: false }], { synced: false })
    const built = await upload(replica, own)
    assert.equal(own.entriesOf(shaOf(built, 'blacklist')), 3)
    assert.equal(own.entriesOf('0'.repeat(64)), undefined)
  })

  test('only the files of the last few uploads are remembered', async (t) => {
    const replica = await replicaIn(t)
    const own = new OwnUploads(replica)
    const shas: string[] = []
    for (let i = 0; i < 10; i++) {
      await replica.merge('blacklist', [entry(`spam${i}.example`)], { synced: false })
      shas.push(shaOf(await upload(replica, own), 'blacklist'))
    }
    assert.deepEqual(shas.map(sha => own.uploaded(sha)), [false, false, true, true, true, true, true, true, true, true])
  })
})

describe('readSettingsArchive leaving list files undecoded', () => {
  test('a file it is told to leave is checked but not decoded, and decodeLeftOut decodes it', async (t) => {
    const replica = await replicaIn(t)
    await replica.merge('blacklist', [entry('spam.example')], { synced: false })
    await replica.merge('whitelist', [entry('friend@example.com')], { synced: false })
    const built = await buildArchive(UPLOAD, replica, { lists: { kind: 'changedSince', lseq: 0, ownOnly: true }, bayes: null })
    const leave = shaOf(built, 'blacklist')
    const archive = readSettingsArchive(built.zip, { leaveUndecoded: sha => sha === leave })
    assert.deepEqual([...archive.lists.keys()], ['whitelist'])
    assert.deepEqual([...archive.undecoded.keys()], ['blacklist'])
    decodeLeftOut(archive, 'blacklist')
    assert.deepEqual(archive.lists.get('blacklist')?.map(e => e.key), ['spam.example'])
    assert.equal(archive.undecoded.size, 0)
  })
  test('a file decoded late keeps its encoding and deflated bytes for passing on, as one decoded at once', async (t) => {
    const replica = await replicaIn(t)
    await replica.merge('blacklist', Array.from({ length: 500 }, (_, i) => entry(`host-${i}.example`)), { synced: false })
    const built = await buildArchive(UPLOAD, replica, { lists: { kind: 'changedSince', lseq: 0, ownOnly: true }, bayes: null })
    const atOnce = readSettingsArchive(built.zip)
    const late = readSettingsArchive(built.zip, { leaveUndecoded: () => true })
    decodeLeftOut(late, 'blacklist')
    assert.ok(atOnce.deflatedLists.has('blacklist') && atOnce.encodedLists.has('blacklist'))
    assert.deepEqual(late.deflatedLists.get('blacklist'), atOnce.deflatedLists.get('blacklist'))
    assert.deepEqual(late.encodedLists.get('blacklist'), atOnce.encodedLists.get('blacklist'))
  })
})
