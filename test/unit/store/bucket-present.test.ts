import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeBucket } from '../../../src/store/bucket-codec.js'
import { decodeBucketPresent, type PresentEntries } from '../../../src/store/bucket-present.js'
import type { StoredEntry } from '../../../src/store/state-store.js'

const entry = (key: string, value: string, present = true): StoredEntry =>
  ({ key, value, present, stamp: { wallMs: 1, counter: 0, nodeId: 'node-a' }, lseq: 1, synced: false })

describe('present entries of a bucket', () => {
  test('the present entries come as keys and fields in key order, tombstones left out, after what the output held', () => {
    const bytes = encodeBucket([entry('b.example', 'x'), entry('c.example', '', false), entry('d.example', '')])
    assert.ok(bytes !== null)
    const out: PresentEntries = { keys: ['a.example'], values: ['v'] }
    assert.equal(decodeBucketPresent(bytes, out, 'e!whitelist!00'), true)
    assert.deepEqual(out, { keys: ['a.example', 'b.example', 'd.example'], values: ['v', 'x', ''] })
  })

  test('a bucket whose records are out of key order (written before format 4) is refused', () => {
    // Node "n", then records "b" and "a", each: key length 1, value length 0, present, wallMs 1, counter 0, node 0, lseq.
    const bytes = Uint8Array.from([1, 3, 0x6e, 0x62, 0x61, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 2])
    assert.equal(decodeBucketPresent(bytes, { keys: [], values: [] }, 'e!whitelist!00'), false)
  })
})
