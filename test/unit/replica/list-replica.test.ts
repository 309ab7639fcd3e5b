import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareStamps, type Stamp } from '../../../src/crdt/hlc.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { StateStore, type StoredEntry } from '../../../src/store/state-store.js'
import { ListReplica, type LoadOptions } from '../../../src/replica/list-replica.js'
import { encodeColumns, encodeEntries } from '../../../src/archive/list-codec.js'
import { renderListFile } from '../../../src/settings/list-render.js'

const MINUTE = 60 * 1000
const MAX_SKEW_MS = 5 * MINUTE
const NODE = 'node-a'
const WL = 'whitelist'

/**
 * One node's data folder in a temp dir, with a wall clock the test moves by hand. Everything it
 * opens is closed and the folder removed when the test ends, also when it fails.
 */
class Node {
  wallMs = 1_700_000_000_000
  store!: StateStore
  replica!: ListReplica
  private readonly opened: StateStore[] = []

  private constructor (readonly dir: string) {}

  static async create (t: TestContext): Promise<Node> {
    const dir = await mkdtemp(join(tmpdir(), 'spamsync-list-replica-'))
    const node = new Node(dir)
    t.after(async () => {
      for (const store of node.opened) await store.close().catch(() => {})
      await rm(dir, { recursive: true, force: true })
    })
    await node.start()
    return node
  }

  /** Opens the store and loads the replica, as the agent does at start (or as export does). */
  async start (opts: LoadOptions = {}): Promise<void> {
    this.store = await StateStore.open(this.dir)
    this.opened.push(this.store)
    this.replica = await ListReplica.load(this.store, NODE, () => this.wallMs, MAX_SKEW_MS, opts)
  }

  /** Closes the store and starts again from disk. */
  async restart (opts: LoadOptions = {}): Promise<void> {
    await this.store.close()
    await this.start(opts)
  }
}

/** A settings file's text as the scanner hands it over: one `key value` line per entry. */
const file = (...lines: Array<[string, string]>): string => lines.map(([key, value]) => (value === '' ? key : `${key} ${value}`) + '\n').join('')

/** Entries as key -> value, as the replica's desired() gives them. */
const entries = (...lines: Array<[string, string]>): Map<string, string> => new Map(lines)

/** The text a write of the replica's present entries puts into a new file. */
const written = (node: Node): string => renderListFile(null, node.replica.desired(WL))

/** A remote entry as it arrives from a peer or an archive. */
const remote = (key: string, value: string, stamp: Stamp, present = true): Entry => ({ key, value, present, stamp })

const keysOf = (entries: Iterable<StoredEntry>): string[] => [...entries].map(e => e.key)

function assertNewer (later: Stamp, earlier: Stamp): void {
  assert.ok(compareStamps(later, earlier) > 0, `${JSON.stringify(later)} should be newer than ${JSON.stringify(earlier)}`)
}

