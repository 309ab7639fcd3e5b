/**
 * The Bayes dataset codec, version 2: the refusals of its bit-packed and escaped columns, and
 * that version 1 files (agents up to 0.2.0) still read as the same contributions.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeBayes, encodeBayes, splitBayes } from '../../../src/archive/bayes-codec.js'
import { NODE_A, Bytes, rejects, contribsArb, section } from '../../helpers/bayes-files.js'

// A version 2 file of one NODE_A contribution with the given columns; no seen ids.
function file (n: number, gaps: { k: number, bytes: number[] }, counts: number[], atimes: number[], index: number[]): Uint8Array {
  const b = new Bytes().magic(2).varint(1).str(NODE_A).varint(0).varint(0).varint(n)
    .byte(gaps.k).varint(gaps.bytes.length).byte(...gaps.bytes)
    .varint(counts.length).byte(...counts)
    .varint(atimes.length)
  for (const a of atimes) b.varint(a)
  return b.byte(...index).varint(0).bytes()
}

// Two tokens, 1 and 2, with k = 0: gaps 1 and 1 are the bits 01 01 (q 1: one 0, then the 1).
const TWO_TOKENS = { k: 0, bytes: [0b1010] }

describe('decodeBayes, version 2', () => {
  it('reads a file built by hand', () => {
    const [c] = decodeBayes(file(2, TWO_TOKENS, [0x01, 0x20], [7, 3], [0b10]))
    assert.deepEqual([...c.db.tokens.keys], [1, 2])
    assert.deepEqual([...c.db.tokens.spam], [1, 0])
    assert.deepEqual([...c.db.tokens.ham], [0, 2])
    assert.deepEqual([...c.db.tokens.atime], [7, 10])
  })

  it('refuses a Rice parameter above 39', () => {
    rejects(file(2, { k: 40, bytes: [0b1010] }, [1, 1], [7], []), /Rice parameter 40 is above 39/)
  })

  it('refuses a gap column that ends inside a value, has bytes left over or padding bits set', () => {
    rejects(file(2, { k: 0, bytes: [0b10] }, [1, 1], [7], []), /token gaps: truncated/)
    rejects(file(2, { k: 0, bytes: [0b1010, 0] }, [1, 1], [7], []), /token gaps: 1 bytes .* left unread/)
    rejects(file(2, { k: 0, bytes: [0b11010] }, [1, 1], [7], []), /padding bits that are not zero/)
  })

  it('refuses a repeated token and an escaped gap that a quotient codes', () => {
    // k = 0, gaps 1 and 0: bits 01 then 1.
    rejects(file(2, { k: 0, bytes: [0b110] }, [1, 1], [7], []), /token 0000000001 repeats/)
    // 24 zero bits, then the gap 5 raw in 40 bits: the escape stands only for quotients of 24 or more.
    const escaped = [0, 0, 0, 5, 0, 0, 0, 0]
    rejects(file(1, { k: 0, bytes: escaped }, [1], [7], []), /escaped gap 5 below 24/)
    assert.deepEqual([...decodeBayes(file(1, { k: 0, bytes: [0, 0, 0, 30, 0, 0, 0, 0] }, [1], [7], []))[0].db.tokens.keys], [30])
  })

  it('refuses a count byte between 0xf0 and 0xfe, escaped counts that fit a byte, and a count column of the wrong length', () => {
    rejects(file(2, TWO_TOKENS, [0xf0, 1], [7], []), /count byte 240 of token 0 is neither small counts nor an escape/)
    rejects(file(2, TWO_TOKENS, [0xff, 1, 1, 1], [7], []), /counts 1\/1 of token 0 are escaped but fit one byte/)
    rejects(file(2, TWO_TOKENS, [1, 1, 1], [7], []), /count column has 1 bytes after the last token/)
    rejects(file(2, TWO_TOKENS, [1], [7], []), /counts end before token 1/)
    assert.equal(decodeBayes(file(2, TWO_TOKENS, [0xff, 0, 15, 1], [7], []))[0].db.tokens.ham[0], 15)
  })

  it('refuses an atime index out of range, an unused atime and index padding bits set', () => {
    // Three tokens 1, 2, 3 (k = 0, gaps 1: bits 01 01 01) and three atimes: 2 bits an index.
    const three = { k: 0, bytes: [0b101010] }
    assert.deepEqual([...decodeBayes(file(3, three, [1, 1, 1], [7, 1, 1], [0b100100]))[0].db.tokens.atime], [7, 8, 9])
    rejects(file(3, three, [1, 1, 1], [7, 1, 1], [0b110100]), /atime index 3 of token 0000000003 is not below 3/)
    rejects(file(3, three, [1, 1, 1], [7, 1, 1], [0b010100]), /1 atimes that no token uses/)
    rejects(file(2, TWO_TOKENS, [1, 1], [7, 3], [0b110]), /padding bits that are not zero/)
  })

  it('reads a version 1 file as the contributions it holds, and does not split it', () => {
    const v1 = new Bytes().magic(1).varint(1).str(NODE_A).varint(2).varint(1).varint(2)
      .byte(0x01, 0x00, 0x01, 0x00).byte(0x00, 0x01).byte(0x00, 0x01).byte(0xac, 0x02, 0x00)
      .varint(1).varint(100).varint(1).byte(0x73).str('a').bytes()
    const db = section([['0000000001', 0, 300, 100], ['0000010002', 1, 0, 100]], [['a', 's']], 2, 1)
    assert.deepEqual(decodeBayes(v1), [{ nodeId: NODE_A, db }])
    assert.deepEqual(decodeBayes(v1, { keepEncoded: true }), [{ nodeId: NODE_A, db }], 'no section of another version is kept')
    assert.equal(splitBayes(v1), null)
  })

  it('round-trips every contribution, and any bytes after it are refused (property)', () => {
    fc.assert(fc.property(contribsArb, contribs => {
      const { data } = encodeBayes(contribs)
      assert.deepStrictEqual(decodeBayes(data).map(c => c.db), [...contribs].sort((a, b) => a.nodeId < b.nodeId ? -1 : 1).map(c => c.db))
      assert.throws(() => decodeBayes(Uint8Array.from([...data, 0])))
    }), { numRuns: 200 })
  })
})
