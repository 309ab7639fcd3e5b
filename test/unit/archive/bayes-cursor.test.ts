import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeBayes, decodeBayesSections, decodeSection, encodeBayes, encodeSection } from '../../../src/archive/bayes-codec.js'
import { DatasetDecodeError } from '../../../src/errors.js'
import { SectionCursor, sectionSeen } from '../../../src/archive/bayes-cursor.js'
import { allocTokens } from '../../../src/crdt/bayes-counters.js'
import { contribsArb } from '../../helpers/bayes-files.js'

describe('section cursor', () => {
  it('reads a section\'s rows, block by block of any size, as decodeSection gives them (properties)', () => {
    fc.assert(fc.property(contribsArb, fc.integer({ min: 1, max: 7 }), (contribs, block) => {
      for (const c of contribs) {
        const section = encodeSection(c)
        const want = decodeSection(section).db.tokens
        const got = allocTokens(section.tokens)
        const cursor = new SectionCursor(section)
        let at = 0
        while (cursor.remaining > 0) at += cursor.read(got, at, block)
        assert.equal(at, section.tokens)
        assert.deepEqual(got, want)
      }
    }), { numRuns: 200 })
  })

  it('reads a section\'s seen ids without decoding its tokens (properties)', () => {
    fc.assert(fc.property(contribsArb, (contribs) => {
      for (const c of contribs) assert.deepEqual(sectionSeen(encodeSection(c)), decodeSection(encodeSection(c)).db.seen)
    }), { numRuns: 200 })
  })
})

describe('decodeBayesSections', () => {
  it('gives the sections of a file, each decoding to decodeBayes\'s contribution (properties)', () => {
    fc.assert(fc.property(contribsArb, (contribs) => {
      const { data, entries } = encodeBayes(contribs)
      const sections = decodeBayesSections(data, { expectedEntries: entries })
      assert.deepEqual(sections.map(s => decodeSection(s)), decodeBayes(data).map(c => ({ nodeId: c.nodeId, db: c.db })))
      assert.deepEqual(sections.map(s => [s.tokens, s.numSpam, s.numHam]), decodeBayes(data).map(c => [c.db.tokens.keys.length, c.db.numSpam, c.db.numHam]))
    }), { numRuns: 200 })
  })

  it('refuses what decodeBayes refuses: a token total other than the manifest\'s', () => {
    const { data, entries } = encodeBayes([{ nodeId: 'a', db: decodeSection(encodeSection({ nodeId: 'a', db: { numSpam: 0, numHam: 0, tokens: allocTokens(0), seen: new Map() } })).db }])
    assert.throws(() => decodeBayesSections(data, { expectedEntries: entries + 1 }), DatasetDecodeError)
  })
})
