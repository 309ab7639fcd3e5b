/**
 * A node whose clock runs 10 minutes ahead, the master and an honest slave, each a ListReplica
 * on its own store, stamping on its ClusterClock over a wall clock the test moves: the fast
 * node's edit can beat honest edits for at most maxSkewMs (5 min) of real time. Before a node
 * hears the master's clock the master's merge clamps its stamps to master time + maxSkewMs;
 * once it heard a beacon it stamps on master time and lowers its own earlier stamps to that
 * bound. Entries travel as the sync does: what a node changed goes to the master's merge, the
 * master's entries come back through the slave's merge; a beacon carries the master's clock.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { renderListFile } from '../../../src/settings/list-render.js'
import { ClusterClock } from '../../../src/crdt/cluster-clock.js'

const MINUTE = 60 * 1000
const MAX_SKEW_MS = 5 * MINUTE
const WL = 'whitelist'
const KEY = 'contested.example'

/** Real time, shared by every node; each node reads it through its own offset. */
const clock = { real: 1_700_000_000_000 }

/** The cluster time of each replica, as the agent wires it. */
const times = new WeakMap<ListReplica, ClusterClock>()

async function node (t: TestContext, nodeId: string, offsetMs: number): Promise<ListReplica> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-skew-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  const time = new ClusterClock(() => clock.real + offsetMs)
  const replica = await ListReplica.load(store, nodeId, () => time.now(), MAX_SKEW_MS)
  times.set(replica, time)
  return replica
}

/** `slave` hears a beacon of `master`: it takes the master's clock and lowers stamps beyond the bound. */
async function beacon (master: ListReplica, slave: ListReplica): Promise<void> {
  times.get(master)!.lead()
  times.get(slave)!.heardMaster(times.get(master)!.local())
  await slave.clampFuture()
}

/** The operator of `replica` sets KEY to `value` in the list file. */
async function edit (replica: ListReplica, value: string): Promise<void> {
  await replica.recordFileView(WL, renderListFile(null, replica.desired(WL)))
  await replica.applyScan(WL, renderListFile(null, new Map([[KEY, value]])))
}

/** `from`'s entries merged into `to` (an upload to the master, or a fetch from it). */
async function send (from: ListReplica, to: ListReplica): Promise<void> {
  await to.merge(WL, [...from.entries(WL)], { synced: true })
}

const valueOn = (replica: ListReplica): string | undefined => replica.get(WL, KEY)?.value

async function cluster (t: TestContext): Promise<{ fast: ListReplica, master: ListReplica, honest: ListReplica }> {
  clock.real = 1_700_000_000_000
  return { fast: await node(t, 'node-fast', 10 * MINUTE), master: await node(t, 'node-master', 0), honest: await node(t, 'node-honest', 0) }
}

describe('a node whose clock is 10 minutes ahead, before it hears the master\'s clock', () => {
  test('its edit is clamped on the master to master time + 5 minutes', async (t) => {
    const { fast, master } = await cluster(t)
    await edit(fast, 'fast')
    assert.equal(fast.get(WL, KEY)?.stamp.wallMs, clock.real + 10 * MINUTE)
    await send(fast, master)
    assert.equal(master.get(WL, KEY)?.stamp.wallMs, clock.real + MAX_SKEW_MS)
  })

  test('within the skew bound it beats an honest edit made without having seen it', async (t) => {
    const { fast, master, honest } = await cluster(t)
    await edit(fast, 'fast')
    await send(fast, master)
    clock.real += 4 * MINUTE
    await edit(honest, 'honest')
    await send(honest, master)
    assert.equal(valueOn(master), 'fast')
    await send(master, honest)
    assert.equal(valueOn(honest), 'fast')
  })

  test('an honest edit made once real time passed the bound wins on the master and the honest nodes', async (t) => {
    const { fast, master, honest } = await cluster(t)
    const start = clock.real
    await edit(fast, 'fast')
    await send(fast, master)
    clock.real = start + MAX_SKEW_MS + 1
    await edit(honest, 'honest')
    await send(honest, master)
    assert.equal(valueOn(master), 'honest')
    await send(master, honest)
    assert.equal(valueOn(honest), 'honest')
  })

  test('an honest node that has received the fast edit overrides it at once, well inside the bound', async (t) => {
    const { fast, master, honest } = await cluster(t)
    await edit(fast, 'fast')
    await send(fast, master)
    await send(master, honest)
    assert.equal(valueOn(honest), 'fast')
    clock.real += 1000
    await edit(honest, 'honest')
    await send(honest, master)
    assert.equal(valueOn(master), 'honest', 'the honest clock moved past the clamped stamp it observed')
  })

  test('a later fast edit is clamped again: the fast node stays at most 5 minutes ahead, never 10', async (t) => {
    const { fast, master, honest } = await cluster(t)
    const start = clock.real
    await edit(fast, 'fast-1')
    await send(fast, master)
    clock.real = start + 20 * MINUTE
    await edit(fast, 'fast-2')
    await send(fast, master)
    assert.equal(master.get(WL, KEY)?.stamp.wallMs, clock.real + MAX_SKEW_MS)
    clock.real += MAX_SKEW_MS + 1
    await edit(honest, 'honest')
    await send(honest, master)
    assert.equal(valueOn(master), 'honest')
  })

})

