import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BucketCursor, bucketStats, decodeBucket, decodeBucketColumns, encodeBucket } from '../../../src/store/bucket-codec.js'
import { EntryColumns } from '../../../src/crdt/entry-columns.js'
import { StoreFormatError } from '../../../src/errors.js'
import type { StoredEntry } from '../../../src/store/state-store.js'

const entry = (key: string, value: string, wallMs: number, nodeId: string, lseq: number, present = true, synced = false): StoredEntry =>
  ({ key, value, present, stamp: { wallMs, counter: lseq % 3, nodeId }, lseq, synced })

function roundTrip (entries: StoredEntry[]): StoredEntry[] {
  const bytes = encodeBucket(entries)
  assert.ok(bytes !== null)
  const out: StoredEntry[] = []
  decodeBucket(bytes, out, 'e!whitelist!00')
  return out
}

describe('entry bucket values', () => {
  test('entries decode as they were encoded: flags, stamps, node ids, change sequence', () => {
    const entries = [
      entry('a.example', 'note', 1_700_000_000_000, 'node-a', 1),
      entry('b.example', '', 0, 'node-a', 3, true, true),
      entry('gone.example', '', 1_700_000_000_001, 'node-b', 2, false, true)
    ]
    assert.deepEqual(roundTrip(entries), entries)
  })

  test('a decode after a change sequence builds only the entries changed after it', () => {
    const entries = [entry('a.example', '', 1, 'node-a', 7), entry('b.example', '', 2, 'node-a', 3), entry('c.example', '', 3, 'node-b', 9)]
    const out: StoredEntry[] = []
    decodeBucket(encodeBucket(entries) as Uint8Array, out, 'e!whitelist!00', 7)
    assert.deepEqual(out, [entries[2]])
  })

  test('stats count entries, present ones and those from the central state, and give the newest wall time, the newest and oldest change sequence and the first and last keys', () => {
    const entries = [entry('a.example', '', 5, 'node-a', 7), entry('b.example', '', 2, 'node-a', 3, false), entry('c.example', '', 3, 'node-b', 9)]
    assert.deepEqual(bucketStats(encodeBucket(entries) as Uint8Array, 'e!whitelist!'), { entries: 3, present: 2, synced: 0, newestWall: 5, newestLseq: 9, oldestLseq: 3, firstKey: 'a.example', lastKey: 'c.example' })
  })

  test('stats read the first and last keys of a bucket whose text is not ASCII (values too)', () => {
    const entries = [entry('ä.example', 'née', 5, 'nœud-a', 7), entry('b.example', '😀', 2, 'node-a', 3), entry('𝔷.example', 'x', 3, 'node-b', 9)]
    const stats = bucketStats(encodeBucket(entries) as Uint8Array, 'e!whitelist!')
    assert.deepEqual([stats.firstKey, stats.lastKey], ['b.example', '𝔷.example'])
  })

  test('entries are stored sorted by key, so a dataset reads as sorted runs', () => {
    const entries = [entry('c.example', '', 1, 'node-a', 1), entry('a.example', '', 2, 'node-b', 2), entry('b.example', '', 3, 'node-a', 3)]
    assert.deepEqual(roundTrip(entries).map(e => e.key), ['a.example', 'b.example', 'c.example'])
  })

  test('columns hold what the objects hold, one run per bucket, node ids shared between buckets', () => {
    const first = [entry('a.example', 'note', 1_700_000_000_000, 'node-a', 1), entry('gone.example', '', 5, 'node-b', 2, false, true)]
    const second = [entry('b.example', 'x', 7, 'node-b', 3), entry('c.example', '', 8, 'node-c', 4)]
    const cols = new EntryColumns()
    decodeBucketColumns(encodeBucket(first)!, cols, 'e!whitelist!00')
    decodeBucketColumns(encodeBucket(second)!, cols, 'e!whitelist!01')
    assert.deepEqual(cols.runEnds, [2, 4])
    assert.deepEqual(cols.nodeIds, ['node-a', 'node-b', 'node-c'])
    const rows = Array.from({ length: cols.length }, (_, i) => [cols.keys[i], cols.values[i], cols.present[i], cols.wallMs[i], cols.counter[i], cols.nodeIds[cols.node[i]]])
    assert.deepEqual(rows, [...first, ...second].map(e => [e.key, e.value, e.present ? 1 : 0, e.stamp.wallMs, e.stamp.counter, e.stamp.nodeId]))
  })

  test('columns after a change sequence, own only, hold just the unsynced entries changed after it', () => {
    const entries = [entry('a.example', '', 1, 'node-a', 7), entry('b.example', '', 2, 'node-a', 8, true, true), entry('c.example', '', 3, 'node-b', 9), entry('d.example', '', 4, 'node-b', 2)]
    const cols = new EntryColumns()
    decodeBucketColumns(encodeBucket(entries)!, cols, 'e!whitelist!00', 7, true)
    assert.deepEqual(cols.keys, ['c.example'])
    assert.deepEqual(cols.runEnds, [1])
  })

  test('a cursor finds keys asked in order and out of order, and not the absent ones', () => {
    const entries = [entry('a.example', 'x', 1, 'node-a', 1), entry('c.example', '', 2, 'node-b', 2, false, true), entry('e.example', 'y', 3, 'node-a', 3)]
    const cursor = new BucketCursor(encodeBucket(entries)!, 'e!whitelist!00')
    const found = (key: string): StoredEntry | undefined => { const e = cursor.find(key); return e === undefined ? undefined : structuredClone(e) }
    assert.deepEqual([found('a.example'), found('b.example'), found('c.example'), found('d.example'), found('e.example'), found('f.example')],
      [entries[0], undefined, entries[1], undefined, entries[2], undefined])
    assert.deepEqual(found('a.example'), entries[0])
    assert.equal(cursor.finish(), true)
  })

  test('a cursor over records out of key order says so when finished', () => {
    // Node "n", then records "b" and "a", each: key length 1, value length 0, present, wallMs 1, counter 0, node 0, lseq.
    const bytes = Uint8Array.from([1, 3, 0x6e, 0x62, 0x61, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 2])
    const cursor = new BucketCursor(bytes, 'e!whitelist!00')
    assert.equal(cursor.find('a.example'), undefined)
    assert.equal(cursor.finish(), false)
  })

  test('non-ASCII text and numbers up to 2^53 - 1 survive', () => {
    const entries = [
      entry('münchen.example', 'grüße \t\n\\ 日本', Number.MAX_SAFE_INTEGER, 'nöde', 2 ** 31),
      entry('x'.repeat(300), 'y'.repeat(200), 2 ** 31 - 1, 'node-a', 2 ** 40 + 7)
    ]
    assert.deepEqual(roundTrip(entries), entries)
  })

  test('a bucket without entries encodes as null (the key is deleted)', () => {
    assert.equal(encodeBucket([]), null)
  })

  test('a truncated value is refused with StoreFormatError naming the key', () => {
    const bytes = encodeBucket([entry('a.example', 'note', 1_700_000_000_000, 'node-a', 1)])!
    assert.throws(() => decodeBucket(bytes.subarray(0, bytes.length - 3), [], 'e!whitelist!2a'),
      (err: unknown) => err instanceof StoreFormatError && /e!whitelist!2a: bucket value ends early/.test(err.message))
  })

  test('a node index beyond the node table is refused with StoreFormatError', () => {
    const bytes = encodeBucket([entry('a.example', '', 1, 'node-a', 1)])!
    // The record's node index is the second-to-last byte (lseq 1 is the last).
    const bad = bytes.slice()
    bad[bad.length - 2] = 5
    assert.throws(() => decodeBucket(bad, [], 'e!whitelist!00'), (err: unknown) => err instanceof StoreFormatError && /node index 5 of 1/.test(err.message))
  })

  test('text that no string claims is refused with StoreFormatError', () => {
    const bytes = encodeBucket([entry('a.example', 'note', 1, 'node-a', 1)])!
    // Node count, text length, 19 bytes of text, the node id's length, the key's, then the value's.
    const bad = bytes.slice()
    assert.equal(bad[23], 4)
    bad[23] = 3
    assert.throws(() => decodeBucket(bad, [], 'e!whitelist!00'), (err: unknown) => err instanceof StoreFormatError && /text left over after the last string \(1 UTF-16 units\)/.test(err.message))
  })
})
