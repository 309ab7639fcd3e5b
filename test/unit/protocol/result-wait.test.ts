/** The uploader's wait for the master's result after its merge (src/protocol/transfer.ts resultWaitMs). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { READ_TIMEOUT_MS, RESULT_WAIT_BYTES, resultWaitMs } from '../../../src/protocol/transfer.js'

test('the wait for a result is a read timeout, and one more per RESULT_WAIT_BYTES of archive', () => {
  assert.equal(resultWaitMs(0, 1000), 1000)
  assert.equal(resultWaitMs(RESULT_WAIT_BYTES, 1000), 2000)
  assert.equal(resultWaitMs(5 * RESULT_WAIT_BYTES, 1000), 6000)
})

test('a 1M-line list\'s archive (12 MB) is waited for over a minute, a 121k-line one\'s (1.1 MB) over 20 s', () => {
  assert.ok(resultWaitMs(12_100_000) > 60_000)
  assert.ok(resultWaitMs(1_100_000) > 20_000)
  assert.equal(resultWaitMs(0), READ_TIMEOUT_MS)
})
