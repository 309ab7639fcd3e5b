/** ListReplica: a scan or a merge of a large list turns the event loop between its steps (pace.ts), with the same result. */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { turn, type Pause } from '../../../src/pace.js'
import type { StoredEntry } from '../../../src/store/state-store.js'
import { FILL_BUCKET_ENTRIES } from '../../../src/store/bucket-layout.js'
import { Node } from '../../helpers/replica-node.js'

const BL = 'blacklist'
/** Lines of the large list: seconds of work in one piece at 1M, a few hundred ms here. */
const LINES = 20_000
const keys = Array.from({ length: LINES }, (_, i) => `host-${String(i).padStart(6, '0')}.example`)
const text = keys.map(k => k + '\n').join('')
/** The buckets the list is cut into, less one: a step each (store/bucket-layout.ts). */
const CUTS = Math.ceil(LINES / FILL_BUCKET_ENTRIES) - 1

/** The same entries, later than the scan's stamps, in key order (an archive's list). */
function incoming (wallMs: number): Entry[] {
  return keys.map(key => ({ key, value: '', present: true, stamp: { wallMs: wallMs + 1000, counter: 0, nodeId: 'peer' } }))
}

/** A pause that counts its calls and turns the event loop on each. */
function countingPause (): { pause: Pause, calls: () => number } {
  let calls = 0
  return { pause: async () => { calls++; await turn() }, calls: () => calls }
}

/** Whether an immediate queued now runs before `replica`'s clock moves (before anything is stamped or merged). */
function ranBeforeClockMoved (node: Node): () => boolean {
  const before = node.replica.clock.peek()
  let ran: boolean | undefined
  setImmediate(() => { ran = node.replica.clock.peek() === before })
  return () => ran === true
}

/** What a replica holds of the blacklist, as bytes and counts. */
async function held (node: Node): Promise<unknown> {
  const list = await node.replica.encoded(BL)
  return { data: [...list.data], present: node.replica.presentCount(BL), lseq: node.replica.changeSeq, clock: node.replica.clock.peek() }
}

/** A scan of the large list, then a merge of it restamped, on a node with `pause`. */
async function scanAndMerge (t: TestContext, pause: Pause): Promise<{ node: Node, scanned: StoredEntry[], merged: StoredEntry[] }> {
  const node = await Node.create(t, { pause })
  const scanned = await node.replica.applyScan(BL, text)
  const merged = await node.replica.merge(BL, incoming(node.wallMs), { synced: true })
  return { node, scanned, merged }
}

describe('ListReplica paced', () => {
  test('a scan of a large list file turns the event loop before it has stamped anything, and between the steps of its parse, stamping and encoding', async (t) => {
    const { pause, calls } = countingPause()
    const node = await Node.create(t, { pause })
    const ranFirst = ranBeforeClockMoved(node)
    const changed = await node.replica.applyScan(BL, text)
    assert.equal(changed.length, LINES)
    assert.ok(ranFirst(), 'the immediate queued before the scan ran before its first stamp')
    // 1,024 lines a step of the parse, 2,048 keys a step of the stamping and a bucket a step of the encoding.
    assert.ok(calls() >= Math.floor(LINES / 1024) + Math.floor(LINES / 2048) + CUTS, `${calls()} pauses`)
  })

  test('a scan that changes every line of a large held list turns the event loop between the buckets it encodes', async (t) => {
    const { pause, calls } = countingPause()
    const node = await Node.create(t, { pause })
    await node.replica.applyScan(BL, text)
    const scanPauses = calls()
    const changed = await node.replica.applyScan(BL, keys.map(k => `${k} noted\n`).join(''))
    assert.equal(changed.length, LINES)
    // The parse, the diff and the stamping take ~100 steps here (94 counted), and the encoding
    // one per bucket (each holds changed lines): 147 counted, 94 without that step.
    assert.ok(calls() - scanPauses >= Math.floor(LINES / 1024) + Math.floor(LINES / 2048) + 2 * CUTS, `${calls() - scanPauses} pauses`)
  })

  test('a merge of a large list into held entries turns the event loop before it has merged anything, and between its buckets', async (t) => {
    const { pause, calls } = countingPause()
    const node = await Node.create(t, { pause })
    await node.replica.applyScan(BL, text)
    const scanPauses = calls()
    const ranFirst = ranBeforeClockMoved(node)
    const changed = await node.replica.merge(BL, incoming(node.wallMs), { synced: true })
    assert.equal(changed.length, LINES)
    assert.ok(ranFirst(), 'the immediate queued before the merge ran before its first entry was merged')
    assert.ok(calls() - scanPauses >= CUTS, `${calls() - scanPauses} pauses`)
  })

  test('a merge of a large list into an empty dataset (an initial sync) turns the event loop between its buckets', async (t) => {
    const { pause, calls } = countingPause()
    const node = await Node.create(t, { pause })
    const ranFirst = ranBeforeClockMoved(node)
    assert.equal((await node.replica.merge(BL, incoming(node.wallMs), { synced: true })).length, LINES)
    assert.ok(ranFirst(), 'the immediate queued before the merge ran before its first entry was merged')
    assert.ok(calls() >= CUTS, `${calls()} pauses`)
  })

  test('paced and unpaced, a scan and a merge change the same entries and leave the same bytes, counts and clock', async (t) => {
    const paced = await scanAndMerge(t, turn)
    const unpaced = await scanAndMerge(t, async () => {})
    assert.deepEqual(paced.scanned, unpaced.scanned)
    assert.deepEqual(paced.merged, unpaced.merged)
    assert.deepEqual(await held(paced.node), await held(unpaced.node))
  })
})
