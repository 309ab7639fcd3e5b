import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expireTokens, mergeContributions, tokenHex, tokensOf, type BayesDb, type TokenCounts } from '../../../src/crdt/bayes-counters.js'
import { StateStore } from '../../../src/store/state-store.js'
import { BayesReplica } from '../../../src/replica/bayes-replica.js'
import { decodeBayes, encodeBayes, encodeSection, joinBayesSections, type BayesContribution } from '../../../src/archive/bayes-codec.js'
import type { KnownBayesFile } from '../../../src/settings/bayes-file.js'

/** A store in a temp folder, closed and removed after the test. */
async function openStore (t: TestContext): Promise<{ store: StateStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-bayes-replica-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { store }
}

/** A DB of tokens first..first+n-1, each with the given counts. */
function db (first: number, n: number, c: TokenCounts, numSpam = 1): BayesDb {
  const rows: Array<[string, TokenCounts]> = []
  for (let i = 0; i < n; i++) rows.push([tokenHex(first + i), c])
  return { numSpam, numHam: 0, tokens: tokensOf(rows), seen: new Map([[`m${first}`, 's']]) }
}

/** What changedSinceFile answers, decoded (null: only the full state can answer). */
async function changed (replica: BayesReplica, bseq: number, keep?: (nodeId: string) => boolean, upTo?: number): Promise<BayesContribution[] | null> {
  const file = await replica.changedSinceFile(bseq, keep, upTo)
  return file === null ? null : decodeBayes(file.data)
}

function byNode (contribs: BayesContribution[] | null): Record<string, number> {
  const out: Record<string, number> = {}
  for (const c of contribs ?? []) out[c.nodeId] = c.db.tokens.keys.length
  return out
}

