/**
 * Tombstone collection on the in-process network (protocol/sync-v1.md, "Tombstones"): a deleted
 * entry's tombstone stays while a member has not applied it, goes on every node once all have,
 * and a member that was away longer than tombstones are kept does not bring the entry back.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { FakeCluster, type FakeNode } from '../../helpers/fake-cluster.js'
import { compareVersions } from '../../../src/version.js'

/** No grace (an edit reaches the master at once here), a collection at every chance, members kept 60 s. */
const TOMBSTONES = { graceMs: 0, intervalMs: 0, keepMs: 60_000 }

async function trio (t: TestContext): Promise<{ c: FakeCluster, a: FakeNode, b: FakeNode, x: FakeNode }> {
  const c = await FakeCluster.open(t, ['a', 'b', 'x'], { tombstones: TOMBSTONES })
  await c.elect('a', 1)
  await c.settle()
  await c.edit(c.node('a'), 'blacklist.txt', 'spam.example\n')
  await c.settle()
  // Every slave hears that it is up to date (it was never away).
  c.network.heartbeat()
  await c.settle()
  return { c, a: c.node('a'), b: c.node('b'), x: c.node('x') }
}

/** What `node` holds for the key (undefined: nothing, not even a tombstone). */
function held (node: FakeNode, key = 'spam.example'): { present: boolean } | undefined {
  return node.state.replica.get('blacklist', key)
}

/** Waits until the clock is past every stamp `node` holds, so a floor of "now" is above them. */
async function pastStamps (node: FakeNode): Promise<void> {
  let newest = 0
  for (const e of node.state.replica.entries('blacklist')) newest = Math.max(newest, e.stamp.wallMs)
  while (Date.now() <= newest) await tick()
}

/** The master raises its floor and collects; every node hears the floor and collects. */
async function collect (c: FakeCluster, master: FakeNode): Promise<void> {
  master.engine.tick()
  await master.engine.drain()
  c.network.heartbeat()
  await c.settle()
}

describe('a tombstone', () => {
  test('is kept while a member has not applied the version that holds it', async (t) => {
    const { c, a, b, x } = await trio(t)
    const gate = c.network.inject({ call: 'fetch', from: x.nodeId, fault: { type: 'hold' } })
    const fetchedByB = (): number => c.network.count('fetch', e => e.from === b.nodeId && e.status !== 'failed')
    const before = fetchedByB()
    await c.edit(a, 'blacklist.txt', '')
    await gate.reached
    await c.network.until('b fetched the delete', () => fetchedByB() > before)
    await b.engine.drain()
    assert.equal(compareVersions(b.engine.appliedVersion, a.engine.version), 0)
    await pastStamps(a)
    a.engine.tick()
    await a.engine.drain()
    assert.equal(held(a)?.present, false, 'the master keeps the tombstone')
    assert.ok(a.engine.tombstones.floor <= a.state.replica.get('blacklist', 'spam.example')!.stamp.wallMs, 'the floor waits for x')
    gate.open()
  })

  test('is dropped on every node once every member applied it', async (t) => {
    const { c, a, b, x } = await trio(t)
    await c.edit(a, 'blacklist.txt', '')
    await c.settle()
    assert.equal(held(x)?.present, false)
    await pastStamps(a)
    await collect(c, a)
    assert.deepEqual([held(a), held(b), held(x)], [undefined, undefined, undefined])
    assert.deepEqual(await c.lines(x, 'blacklist.txt'), [])
  })

  test('deleted on a slave is dropped there once the master acknowledged it and every member applied it', async (t) => {
    const { c, a, b, x } = await trio(t)
    await c.edit(b, 'blacklist.txt', '')
    await c.settle()
    assert.equal(held(a)?.present, false)
    await pastStamps(a)
    await collect(c, a)
    assert.deepEqual([held(a), held(b), held(x)], [undefined, undefined, undefined])
  })

  test('is gone from the store: a node opened again does not hold it', async (t) => {
    const { c, a } = await trio(t)
    await c.edit(a, 'blacklist.txt', 'other.example\n')
    await c.settle()
    await pastStamps(a)
    await collect(c, a)
    const entries = await a.state.store.loadEntries('blacklist')
    assert.deepEqual(entries.map(e => e.key), ['other.example'])
  })
})

describe('a master that steps down', () => {
  test('was never away: it follows the new master without taking its full state first', async (t) => {
    const { c, a } = await trio(t)
    await c.edit(a, 'blacklist.txt', '')
    await c.settle()
    await pastStamps(a)
    await collect(c, a)
    assert.ok(a.engine.tombstones.floor > 0)
    await c.elect('b', 2)
    c.network.heartbeat()
    await c.settle()
    assert.equal(a.engine.tombstones.mustTakeFullState, false)
  })
})

