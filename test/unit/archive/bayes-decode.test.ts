/**
 * The Bayes dataset codec: decoding, and every malformed file it refuses. The files built by
 * hand here are of version 1 (agents up to 0.2.0), which is still read; bayes-decode-v2.test.ts
 * has the refusals that only version 2 can meet.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DatasetDecodeError } from '../../../src/errors.js'
import { MAX_COUNT } from '../../../src/crdt/bayes-counters.js'
import { decodeBayes, encodeBayes } from '../../../src/archive/bayes-codec.js'
import { NODE_A, NODE_B, section, Bytes, rejects, contribsArb } from '../../helpers/bayes-files.js'

describe('decodeBayes', () => {
  const sample = encodeBayes([
    { nodeId: NODE_A, db: section([['0000000001', 1, 0, 5], ['00000fffff', 200, 3, 9], ['ffffffffff', 0, 1, 5]], [['<1@x>', 's'], ['<2@x>', 'h']], 3, 4) },
    { nodeId: NODE_B, db: section([]) }
  ]).data

  it('refuses a bad magic and an unknown version', () => {
    rejects(new TextEncoder().encode('spamsync-list 1\n'), /bad magic/)
    rejects(new Uint8Array(0), /truncated/)
    rejects(new Bytes().magic(3).varint(0).bytes(), /unsupported Bayes format version 3 \(expected 1 or 2\)/)
    rejects(new Bytes().magic(0).varint(0).bytes(), /unsupported Bayes format version 0/)
  })

  it('prefixes errors with the file name', () => {
    rejects(new Uint8Array(3), /^bayes\.bin: byte 0: /, { name: 'bayes.bin' })
  })

  it('refuses every truncation of a file', () => {
    for (let cut = 0; cut < sample.length; cut++) {
      assert.throws(() => decodeBayes(sample.subarray(0, cut)), DatasetDecodeError, `cut at ${cut}`)
    }
    rejects(new Bytes().magic().varint(1).str(NODE_A).byte(0x80).bytes(), /truncated inside/)
  })

  it('refuses a count larger than the bytes left, without allocating for it', () => {
    rejects(new Bytes().magic().varint(2 ** 50).bytes(), /truncated: contribution count/)
    rejects(new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(Number.MAX_SAFE_INTEGER).byte(0, 0, 0, 0, 0, 0).bytes(), /truncated: .*token count/)
    rejects(new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(0).varint(0).varint(2 ** 40).bytes(), /truncated: .*seen count/)
    rejects(new Bytes().magic().varint(1).varint(2 ** 40).byte(0, 0, 0, 0, 0, 0, 0, 0).bytes(), /truncated: node id/)
  })

  it('refuses a varint above 2^53 - 1, longer than 8 bytes or not minimal', () => {
    const head = (): Bytes => new Bytes().magic().varint(1).str(NODE_A)
    const ok = decodeBayes(head().varint(Number.MAX_SAFE_INTEGER).varint(0).varint(0).varint(0).varint(0).bytes())
    assert.equal(ok[0].db.numSpam, Number.MAX_SAFE_INTEGER)
    rejects(head().varint(2 ** 53).varint(0).varint(0).varint(0).varint(0).bytes(), /numSpam varint overflow/)
    rejects(head().byte(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).bytes(), /varint overflow: longer than 8 bytes/)
    rejects(head().byte(0x81, 0x00).varint(0).varint(0).varint(0).varint(0).bytes(), /not minimal/)
  })

  // One contribution of NODE_A with tokens given as raw (low, high) gaps, one count each and one atime.
  function tokensFile (gaps: Array<[low: number, high: number]>): Uint8Array {
    const b = new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(gaps.length)
    for (const [low] of gaps) b.byte(low & 0xff, low >>> 8)
    for (const [, high] of gaps) b.varint(high)
    for (let i = 0; i < 2 * gaps.length; i++) b.varint(1)
    return b.varint(1).varint(7).varint(0).bytes()
  }

  it('refuses a spam or ham count above 2^32 - 1', () => {
    const withCounts = (spam: number, ham: number): Uint8Array => new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(1)
      .byte(1, 0).varint(0).varint(spam).varint(ham).varint(1).varint(7).varint(0).bytes()
    assert.equal(decodeBayes(withCounts(MAX_COUNT, MAX_COUNT))[0].db.tokens.spam[0], MAX_COUNT)
    rejects(withCounts(MAX_COUNT + 1, 0), /spam count 4294967296 is above 4294967295/)
    rejects(withCounts(0, MAX_COUNT + 1), /ham count 4294967296 is above 4294967295/)
  })

  it('refuses tokens that are not strictly ascending or above 40 bits', () => {
    assert.equal(decodeBayes(tokensFile([[0, 0], [1, 0], [0, 1]]))[0].db.tokens.keys.length, 3)
    rejects(tokensFile([[5, 0], [0, 0]]), /token 0000000005 repeats \(tokens must be strictly ascending\)/)
    rejects(tokensFile([[0xffff, 2 ** 24 - 1], [1, 0]]), /above 40 bits/)
    rejects(tokensFile([[0, 2 ** 24]]), /above 40 bits/)
  })

  it('refuses a token total other than the manifest declares', () => {
    assert.equal(decodeBayes(sample, { expectedEntries: 3 }).length, 2)
    rejects(sample, /holds 3 token records, the manifest says 4/, { expectedEntries: 4 })
    rejects(sample, /^bayes\.bin: holds 3 token records, the manifest says 0/, { name: 'bayes.bin', expectedEntries: 0 })
  })

  it('refuses a duplicate or out-of-order node id, and an empty one', () => {
    rejects(new Bytes().magic().varint(2).empty(NODE_A).empty(NODE_A).bytes(), /duplicate node id/)
    rejects(new Bytes().magic().varint(2).empty(NODE_B).empty(NODE_A).bytes(), /out of order/)
    rejects(new Bytes().magic().varint(1).varint(0).varint(0).varint(0).varint(0).varint(0).varint(0).byte(0).bytes(), /empty node id/)
  })

  it('refuses a seen flag other than s or h, and msgids repeated or out of order', () => {
    const seen = (...records: Array<[number, string]>): Uint8Array => {
      const b = new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(0).varint(0).varint(records.length)
      for (const [flag, msgid] of records) b.byte(flag).str(msgid)
      return b.bytes()
    }
    assert.deepEqual(decodeBayes(seen([0x73, 'a'], [0x68, 'b']))[0].db.seen, new Map([['a', 's'], ['b', 'h']]))
    rejects(seen([0x53, 'a']), /seen flag 83 is neither "s" nor "h"/)
    rejects(seen([0x73, 'b'], [0x68, 'a']), /msgid "a" is out of order/)
    rejects(seen([0x73, 'a'], [0x68, 'a']), /msgid "a" repeats/)
    // A msgid length of 0, then a byte so that the seen count passes its size check.
    rejects(new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(0).varint(0).varint(1).byte(0x73, 0, 0).bytes(), /empty node "[^"]+" msgid/)
  })

  it('refuses invalid UTF-8', () => {
    rejects(new Bytes().magic().varint(1).varint(2).byte(0xc3, 0x28).varint(0).varint(0).varint(0).varint(0).varint(0).bytes(), /node id is not valid UTF-8/)
  })

  it('refuses bad atime dictionaries and indexes', () => {
    // Two tokens; `dict` is the dictionary (count then gaps), `index` the index column bytes.
    const file = (dict: number[], index: number[]): Uint8Array => {
      const b = new Bytes().magic().varint(1).str(NODE_A).varint(0).varint(0).varint(2)
        .byte(1, 0, 1, 0).varint(0).varint(0).varint(1).varint(1).varint(0).varint(0)
      for (const v of dict) b.varint(v)
      return b.byte(...index).varint(0).bytes()
    }
    assert.deepEqual([...decodeBayes(file([2, 10, 5], [1, 0]))[0].db.tokens.atime], [15, 10])
    rejects(file([2, 10, 5], [2, 0]), /atime index 2 of token 0000000001 is not below 2/)
    rejects(file([2, 10, 5], [0, 0]), /1 atimes that no token uses/)
    rejects(file([2, 10, 0], [0, 1]), /atime 10 repeats/)
    rejects(file([0], []), /has 0 distinct atimes for 2 tokens/)
    rejects(file([3, 1, 1, 1], [0, 1]), /has 3 distinct atimes for 2 tokens/)
    rejects(file([2, MAX_COUNT, 1], [0, 1]), /atime 4294967296 is above 4294967295/)
  })

  it('refuses trailing bytes', () => {
    rejects(Uint8Array.from([...sample, 0]), /1 trailing bytes after the last contribution/)
  })

  it('throws only DatasetDecodeError on corrupted input (property)', () => {
    fc.assert(fc.property(contribsArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (contribs, edits) => {
      const data = encodeBayes(contribs).data.slice()
      for (const [at, value] of edits) data[at % data.length] = value
      try {
        decodeBayes(data)
      } catch (err) {
        assert.ok(err instanceof DatasetDecodeError, String(err))
      }
    }), { numRuns: 500 })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), tail => {
      const data = Uint8Array.from([...new Bytes().magic().bytes(), ...tail])
      try {
        decodeBayes(data)
      } catch (err) {
        assert.ok(err instanceof DatasetDecodeError, String(err))
      }
    }), { numRuns: 500 })
  })
})