describe('BayesReplica', () => {
  test('a node one change behind gets a delta even when that change folded the log', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    // Three records of 150k tokens each on a 150k-token state: the third one folds the log.
    await replica.merge([{ nodeId: 'a', db: db(0, 150_000, { spam: 1, ham: 0, atime: 10 }) }])
    await replica.merge([{ nodeId: 'a', db: db(0, 150_000, { spam: 2, ham: 0, atime: 10 }) }])
    const before = replica.changeSeq
    await replica.merge([{ nodeId: 'a', db: db(0, 150_000, { spam: 3, ham: 0, atime: 10 }) }])
    assert.deepEqual(byNode(await changed(replica, before)), { a: 150_000 })
    // What the fold put in the snapshot is only answered in full.
    assert.equal(await changed(replica, before - 1), null)
  })

  test('the first uploads of a cluster, each a whole contribution, stay deltas', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.applyScan(db(0, 200_000, { spam: 1, ham: 0, atime: 5 }))
    const afterScan = replica.changeSeq
    await replica.merge([{ nodeId: 'a', db: db(100_000, 200_000, { spam: 0, ham: 1, atime: 6 }) }])
    await replica.merge([{ nodeId: 'b', db: db(200_000, 200_000, { spam: 1, ham: 1, atime: 7 }) }])
    assert.deepEqual(byNode(await changed(replica, afterScan)), { a: 200_000, b: 200_000 })
    assert.deepEqual(byNode(await changed(replica, 0, nodeId => nodeId === 'self')), { self: 200_000 })
  })

  test('loads from its store to the same contributions and merged DB after folds', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    for (let round = 1; round <= 8; round++) {
      await replica.merge([{ nodeId: `n${round % 2}`, db: db(round * 1000, 120_000, { spam: round, ham: 1, atime: round }, round) }])
    }
    assert.equal(await changed(replica, 0), null, 'the log was folded')
    const merged = await replica.merged()
    assert.deepEqual(merged, mergeContributions(replica.contributions().map(c => ({ ...c.db, nodeId: c.nodeId, revision: 0 }))))
    const loaded = await BayesReplica.load(store, 'self')
    assert.equal(loaded.changeSeq, replica.changeSeq)
    const sorted = (r: BayesReplica): BayesContribution[] => r.contributions().sort((x, y) => x.nodeId < y.nodeId ? -1 : 1)
    assert.deepEqual(sorted(loaded), sorted(replica))
    assert.deepEqual(await loaded.merged(), merged)
  })

  test('the own change sequence moves with this node\'s contribution only, not with others\'', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.applyScan(db(0, 10, { spam: 1, ham: 0, atime: 10 }))
    const own = replica.ownChangeSeq
    assert.equal(own, replica.changeSeq)
    await replica.merge([{ nodeId: 'other', db: db(100, 10, { spam: 1, ham: 0, atime: 10 }) }])
    assert.ok(replica.changeSeq > own)
    assert.equal(replica.ownChangeSeq, own)
    await replica.merge([{ nodeId: 'self', db: db(0, 10, { spam: 2, ham: 0, atime: 10 }) }])
    assert.equal(replica.ownChangeSeq, replica.changeSeq)
  })

  test('counts and the Bayes file of the held contributions are those of the decoded contributions, also after a reload', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.applyScan(db(0, 100, { spam: 1, ham: 0, atime: 10 }, 3))
    await replica.merge([{ nodeId: 'other', db: db(50, 100, { spam: 0, ham: 2, atime: 11 }, 4) }])
    await replica.merge([{ nodeId: 'other', db: db(50, 200, { spam: 0, ham: 3, atime: 12 }, 5) }])
    for (const r of [replica, await BayesReplica.load(store, 'self')]) {
      const contribs = r.contributions()
      assert.deepEqual(r.counts(), { tokens: 300, spam: 8, ham: 0 })
      assert.equal(r.contributorCount, 2)
      assert.deepEqual(r.file().data, encodeBayes(contribs).data)
      assert.deepEqual(decodeBayes(r.file(id => id === 'other').data), contribs.filter(c => c.nodeId === 'other'))
      assert.deepEqual(r.contribution('other'), contribs.find(c => c.nodeId === 'other')?.db)
    }
  })

  test('the file a baseline came from is remembered across a restart, and forgotten once a write begins', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    const file = (signature: string): KnownBayesFile => ({ signature, invalid: { invalidCount: 0, invalidLines: [] } })
    await replica.applyScan(db(0, 10, { spam: 1, ham: 0, atime: 10 }), file('scanned'))
    assert.deepEqual((await BayesReplica.load(store, 'self')).fileKnown, file('scanned'))
    await replica.merge([{ nodeId: 'other', db: db(100, 10, { spam: 1, ham: 0, atime: 10 }) }])
    await replica.beginMergedBaseline(0)
    assert.equal((await BayesReplica.load(store, 'self')).fileKnown, null)
    await replica.setMergedBaseline(0, file('written'))
    assert.deepEqual((await BayesReplica.load(store, 'self')).fileKnown, file('written'))
  })

  test('a merged baseline reloads as the DB written, so only what this node learned after it counts as its own', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.merge([{ nodeId: 'other', db: db(0, 10, { spam: 1, ham: 0, atime: 10 }) }])
    await replica.setMergedBaseline(0)
    const loaded = await BayesReplica.load(store, 'self')
    const local = db(0, 10, { spam: 1, ham: 0, atime: 10 })
    assert.equal(await loaded.applyScan(local), 0)
    const learned = db(0, 10, { spam: 1, ham: 0, atime: 10 })
    learned.tokens.spam[3] = 4
    assert.equal(await loaded.applyScan(learned), 1)
    assert.equal(loaded.contributions().find(c => c.nodeId === 'self')?.db.tokens.spam[0], 3)
  })

  test('a merged baseline reloads as of its own change, not with what was merged after it', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.merge([{ nodeId: 'other', db: db(0, 1, { spam: 1, ham: 0, atime: 10 }) }])
    await replica.setMergedBaseline(0)
    // Merged but never written (a crash before the write): the file still holds spam 1.
    await replica.merge([{ nodeId: 'other', db: db(0, 1, { spam: 6, ham: 0, atime: 10 }) }])
    const loaded = await BayesReplica.load(store, 'self')
    assert.equal(await loaded.applyScan(db(0, 1, { spam: 2, ham: 0, atime: 10 })), 1)
    assert.equal(loaded.contributions().find(c => c.nodeId === 'self')?.db.tokens.spam[0], 1)
  })

  test('a merged baseline older than a fold is kept through the fold', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.merge([{ nodeId: 'other', db: db(0, 1, { spam: 1, ham: 0, atime: 10 }) }])
    await replica.setMergedBaseline(0)
    // More records than the log keeps: the fold drops the records the baseline was made of.
    for (let n = 2; n <= 300; n++) await replica.merge([{ nodeId: 'other', db: db(0, 1, { spam: n, ham: 0, atime: 10 }) }])
    assert.equal(await changed(replica, 1), null, 'the log was folded')
    const loaded = await BayesReplica.load(store, 'self')
    assert.equal(await loaded.applyScan(db(0, 1, { spam: 2, ham: 0, atime: 10 })), 1)
    assert.equal(loaded.contributions().find(c => c.nodeId === 'self')?.db.tokens.spam[0], 1)
  })

  test('a merged baseline expired to maxTokens reloads expired the same way', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.merge([{ nodeId: 'other', db: db(0, 4, { spam: 1, ham: 0, atime: 10 }) }])
    const written = expireTokens(await replica.merged(), 2)
    await replica.setMergedBaseline(2)
    const loaded = await BayesReplica.load(store, 'self')
    // The expired tokens are not in the baseline: a local file that has them again learned them.
    assert.equal(await loaded.applyScan(db(0, 4, { spam: 1, ham: 0, atime: 10 })), 4 - written.tokens.keys.length)
  })

  test('changes up to a change sequence leave out what was committed after it', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    const start = replica.changeSeq
    await replica.merge([{ nodeId: 'a', db: db(0, 10, { spam: 1, ham: 0, atime: 10 }) }])
    const served = replica.changeSeq
    await replica.merge([{ nodeId: 'b', db: db(100, 10, { spam: 1, ham: 0, atime: 10 }) }])
    assert.deepEqual(byNode(await changed(replica, start, undefined, served)), { a: 10 })
    assert.deepEqual(byNode(await changed(replica, served)), { b: 10 })
  })

  test('changes of nodes each in one record come as one file, equal to a new encoding of them', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    const start = replica.changeSeq
    const a = db(0, 50, { spam: 1, ham: 0, atime: 10 })
    const b = db(40, 50, { spam: 0, ham: 2, atime: 11 })
    await replica.merge([{ nodeId: 'b', db: b }])
    await replica.merge([{ nodeId: 'a', db: a }])
    const file = await replica.changedSinceFile(start)
    assert.deepEqual(file?.data, encodeBayes([{ nodeId: 'a', db: a }, { nodeId: 'b', db: b }]).data)
    assert.equal(file?.entries, 100)
    assert.equal(file?.contributions, 2)
  })

  test('changes of a node in two records are joined, then encoded', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    const start = replica.changeSeq
    await replica.merge([{ nodeId: 'a', db: db(0, 5, { spam: 1, ham: 0, atime: 10 }) }])
    await replica.merge([{ nodeId: 'a', db: db(3, 5, { spam: 2, ham: 0, atime: 12 }) }])
    const file = await replica.changedSinceFile(start)
    assert.deepEqual(file?.data, encodeBayes(replica.contributions()).data)
    assert.equal(file?.entries, 8)
  })

  test('a contribution new here as a whole is stored as the bytes it came in', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    const start = replica.changeSeq
    const section = encodeSection({ nodeId: 'a', db: db(0, 5, { spam: 7, ham: 0, atime: 10 }) })
    await replica.mergeSections([section])
    assert.deepEqual((await replica.changedSinceFile(start))?.data, joinBayesSections([section]).data)
  })

  test('a contribution that only grows one held here is encoded, not passed through', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.merge([{ nodeId: 'a', db: db(0, 5, { spam: 1, ham: 0, atime: 10 }) }])
    const start = replica.changeSeq
    const [next] = decodeBayes(encodeBayes([{ nodeId: 'a', db: db(0, 6, { spam: 1, ham: 0, atime: 10 }) }]).data, { keepEncoded: true })
    await replica.merge([next])
    assert.deepEqual(byNode(await changed(replica, start)), { a: 1 })
  })

  test('the baseline of a first scan reloads as that scan', async (t) => {
    const { store } = await openStore(t)
    const replica = await BayesReplica.load(store, 'self')
    await replica.applyScan(db(0, 10, { spam: 1, ham: 0, atime: 10 }))
    const loaded = await BayesReplica.load(store, 'self')
    assert.equal(await loaded.applyScan(db(0, 10, { spam: 1, ham: 0, atime: 10 })), 0)
    assert.equal(await loaded.applyScan(db(0, 11, { spam: 1, ham: 0, atime: 10 })), 1)
  })

  describe('a write of the cluster\'s DB cut short (write-ahead pending baseline)', () => {
    /** A replica that learned one token 10 times on node `other`, with a write of it begun and never finished. */
    async function crashedDuringWrite (t: TestContext): Promise<{ store: StateStore, written: BayesDb }> {
      const { store } = await openStore(t)
      const replica = await BayesReplica.load(store, 'self')
      await replica.merge([{ nodeId: 'other', db: db(0, 1, { spam: 10, ham: 0, atime: 10 }, 10) }])
      const written = await replica.merged()
      await replica.beginMergedBaseline(0)
      return { store, written }
    }

    const own = (r: BayesReplica): BayesDb | undefined => r.contributions().find(c => c.nodeId === 'self')?.db

    test('after a restart, the local DB holding the whole written DB counts nothing as this node\'s own', async (t) => {
      const { store, written } = await crashedDuringWrite(t)
      const loaded = await BayesReplica.load(store, 'self')
      assert.equal(loaded.writeDue, true)
      assert.equal(await loaded.applyScan(written), 0)
      assert.equal(own(loaded), undefined)
      assert.equal((await loaded.merged()).tokens.spam[0], 10)
    })

    test('after a restart, a local DB holding part of the written DB (an import cut short) counts nothing', async (t) => {
      const { store } = await crashedDuringWrite(t)
      const loaded = await BayesReplica.load(store, 'self')
      assert.equal(await loaded.applyScan(db(0, 1, { spam: 4, ham: 0, atime: 10 }, 4)), 0)
      assert.equal((await loaded.merged()).tokens.spam[0], 10)
    })

    test('after a restart, what was learned on top of the written DB counts exactly', async (t) => {
      const { store } = await crashedDuringWrite(t)
      const loaded = await BayesReplica.load(store, 'self')
      const local = db(0, 2, { spam: 10, ham: 0, atime: 10 }, 10)
      local.tokens.spam[1] = 3
      assert.equal(await loaded.applyScan(local), 1)
      assert.equal(own(loaded)?.tokens.spam[0], 3)
      assert.equal((await loaded.merged()).tokens.spam[0], 10)
    })

    test('a finished write clears the pending baseline in the same batch', async (t) => {
      const { store, written } = await crashedDuringWrite(t)
      const replica = await BayesReplica.load(store, 'self')
      await replica.setMergedBaseline(0)
      const loaded = await BayesReplica.load(store, 'self')
      assert.equal(loaded.writeDue, false)
      assert.equal(await loaded.applyScan(written), 0)
    })

    test('a merge that grew the DB makes a write due, durably, until a write finishes', async (t) => {
      const { store } = await openStore(t)
      const replica = await BayesReplica.load(store, 'self')
      await replica.applyScan(db(0, 1, { spam: 1, ham: 0, atime: 10 }))
      assert.equal(replica.writeDue, false, 'a scan: the local store holds it already')
      await replica.merge([{ nodeId: 'other', db: db(5, 1, { spam: 1, ham: 0, atime: 10 }) }])
      assert.equal(replica.writeDue, true)
      // A crash before the write began: the restarted agent still knows bayes.txt lags.
      const loaded = await BayesReplica.load(store, 'self')
      assert.equal(loaded.writeDue, true)
      await loaded.beginMergedBaseline(0)
      await loaded.setMergedBaseline(0)
      assert.equal(loaded.writeDue, false)
      assert.equal((await BayesReplica.load(store, 'self')).writeDue, false)
    })

    test('a pending baseline older than a fold reloads as the newer state: never counted twice', async (t) => {
      const { store } = await crashedDuringWrite(t)
      const replica = await BayesReplica.load(store, 'self')
      // A failed import leaves the write pending while merges go on and fold the log.
      for (let n = 11; n <= 300; n++) await replica.merge([{ nodeId: 'other', db: db(0, 1, { spam: n, ham: 0, atime: 10 }) }])
      const loaded = await BayesReplica.load(store, 'self')
      assert.equal(await loaded.applyScan(db(0, 1, { spam: 10, ham: 0, atime: 10 }, 10)), 0)
      assert.equal(own(loaded), undefined)
    })
  })
})