describe('a member away longer than tombstones are kept', () => {
  /** `x` is cut off and not heard for longer than the keep time while `a` deletes spam.example. */
  async function awayWhileDeleted (t: TestContext): Promise<{ c: FakeCluster, a: FakeNode, b: FakeNode, x: FakeNode }> {
    const nodes = await trio(t)
    const { c, a, x } = nodes
    for (const call of ['upload', 'fetch'] as const) c.network.inject({ call, from: x.nodeId, fault: { type: 'fail' }, times: 1000 })
    c.network.inject({ call: 'beacon', to: x.nodeId, fault: { type: 'drop' }, times: 1000 })
    x.lastSeenMs = Date.now() - TOMBSTONES.keepMs - 1
    // Its operator adds a line while it is cut off: an edit no other node has seen.
    await c.edit(x, 'blacklist.txt', 'spam.example\nlocal.example\n')
    await c.edit(a, 'blacklist.txt', 'other.example\n')
    await c.settle()
    await pastStamps(a)
    await pastStamps(x)
    await collect(c, a)
    assert.equal(held(a), undefined, 'the master dropped the tombstone without waiting for x')
    return nodes
  }

  /** `x` is heard again and follows the master. */
  async function comesBack (c: FakeCluster, x: FakeNode): Promise<void> {
    c.network.heal()
    x.lastSeenMs = null
    c.network.heartbeat()
    x.engine.followMaster()
    await c.settle()
    x.engine.tick()
    await c.settle()
  }

  test('does not bring back an entry deleted meanwhile: it drops its stale copy and takes the master\'s state', async (t) => {
    const { c, a, b, x } = await awayWhileDeleted(t)
    // What the outputs follow: the replica's commits.
    const commits: string[] = []
    const onCommit = x.state.replica.onCommit
    x.state.replica.onCommit = (ds, changes) => {
      for (const ch of changes) commits.push(`${ch.after.key} ${ch.after.present ? 'present' : 'deleted'}`)
      onCommit?.(ds, changes)
    }
    await comesBack(c, x)
    assert.ok(commits.includes('spam.example deleted'), `the outputs see the stale entry go: ${commits.join(', ')}`)
    for (const node of [a, b, x]) {
      assert.equal(held(node)?.present, undefined, `${node.name} holds no spam.example`)
      assert.ok(!(await c.lines(node, 'blacklist.txt')).includes('spam.example'), `${node.name}'s file lacks spam.example`)
    }
  })

  test('keeps the edit its operator made while it was away, and the cluster takes it', async (t) => {
    const { c, a, b, x } = await awayWhileDeleted(t)
    await comesBack(c, x)
    for (const node of [a, b, x]) assert.deepEqual(await c.lines(node, 'blacklist.txt'), ['local.example', 'other.example'], node.name)
  })

  test('fetches the full state before it uploads anything', async (t) => {
    const { c, a, x } = await awayWhileDeleted(t)
    const before = c.network.events.length
    await comesBack(c, x)
    const after = c.network.events.slice(before)
    const firstFetch = after.findIndex(e => e.type === 'fetch' && e.from === x.nodeId && e.status !== 'failed')
    const firstUpload = after.findIndex(e => e.type === 'upload' && e.from === x.nodeId && e.outcome === 'ok')
    assert.ok(firstFetch >= 0 && after[firstFetch].type === 'fetch' && after[firstFetch].full, 'a full fetch')
    assert.ok(firstUpload > firstFetch, `the upload (${firstUpload}) after the fetch (${firstFetch})`)
    assert.ok(!a.engine.errors.some(e => e.what === `upload from ${x.nodeId}`), JSON.stringify(a.engine.errors))
  })
})

describe('a new node that joins after tombstones were dropped', () => {
  test('takes the master\'s full state before it uploads, and ends with the cluster\'s list and its own', async (t) => {
    const { c, a } = await trio(t)
    await c.edit(a, 'blacklist.txt', 'other.example\n')
    await c.settle()
    await pastStamps(a)
    await collect(c, a)
    assert.ok(a.engine.tombstones.floor > 0)
    const d = await c.add('d')
    await c.edit(d, 'blacklist.txt', 'mine.example\n')
    Object.assign(d.roles, { role: 'slave', masterId: a.nodeId, term: 1 })
    const before = c.network.events.length
    c.network.heartbeat()
    d.engine.followMaster()
    await c.settle()
    const after = c.network.events.slice(before)
    const firstFetch = after.findIndex(e => e.type === 'fetch' && e.from === d.nodeId && e.status !== 'failed')
    const firstUpload = after.findIndex(e => e.type === 'upload' && e.from === d.nodeId && e.outcome === 'ok')
    assert.ok(firstFetch >= 0 && firstUpload > firstFetch, `fetch ${firstFetch}, then upload ${firstUpload}`)
    c.network.heartbeat()
    await c.settle()
    assert.deepEqual(await c.lines(d, 'blacklist.txt'), ['mine.example', 'other.example'])
    assert.deepEqual(await c.lines(a, 'blacklist.txt'), ['mine.example', 'other.example'])
  })
})