describe('a node whose clock is 10 minutes ahead, once it heard the master\'s clock', () => {
  test('stamps its edits on the master\'s clock', async (t) => {
    const { fast, master } = await cluster(t)
    await beacon(master, fast)
    await edit(fast, 'fast')
    assert.equal(fast.get(WL, KEY)?.stamp.wallMs, clock.real)
  })

  test('lowers its own edit made alone to the bound when it hears the beacon, and uploads that', async (t) => {
    const { fast, master } = await cluster(t)
    await edit(fast, 'fast')
    clock.real += 1000
    await beacon(master, fast)
    assert.equal(fast.get(WL, KEY)?.stamp.wallMs, clock.real + MAX_SKEW_MS)
    assert.equal(fast.get(WL, KEY)?.value, 'fast', 'the value is kept')
    clock.real += 1000
    await send(fast, master)
    assert.equal(master.get(WL, KEY)?.stamp.wallMs, clock.real - 1000 + MAX_SKEW_MS)
  })

  test('an edit it makes after lowering still beats its own earlier edit, on itself and on the master', async (t) => {
    const { fast, master } = await cluster(t)
    await edit(fast, 'fast-1')
    await beacon(master, fast)
    await send(fast, master)
    clock.real += 1000
    await edit(fast, 'fast-2')
    assert.ok((fast.get(WL, KEY)?.stamp.wallMs ?? Infinity) <= clock.real + MAX_SKEW_MS, 'stamped within the bound')
    await send(fast, master)
    assert.equal(valueOn(master), 'fast-2')
  })

  test('a full re-upload of its old edit after the bound does not beat the later honest edit', async (t) => {
    const { fast, master, honest } = await cluster(t)
    const start = clock.real
    await edit(fast, 'fast')
    await beacon(master, fast)
    await send(fast, master)
    clock.real = start + MAX_SKEW_MS + 1
    await edit(honest, 'honest')
    await send(honest, master)
    assert.equal(valueOn(master), 'honest')
    // A new term: the fast node uploads its full state again, the old stamp included.
    clock.real = start + 6 * MINUTE
    await beacon(master, fast)
    await send(fast, master)
    assert.equal(valueOn(master), 'honest')
  })

  test('its own replica takes an honest edit made after the bound', async (t) => {
    const { fast, master, honest } = await cluster(t)
    const start = clock.real
    await edit(fast, 'fast')
    await beacon(master, fast)
    await send(fast, master)
    clock.real = start + MAX_SKEW_MS + 1
    await edit(honest, 'honest')
    await send(honest, master)
    await send(master, fast)
    assert.equal(valueOn(fast), 'honest')
  })
})

describe('a master whose clock is 10 minutes ahead', () => {
  test('its own edit does not beat an honest edit made after the bound', async (t) => {
    clock.real = 1_700_000_000_000
    const master = await node(t, 'node-fast-master', 10 * MINUTE)
    const honest = await node(t, 'node-honest', 0)
    const start = clock.real
    await beacon(master, honest)
    await edit(master, 'fast')
    await send(master, honest)
    clock.real = start + MAX_SKEW_MS + 1
    await edit(honest, 'honest')
    await send(honest, master)
    assert.equal(valueOn(master), 'honest')
  })

  test('an honest slave\'s edit a second after the master\'s wins: the slave stamps on the master\'s clock', async (t) => {
    clock.real = 1_700_000_000_000
    const master = await node(t, 'node-fast-master', 10 * MINUTE)
    const honest = await node(t, 'node-honest', 0)
    await beacon(master, honest)
    await edit(master, 'fast')
    clock.real += 1000
    await edit(honest, 'honest')
    await send(honest, master)
    assert.equal(valueOn(master), 'honest')
  })

  test('once an honest node took over as master, its earlier edit wins for at most the bound', async (t) => {
    clock.real = 1_700_000_000_000
    const start = clock.real
    const fastMaster = await node(t, 'node-fast-master', 10 * MINUTE)
    const next = await node(t, 'node-next-master', 0)
    const other = await node(t, 'node-other', 0)
    await beacon(fastMaster, next)
    await edit(fastMaster, 'fast')
    await send(fastMaster, next)
    // The fast master is gone; `next` is elected and leads on its own clock.
    times.get(next)!.lead()
    await next.clampFuture()
    await beacon(next, other)
    clock.real = start + MAX_SKEW_MS + 1
    await edit(other, 'honest')
    await send(other, next)
    assert.equal(valueOn(next), 'honest')
  })
})
