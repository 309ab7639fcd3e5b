import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeSection, decodeSectionPaced, encodeSection, encodeSectionPaced } from '../../../src/archive/bayes-codec.js'
import { contribsArb } from '../../helpers/bayes-files.js'

describe('paced section codec', () => {
  it('encodes and decodes a section as the unpaced codec does, pausing between its columns (properties)', async () => {
    await fc.assert(fc.asyncProperty(contribsArb, async (contribs) => {
      for (const c of contribs) {
        let pauses = 0
        const section = await encodeSectionPaced({ nodeId: c.nodeId, db: c.db }, async () => { pauses++ })
        assert.deepEqual(section, encodeSection({ nodeId: c.nodeId, db: c.db }))
        // After the key check, the gaps, the counts and the atimes.
        assert.equal(pauses, 4)
        pauses = 0
        assert.deepEqual(await decodeSectionPaced(section, async () => { pauses++ }), decodeSection(section))
        assert.equal(pauses, 3)
      }
    }), { numRuns: 200 })
  })
})
