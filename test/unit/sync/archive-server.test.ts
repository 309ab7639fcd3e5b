import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { ArchiveServer } from '../../../src/sync/archive-server.js'
import { VersionHistory } from '../../../src/sync/version-history.js'
import { readSettingsArchive } from '../../../src/sync/settings-archive.js'
import { archiveRef } from '../../../src/protocol/archive-ref.js'
import { buildArchive } from '../../../src/sync/archive-build.js'
import { FULL_SENDS_AT_ONCE } from '../../../src/sync/fan-out.js'
import { Status } from '../../../src/pb/spamsync.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import type { Served } from '../../../src/protocol/fetch-service.js'
import { compareVersions, type Version } from '../../../src/version.js'

const WALL_MS = 1_700_000_000_000
let counter = 0
const entry = (key: string): Entry => ({ key, value: '', present: true, stamp: { wallMs: WALL_MS, counter: counter++, nodeId: 'master' } })

/** A server on a real store and replica; `master` says whether this node is master. */
async function setup (t: TestContext, fanOut: boolean, staleBase?: (v: Version) => boolean): Promise<{ server: ArchiveServer, replica: ListReplica, versions: VersionHistory, role: { master: boolean } }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-archive-server-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  const replica = await ListReplica.load(store, 'master', () => WALL_MS, 60_000)
  const versions = new VersionHistory({ store, replica, historyVersions: 5, now: () => WALL_MS })
  await versions.load()
  const role = { master: true }
  const server = new ArchiveServer({ nodeId: 'master', replica, versions, isMaster: () => role.master, fanOut, staleBase, report: () => {} })
  return { server, replica, versions, role }
}

const keysOf = (zip: Uint8Array | undefined): string[] => [...readSettingsArchive(zip as Uint8Array).lists.values()].flat().map(e => e.key).sort()

describe('ArchiveServer', () => {
  test('a fetcher at the current version is up to date', async (t) => {
    const { server, versions } = await setup(t, false)
    await versions.cut(1, 'master')
    const served = await server.serve({ term: 1, seq: 1 }, { nodeId: 's', fanOut: false })
    assert.equal(served.status, Status.UP_TO_DATE)
  })

  test('from a version this master cut it serves a delta of what changed since', async (t) => {
    const { server, replica, versions } = await setup(t, false)
    await replica.merge('whitelist', [entry('old@example.com')], { synced: true })
    await versions.cut(1, 'master')
    await replica.merge('whitelist', [entry('new@example.com')], { synced: true })
    await versions.cut(1, 'master')
    const served = await server.serve({ term: 1, seq: 1 }, { nodeId: 's', fanOut: false })
    assert.equal(served.kind, 'delta')
    assert.deepEqual(served.base, { term: 1, seq: 1 })
    assert.deepEqual(keysOf(served.zip), ['new@example.com'])
  })

  test('from a version of another term it serves the full state', async (t) => {
    const { server, replica, versions } = await setup(t, false)
    await replica.merge('whitelist', [entry('a@example.com'), entry('b@example.com')], { synced: true })
    await versions.cut(2, 'master')
    const served = await server.serve({ term: 1, seq: 7 }, { nodeId: 's', fanOut: false })
    assert.equal(served.kind, 'full')
    assert.deepEqual(keysOf(served.zip), ['a@example.com', 'b@example.com'])
  })

  test('with fan-out the master hands out the full archive it holds while a delta can be made from it', async (t) => {
    const { server, replica, versions } = await setup(t, true)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: true })
    await versions.cut(1, 'master')
    const first = await server.serve({ term: 0, seq: 0 }, { nodeId: 's1', fanOut: false })
    await replica.merge('whitelist', [entry('b@example.com')], { synced: true })
    await versions.cut(1, 'master')
    const second = await server.serve({ term: 0, seq: 0 }, { nodeId: 's2', fanOut: false })
    assert.deepEqual([first.version, second.version], [{ term: 1, seq: 1 }, { term: 1, seq: 1 }])
  })

  test('but not one older than tombstones dropped since (a stale base): it builds one of the current version', async (t) => {
    const { server, replica, versions } = await setup(t, true, v => compareVersions(v, { term: 1, seq: 2 }) < 0)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: true })
    await versions.cut(1, 'master')
    await server.serve({ term: 0, seq: 0 }, { nodeId: 's1', fanOut: false })
    await replica.merge('whitelist', [entry('b@example.com')], { synced: true })
    await versions.cut(1, 'master')
    const served = await server.serve({ term: 0, seq: 0 }, { nodeId: 's2', fanOut: false })
    assert.deepEqual(served.version, { term: 1, seq: 2 })
    assert.deepEqual(keysOf(served.zip), ['a@example.com', 'b@example.com'])
  })

  test(`with fan-out the master builds its full archive once and sends it to ${FULL_SENDS_AT_ONCE} seeds; the next fetcher takes it from a peer`, async (t) => {
    const { server, replica, versions } = await setup(t, true)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: true })
    await versions.cut(1, 'master')
    const seeds: Served[] = []
    for (let i = 0; i < FULL_SENDS_AT_ONCE; i++) seeds.push(await server.serve({ term: 0, seq: 0 }, { nodeId: `seed${i}`, fanOut: true }))
    assert.deepEqual(seeds.map(s => s.status), seeds.map(() => Status.OK))
    assert.ok(seeds.every(s => s.zip === seeds[0].zip), 'one archive, built once')
    assert.deepEqual(server.fullArchive, seeds[0].archive)
    const next = await server.serve({ term: 0, seq: 0 }, { nodeId: 'late', fanOut: true })
    assert.equal(next.status, Status.BUSY)
    assert.deepEqual(next.archive, seeds[0].archive)
    for (const s of seeds) s.release?.()
  })

  test('a slave serves only the full archive it holds, and only when asked for exactly that one', async (t) => {
    const { server, replica, role } = await setup(t, true)
    role.master = false
    await replica.merge('whitelist', [entry('a@example.com')], { synced: true })
    const zip = (await buildArchive({ kind: 'full', origin: 'master', base: null, version: { term: 1, seq: 1 } }, replica, { lists: { kind: 'all' }, bayes: null })).zip
    const ref = archiveRef(zip, { term: 1, seq: 1 })
    assert.equal((await server.serve({ term: 0, seq: 0 }, { nodeId: 's', fanOut: true, archive: ref })).status, Status.REFUSED, 'nothing held yet')
    server.holdFetched(zip, ref)
    const served = await server.serve({ term: 0, seq: 0 }, { nodeId: 's', fanOut: true, archive: ref })
    assert.equal(served.status, Status.OK)
    assert.equal(served.zip, zip)
    served.release?.()
    assert.equal((await server.serve({ term: 0, seq: 0 }, { nodeId: 's', fanOut: true })).status, Status.REFUSED, 'no archive named')
  })
})