describe('ListReplica.applyScan', () => {
  test('stamps every entry of a new file as a present local change', async (t) => {
    const node = await Node.create(t)
    const changed = await node.replica.applyScan(WL, file(['a@example.com', ''], ['example.org', 'partner']))
    assert.deepEqual(keysOf(changed).sort(), ['a@example.com', 'example.org'])
    for (const e of changed) {
      assert.equal(e.present, true)
      assert.equal(e.synced, false, 'a local edit is still to be uploaded')
      assert.equal(e.stamp.nodeId, NODE)
      assert.equal(e.stamp.wallMs, node.wallMs)
      assert.equal(node.replica.fileValue(WL, e.key), e.value, 'the file view records what the file holds')
      assert.deepEqual(node.replica.get(WL, e.key), e)
    }
    assert.equal(node.replica.get(WL, 'example.org')?.value, 'partner')
    assert.notEqual(compareStamps(changed[0].stamp, changed[1].stamp), 0, 'each entry has its own stamp')
    assert.equal(node.replica.presentCount(WL), 2)
    assert.deepEqual(node.replica.desired(WL), entries(['a@example.com', ''], ['example.org', 'partner']))
  })

  test('gives each change the next local change sequence', async (t) => {
    const node = await Node.create(t)
    const changed = await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', '']))
    assert.deepEqual(changed.map(e => e.lseq).sort(), [1, 2])
    assert.equal(node.replica.changeSeq, 2)
  })

  test('a rescan of the same content changes nothing', async (t) => {
    const node = await Node.create(t)
    const content = file(['a.example', ''], ['b.example', 'note'])
    await node.replica.applyScan(WL, content)
    const before = [...node.replica.entries(WL)].map(e => ({ ...e }))
    const seq = node.replica.changeSeq
    node.wallMs += 1000
    assert.deepEqual(await node.replica.applyScan(WL, content), [])
    assert.deepEqual([...node.replica.entries(WL)], before)
    assert.equal(node.replica.changeSeq, seq)
  })

  test('a changed value is a change with a newer stamp', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'old note']))
    const old = node.replica.get(WL, 'b.example')!
    const changed = await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'new note']))
    assert.deepEqual(keysOf(changed), ['b.example'])
    const now = node.replica.get(WL, 'b.example')!
    assert.equal(now.value, 'new note')
    assert.equal(now.present, true)
    assertNewer(now.stamp, old.stamp)
    assert.ok(now.lseq > old.lseq)
  })

  test('a removed line becomes a tombstone with a newer stamp', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'note']))
    const old = node.replica.get(WL, 'b.example')!
    const changed = await node.replica.applyScan(WL, file(['a.example', '']))
    assert.equal(changed.length, 1)
    const tombstone = node.replica.get(WL, 'b.example')!
    assert.deepEqual(changed[0], tombstone)
    assert.equal(tombstone.present, false)
    assert.equal(tombstone.value, '')
    assert.equal(node.replica.fileValue(WL, tombstone.key), null)
    assertNewer(tombstone.stamp, old.stamp)
    assert.equal(node.replica.presentCount(WL), 1)
    assert.deepEqual(node.replica.desired(WL), entries(['a.example', '']))
  })

  test('stamps stay newer than earlier ones when the wall clock stands still', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '1']))
    const first = node.replica.get(WL, 'a.example')!.stamp
    await node.replica.applyScan(WL, file(['a.example', '2']))
    assertNewer(node.replica.get(WL, 'a.example')!.stamp, first)
  })

  test('a line added back after its removal is present again with a newer stamp', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    await node.replica.applyScan(WL, file())
    const tombstone = node.replica.get(WL, 'a.example')!
    const changed = await node.replica.applyScan(WL, file(['a.example', 'back']))
    assert.deepEqual(keysOf(changed), ['a.example'])
    assert.equal(node.replica.get(WL, 'a.example')?.present, true)
    assertNewer(node.replica.get(WL, 'a.example')!.stamp, tombstone.stamp)
  })

  test('a scan of one dataset leaves the others untouched', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan('blacklist', file(['spam.example', '']))
    await node.replica.applyScan(WL, file())
    assert.equal(node.replica.get('blacklist', 'spam.example')?.present, true)
    assert.equal(node.replica.presentCount(WL), 0)
  })
})

describe('ListReplica across restarts', () => {
  test('a scan of the unchanged file after a restart changes nothing', async (t) => {
    const node = await Node.create(t)
    const content = file(['a.example', ''], ['b.example', 'note'], ['c.example', ''])
    await node.replica.applyScan(WL, content)
    const before = [...node.replica.entries(WL)].map(e => ({ ...e }))
    await node.restart()
    assert.deepEqual([...node.replica.entries(WL)].sort((x, y) => x.lseq - y.lseq), before.sort((x, y) => x.lseq - y.lseq), 'the replica is loaded as it was')
    assert.deepEqual(await node.replica.applyScan(WL, content), [])
    assert.equal(node.replica.changeSeq, 3)
  })

  test('a line removed while the agent was stopped becomes exactly one tombstone', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', ''], ['b.example', 'note'], ['c.example', '']))
    const old = node.replica.get(WL, 'b.example')!
    await node.restart()
    const changed = await node.replica.applyScan(WL, file(['a.example', ''], ['c.example', '']))
    assert.equal(changed.length, 1)
    assert.equal(changed[0].key, 'b.example')
    assert.equal(changed[0].present, false)
    assertNewer(changed[0].stamp, old.stamp)
    assert.equal(changed[0].lseq, 4, 'the change sequence continues where it stopped')
  })

  test('stamps after a restart are newer than before it even when the wall clock went back', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, file(['a.example', '']))
    const before = node.replica.get(WL, 'a.example')!.stamp
    await node.restart()
    node.wallMs -= 10 * MINUTE
    await node.replica.applyScan(WL, file())
    assertNewer(node.replica.get(WL, 'a.example')!.stamp, before)
  })
})

describe('ListReplica.merge and the file view', () => {
  test('a merged remote entry is not taken for a local delete when the file was not rewritten', async (t) => {
    const node = await Node.create(t)
    const content = file(['a.example', ''])
    await node.replica.applyScan(WL, content)
    const added = await node.replica.merge(WL, [remote('remote.example', 'peer', { wallMs: node.wallMs, counter: 0, nodeId: 'node-b' })], { synced: true })
    assert.deepEqual(keysOf(added), ['remote.example'])
    assert.equal(node.replica.fileValue(WL, added[0].key), null, 'the file does not hold it yet')
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
    assert.equal(node.replica.fileValue(WL, 'both.example'), 'v', 'only the file view moves')
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
    assert.equal(node.replica.fileValue(WL, 'remote.example'), 'peer')
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
    assert.equal(node.replica.get(WL, 'a.example'), before)
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
