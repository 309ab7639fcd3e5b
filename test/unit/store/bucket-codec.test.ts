import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeBucket, encodeBucket } from '../../../src/store/bucket-codec.js'
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
      entry('gone.example', '', 1_700_000_000_001, 'node-b', 2, false, true),
      entry('b.example', '', 0, 'node-a', 3, true, true)
    ]
    assert.deepEqual(roundTrip(entries), entries)
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
