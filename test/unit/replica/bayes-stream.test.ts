import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeSection } from '../../../src/archive/bayes-codec.js'
import { expireTokens, mergeContributions } from '../../../src/crdt/bayes-counters.js'
import { mergedStream } from '../../../src/replica/bayes-stream.js'
import { formatSaBackup, formatSaBackupStream } from '../../../src/settings/sa-backup.js'
import { contribsArb } from '../../helpers/bayes-files.js'

const noPause = async (): Promise<void> => {}

/** What a whole stream formats to, or the error it throws. */
async function streamed (stream: Awaited<ReturnType<typeof mergedStream>>): Promise<Buffer | Error> {
  const chunks: Buffer[] = []
  try {
    for await (const c of formatSaBackupStream(stream, stream.rows(), 64)) chunks.push(Buffer.from(c))
  } catch (err) {
    return err as Error
  }
  return Buffer.concat(chunks)
}

describe('merged stream of held sections', () => {
  it('formats to the bytes of the summed DB, expired to maxTokens, for any read-ahead block (properties)', async () => {
    await fc.assert(fc.asyncProperty(contribsArb, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 5 }), async (contribs, maxTokens, block) => {
      const held = new Map(contribs.map(c => [c.nodeId, encodeSection(c)]))
      const merged = mergeContributions(contribs.map(c => ({ ...c.db, nodeId: c.nodeId, revision: 0 })))
      const want = maxTokens > 0 ? expireTokens(merged, maxTokens) : merged
      const stream = await mergedStream(held, maxTokens, noPause, block)
      let expected: Buffer | Error
      try {
        expected = Buffer.from(formatSaBackup(want))
      } catch (err) {
        expected = err as Error
      }
      const got = await streamed(stream)
      if (expected instanceof Error) {
        assert.ok(got instanceof Error, 'the stream refuses what the whole DB refuses')
        assert.equal(got.message, expected.message)
        return
      }
      assert.deepEqual(got, expected)
      assert.equal(stream.tokens, want.tokens.keys.length)
    }), { numRuns: 300 })
  })

  it('pauses between the slices of the sum', async () => {
    const contribs = fc.sample(contribsArb.filter(cs => cs.some(c => c.db.tokens.keys.length > 3)), 1)[0]
    const held = new Map(contribs.map(c => [c.nodeId, encodeSection(c)]))
    let pauses = 0
    const stream = await mergedStream(held, 0, async () => { pauses++ }, 1)
    let slices = 0
    let rows = 0
    for await (const slice of stream.rows()) {
      slices++
      rows += slice.keys.length
    }
    assert.ok(slices > 1)
    assert.equal(rows, stream.tokens)
    assert.equal(pauses, slices)
  })
})
