import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateStore } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { VersionHistory } from '../../../src/sync/version-history.js'
import { contentBytes, contentToDrop, historyBudget, MIN_RESTORABLE, type HistoryBound, type StoredVersion } from '../../../src/sync/history-bound.js'
import { UnknownVersionError } from '../../../src/errors.js'
import { formatVersion, type Version } from '../../../src/version.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

const WALL_MS = 1_700_000_000_000

/** A store, a replica and a history with `bound` in a temp dir, removed when the test ends. */
async function setup (t: TestContext, historyVersions: number, bound?: HistoryBound): Promise<{ store: StateStore, replica: ListReplica, history: VersionHistory }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-history-bound-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  const replica = await ListReplica.load(store, 'master', () => WALL_MS, 60_000)
  const history = new VersionHistory({ store, replica, historyVersions, bound, now: () => WALL_MS })
  await history.load()
  return { store, replica, history }
}

let stampCounter = 0
const entry = (key: string, present = true): Entry => ({ key, value: '', present, stamp: { wallMs: WALL_MS, counter: stampCounter++, nodeId: 'master' } })

/** Cuts a version and keeps its snapshot, as the engine does. */
async function cutAndKeep (history: VersionHistory): Promise<Version> {
  const cut = await history.cut(1, 'master')
  await history.snapshot(cut)
  return cut.version
}

/** A dataset's entries as sorted `key present|deleted` lines: what a rollback must give back. */
const state = (entries: Entry[]): string[] => entries.map(e => `${e.key} ${e.present ? 'present' : 'deleted'}`).sort()

/** `versions` rounds of churn on a 200-key blacklist: each deletes the older half and adds as many new keys. */
async function churn (replica: ListReplica, history: VersionHistory, versions: number): Promise<Map<string, string[]>> {
  const content = new Map<string, string[]>()
  let next = 0
  const live: string[] = []
  for (let round = 0; round < versions; round++) {
    const gone = live.splice(0, round === 0 ? 0 : 100)
    const added = Array.from({ length: round === 0 ? 200 : 100 }, () => `k${next++}.example`)
    live.push(...added)
    await replica.merge('blacklist', [...gone.map(k => entry(k, false)), ...added.map(k => entry(k))], { synced: false })
    const v = await cutAndKeep(history)
    content.set(formatVersion(v), state(await replica.changedSince('blacklist', 0)))
  }
  return content
}

const stored = (v: { term: number, seq: number, record: StoredVersion['record'] }): StoredVersion => v

describe('history byte bound', () => {
  test('a churned history is pruned to the bound, oldest versions first', async (t) => {
    const bound = { floorBytes: 0, factor: 3 }
    const { store, replica, history } = await setup(t, 50, bound)
    await churn(replica, history, 40)
    const versions = (await store.listVersions(Infinity)).map(stored)
    const kept = versions.reduce((n, v) => n + contentBytes(v.record), 0)
    assert.ok(kept <= historyBudget(versions, bound), `${kept} bytes kept, budget ${historyBudget(versions, bound)}`)
    const restorable = (await history.list()).map(h => h.restorable)
    assert.equal(restorable.length, 40, 'every version stays listed')
    const reach = restorable.indexOf(false)
    assert.ok(reach >= MIN_RESTORABLE && reach < 40, `restorable back to ${reach}`)
    assert.ok(restorable.slice(reach).every(r => !r), 'only the oldest lost their content')
  })

  test('under churn a new chain starts in time for the kept content to stay within the budget and one delta after every version', async (t) => {
    const bound = { floorBytes: 0, factor: 3 }
    const { store, replica, history } = await setup(t, 50, bound)
    const keys = Array.from({ length: 400 }, (_, i) => `c${i}.example`)
    for (let round = 0; round < 30; round++) {
      // Half the list gets new values each round, so a delta is about half a full snapshot, as in bench/churn.ts.
      const changed = round === 0 ? keys : keys.slice((round % 2) * 200, (round % 2) * 200 + 200)
      await replica.merge('blacklist', changed.map(k => ({ ...entry(k), value: `v${round}` })), { synced: false })
      await cutAndKeep(history)
      const versions = (await store.listVersions(Infinity)).map(stored)
      const kept = versions.reduce((n, v) => n + contentBytes(v.record), 0)
      const delta = Math.max(0, ...versions.filter(v => v.record.deltaOf !== undefined).map(v => contentBytes(v.record)))
      assert.ok(kept <= historyBudget(versions, bound) + delta, `round ${round}: ${kept} bytes kept, budget ${historyBudget(versions, bound)}, delta ${delta}`)
    }
  })

  test('every version still kept restores to exactly its content', async (t) => {
    const { replica, history } = await setup(t, 50, { floorBytes: 0, factor: 3 })
    const content = await churn(replica, history, 40)
    for (const item of await history.list()) {
      if (!item.restorable) continue
      const at = await history.contentAt(item.version)
      assert.deepEqual(state(await at.entries('blacklist')), content.get(formatVersion(item.version)), formatVersion(item.version))
    }
  })

  test('a quiet list keeps all historyVersions versions under the default bound', async (t) => {
    const { replica, history } = await setup(t, 20)
    await replica.merge('blacklist', Array.from({ length: 2000 }, (_, i) => entry(`q${i}.example`)), { synced: false })
    for (let i = 0; i < 40; i++) {
      await replica.merge('blacklist', [entry(`new${i}.example`)], { synced: false })
      await cutAndKeep(history)
    }
    const listed = await history.list()
    assert.equal(listed.length, 20)
    assert.ok(listed.every(h => h.restorable))
  })

  test('a rollback to a version whose content was dropped is an UnknownVersionError that says so', async (t) => {
    const { replica, history } = await setup(t, 50, { floorBytes: 0, factor: 1 })
    await churn(replica, history, 20)
    const oldest = (await history.list()).at(-1)
    assert.equal(oldest?.restorable, false)
    await assert.rejects(history.contentAt(oldest.version), (err: unknown) => err instanceof UnknownVersionError && /dropped to keep the history within its size bound/.test(err.message))
  })

  test(`the newest ${MIN_RESTORABLE} versions keep their content even past the budget`, () => {
    const v = (seq: number, size: number, deltaOf?: number): StoredVersion => ({ term: 1, seq, record: { lseq: seq, time: 0, origin: 'm', counts: {}, sizes: { blacklist: size }, ...(deltaOf === undefined ? {} : { deltaOf: { term: 1, seq: deltaOf }, chain: 1 }) } })
    const versions = [v(3, 500, 2), v(2, 100), v(1, 100)]
    assert.deepEqual(contentToDrop(versions, { floorBytes: 0, factor: 1 }), [{ term: 1, seq: 1 }])
  })

  test('a factor of 0 turns the byte bound off', () => {
    assert.equal(historyBudget([], { floorBytes: 0, factor: 0 }), Infinity)
  })
})
