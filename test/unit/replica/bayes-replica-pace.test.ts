import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tokenHex, tokensOf, type BayesDb, type TokenCounts } from '../../../src/crdt/bayes-counters.js'
import { StateStore } from '../../../src/store/state-store.js'
import { BayesReplica } from '../../../src/replica/bayes-replica.js'
import { turn } from '../../../src/pace.js'
import { encodeSection } from '../../../src/archive/bayes-codec.js'

/** A store in a temp folder, closed and removed after the test. */
async function openStore (t: TestContext): Promise<StateStore> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-bayes-pace-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return store
}

/** A DB of tokens first..first+n-1, each with the given counts. */
function db (first: number, n: number, c: TokenCounts): BayesDb {
  return { numSpam: 1, numHam: 0, tokens: tokensOf(Array.from({ length: n }, (_, i) => [tokenHex(first + i), c] as [string, TokenCounts])), seen: new Map() }
}

/** Counts turns of the event loop (immediates run) until stopped. */
function countTurns (): { stop: () => number } {
  let turns = 0
  let timer = setImmediate(function tick () {
    turns++
    timer = setImmediate(tick)
  })
  return { stop: () => { clearImmediate(timer); return turns } }
}

const contributions = [
  { nodeId: 'a', db: db(0, 150_000, { spam: 1, ham: 0, atime: 1 }) },
  { nodeId: 'b', db: db(50_000, 150_000, { spam: 0, ham: 1, atime: 2 }) },
  { nodeId: 'c', db: db(100_000, 150_000, { spam: 2, ham: 1, atime: 3 }) }
]

describe('BayesReplica paced', () => {
  test('the sum of the cluster DB turns the event loop between its steps, so beacons keep going', async (t) => {
    const replica = await BayesReplica.load(await openStore(t), 'self', turn)
    await replica.merge(contributions)
    const turns = countTurns()
    const merged = await replica.merged()
    const seen = turns.stop()
    assert.equal(merged.tokens.keys.length, 250_000)
    // One turn after each section decoded, then the sum's slices (65,536 rows of the largest table each), counted and written.
    assert.ok(seen >= 3 + 2 * 3, `${seen} turns`)
  })

  test('a merge of contributions new here decodes nothing, so it never pauses', async (t) => {
    let pauses = 0
    const replica = await BayesReplica.load(await openStore(t), 'self', async () => { pauses++ })
    await replica.mergeSections(contributions.map(c => encodeSection(c)))
    assert.equal(pauses, 0)
  })

  test('a merge into held contributions pauses after each node it joins and between the columns of each section it decodes and encodes', async (t) => {
    let pauses = 0
    const replica = await BayesReplica.load(await openStore(t), 'self', async () => { pauses++ })
    await replica.mergeSections(contributions.map(c => encodeSection(c)))
    await replica.mergeSections(contributions.map(c => encodeSection({ nodeId: c.nodeId, db: { ...c.db, numSpam: 2 } })))
    // Per node: the held and the incoming section decoded (3 pauses each), the join, the growth
    // encoded for the record and the joined contribution for holding it (4 each).
    assert.equal(pauses, 3 * (3 + 3 + 1 + 4 + 4))
  })
})
