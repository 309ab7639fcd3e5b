import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { Uploader } from '../../../src/sync/uploader.js'
import { SerialQueue } from '../../../src/sync/serial-queue.js'
import { readSettingsArchive } from '../../../src/sync/settings-archive.js'
import { Status } from '../../../src/pb/spamsync.js'
import { ZERO_VERSION } from '../../../src/version.js'
import type { UploadOutcome } from '../../../src/protocol/upload-service.js'

const WALL_MS = 1_700_000_000_000

/** One upload the master received, answered when the test says so. */
interface Received {
  kind: 'full' | 'delta'
  keys: string[]
  answer: (outcome: UploadOutcome) => void
}

/** A slave's uploader on a real store and replica, and a master the test answers by hand. */
async function setup (t: TestContext): Promise<{ uploader: Uploader, replica: ListReplica, received: Received[], arrived: () => Promise<Received>, reported: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-uploader-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  const replica = await ListReplica.load(store, 'slave', () => WALL_MS, 60_000)
  const received: Received[] = []
  let waiter: ((r: Received) => void) | null = null
  const reported: string[] = []
  const uploader = new Uploader({
    nodeId: 'slave',
    store,
    replica,
    roles: () => ({ role: 'slave', masterId: 'master', term: 1 }),
    upload: async (_masterId, req, zip) => await new Promise<UploadOutcome>(resolve => {
      const archive = readSettingsArchive(zip)
      const r: Received = { kind: req.kind, keys: [...archive.lists.values()].flat().map(e => e.key).sort(), answer: resolve }
      received.push(r)
      waiter?.(r)
      waiter = null
    }),
    queue: new SerialQueue(),
    versions: () => ({ central: ZERO_VERSION, applied: ZERO_VERSION }),
    merged: () => {},
    report: (what) => { reported.push(what) },
    now: () => WALL_MS
  })
  await uploader.load()
  /** The next upload to arrive (or the last one, when it arrived unanswered). */
  const arrived = async (): Promise<Received> => await new Promise(resolve => { waiter = resolve })
  return { uploader, replica, received, arrived, reported }
}

let counter = 0
const entry = (key: string): { key: string, value: string, present: boolean, stamp: { wallMs: number, counter: number, nodeId: string } } =>
  ({ key, value: '', present: true, stamp: { wallMs: WALL_MS, counter: counter++, nodeId: 'slave' } })
const OK: UploadOutcome = { status: Status.OK, reason: '', version: { term: 1, seq: 1 } }

describe('Uploader', () => {
  test('the first upload to a master is full, the next carries only this node\'s changes since', async (t) => {
    const { uploader, replica, arrived } = await setup(t)
    await replica.merge('whitelist', [entry('own@example.com')], { synced: false })
    await replica.merge('whitelist', [entry('central@example.com')], { synced: true })
    let next = arrived()
    const first = uploader.sync()
    const full = await next
    assert.equal(full.kind, 'full')
    assert.deepEqual(full.keys, ['central@example.com', 'own@example.com'])
    full.answer(OK)
    await first
    await replica.merge('whitelist', [entry('later@example.com')], { synced: false })
    await replica.merge('whitelist', [entry('applied@example.com')], { synced: true })
    next = arrived()
    const second = uploader.sync()
    const delta = await next
    assert.equal(delta.kind, 'delta')
    assert.deepEqual(delta.keys, ['later@example.com'])
    delta.answer(OK)
    await second
    assert.equal(uploader.current.kind, 'idle')
  })

  test('a request made while an upload is in flight makes one more upload after it', async (t) => {
    const { uploader, replica, received, arrived } = await setup(t)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    let next = arrived()
    const done = uploader.sync()
    const first = await next
    await replica.merge('whitelist', [entry('b@example.com')], { synced: false })
    const again = uploader.sync()
    next = arrived()
    first.answer(OK)
    const second = await next
    assert.deepEqual(second.keys, ['b@example.com'])
    second.answer(OK)
    await Promise.all([done, again])
    assert.equal(received.length, 2)
    assert.equal(uploader.current.kind, 'idle')
  })

  test('a request in the turn a sync resolves makes a new upload, and sync() waits for it', async (t) => {
    const { uploader, replica, received, arrived } = await setup(t)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    const next = arrived()
    const done = uploader.sync()
    ;(await next).answer(OK)
    await replica.merge('whitelist', [entry('b@example.com')], { synced: false })
    // As soon as the first sync resolved, in the same turn: a new request must upload b.
    const second = done.then(async () => {
      const upload = arrived()
      const synced = uploader.sync()
      ;(await upload).answer(OK)
      await synced
    })
    await second
    assert.deepEqual(received.map(r => r.keys), [['a@example.com'], ['b@example.com']])
  })

  test('NEED_FULL to a delta sends the full state', async (t) => {
    const { uploader, replica, received, arrived } = await setup(t)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    let next = arrived()
    let done = uploader.sync()
    ;(await next).answer(OK)
    await done
    await replica.merge('whitelist', [entry('b@example.com')], { synced: false })
    next = arrived()
    done = uploader.sync()
    const delta = await next
    next = arrived()
    delta.answer({ status: Status.NEED_FULL, reason: 'send full' })
    const full = await next
    assert.equal(full.kind, 'full')
    assert.deepEqual(full.keys, ['a@example.com', 'b@example.com'])
    full.answer(OK)
    await done
    assert.deepEqual(received.map(r => r.kind), ['full', 'delta', 'full'])
  })

  test('a refused upload is reported, leaves the uploader failed, and retry() uploads again', async (t) => {
    const { uploader, replica, arrived, reported } = await setup(t)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    let next = arrived()
    const done = uploader.sync()
    ;(await next).answer({ status: Status.REFUSED, reason: 'not master' })
    await done
    assert.deepEqual(reported, ['upload'])
    assert.equal(uploader.current.kind, 'failed')
    next = arrived()
    uploader.retry()
    ;(await next).answer(OK)
    await uploader.settled()
    assert.equal(uploader.current.kind, 'idle')
    assert.equal(uploader.acknowledged?.masterId, 'master')
  })

  test('a delta with nothing of this node\'s is not sent', async (t) => {
    const { uploader, replica, received, arrived } = await setup(t)
    await replica.merge('whitelist', [entry('a@example.com')], { synced: false })
    const next = arrived()
    const done = uploader.sync()
    ;(await next).answer(OK)
    await done
    await replica.merge('whitelist', [entry('central@example.com')], { synced: true })
    await uploader.sync()
    assert.equal(received.length, 1)
  })
})
