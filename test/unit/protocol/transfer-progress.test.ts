/** The transfer in flight as status reports it. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TransferProgress } from '../../../src/protocol/transfer-progress.js'

test('reports bytes done of total while the work runs, null before and after', async () => {
  const p = new TransferProgress()
  assert.equal(p.current, null)
  const result = await p.track('download', async (onProgress) => {
    assert.deepEqual(p.current, { direction: 'download', bytesDone: 0, bytesTotal: 0 })
    onProgress(512, 2048)
    assert.deepEqual(p.current, { direction: 'download', bytesDone: 512, bytesTotal: 2048 })
    return 'done'
  })
  assert.equal(result, 'done')
  assert.equal(p.current, null)
})

test('a failed transfer is cleared too', async () => {
  const p = new TransferProgress()
  await assert.rejects(p.track('upload', async () => { throw new Error('cut') }), /cut/)
  assert.equal(p.current, null)
})
