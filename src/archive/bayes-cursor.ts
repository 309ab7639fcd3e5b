/**
 * Reading the token rows of one contribution's section (layout version 2, bayes-codec.ts) in
 * order, a block at a time, without decoding the whole: three readers walk the columns side by
 * side (the Rice gaps, the count bytes, the atime indexes with their dictionary). The write of
 * the cluster's DB sums the held sections through these, so no contribution of millions of tokens
 * is ever a table of 20 bytes a token. Meant for sections this agent holds (checked when they
 * came in): every read still stays inside its column (DatasetDecodeError otherwise), but the
 * order and range checks of decodeSection are not repeated.
 */
import type { TokenTable } from '../crdt/token-table.js'
import type { EncodedContribution } from './bayes-format.js'
import { BitReader, GAP_ESCAPE, GAP_RAW_BITS } from './bayes-bits.js'
import { readAtimeDictionary, readSeen, Reader, skipColumns } from './bayes-read.js'
import { indexBits } from './bayes-write.js'
import { COUNT_ESCAPE } from './bayes-format.js'

/** The token rows of one section, read in token order. */
export class SectionCursor {
  /** Rows not read yet. */
  remaining: number
  private readonly gaps: BitReader
  private readonly scale: number
  private readonly k: number
  private previous = 0
  /** Reader over the count column; `pos` is the next token's count byte. */
  private readonly counts: Reader
  private readonly dict: Float64Array
  private readonly width: number
  private readonly indexes: BitReader

  constructor (section: EncodedContribution) {
    const r = new Reader(section.bytes, `node ${section.nodeId}: `)
    r.text('node id')
    r.varint('numSpam')
    r.varint('numHam')
    const n = r.varint('token count')
    this.remaining = n
    this.k = r.buf[r.pos++]
    this.scale = 2 ** this.k
    const gapBytes = r.varint('token gaps length')
    this.gaps = new BitReader(r.buf, r.pos, r.pos + gapBytes, problem => r.fail(`token gaps: ${problem}`))
    r.skip(gapBytes)
    const countBytes = r.varint('counts length')
    this.counts = new Reader(r.buf.subarray(0, r.pos + countBytes), r.where)
    this.counts.pos = r.pos
    r.skip(countBytes)
    this.dict = readAtimeDictionary(r, section.nodeId, n)
    this.width = indexBits(this.dict.length)
    const indexEnd = r.pos + Math.ceil(this.width * n / 8)
    if (indexEnd > r.buf.length) r.fail('truncated: atime indexes')
    this.indexes = new BitReader(r.buf, r.pos, indexEnd, problem => r.fail(`atime indexes: ${problem}`))
  }

  /** Reads up to `max` next rows into `into` from row `at` on; returns how many it read. */
  read (into: TokenTable, at: number, max: number): number {
    const rows = Math.min(max, this.remaining)
    const { keys, spam, ham, atime } = into
    const { gaps, scale, k, counts, dict, width, indexes } = this
    const buf = counts.buf
    let previous = this.previous
    for (let i = at; i < at + rows; i++) {
      const q = gaps.unary()
      previous += q === GAP_ESCAPE ? gaps.takeWide(GAP_RAW_BITS) : q * scale + gaps.takeWide(k)
      keys[i] = previous
      if (counts.pos >= buf.length) counts.fail('truncated: counts')
      const b = buf[counts.pos++]
      if (b === COUNT_ESCAPE) {
        spam[i] = counts.varint('spam count')
        ham[i] = counts.varint('ham count')
      } else {
        spam[i] = b & 15
        ham[i] = b >>> 4
      }
      const index = width === 0 ? 0 : indexes.takeWide(width)
      if (index >= dict.length) counts.fail(`atime index ${index} is not below ${dict.length}`)
      atime[i] = dict[index]
    }
    this.previous = previous
    this.remaining -= rows
    return rows
  }
}

/** The seen ids of a section, read by stepping over its token columns. */
export function sectionSeen (section: EncodedContribution): Map<string, 's' | 'h'> {
  const r = new Reader(section.bytes, `node ${section.nodeId}: `)
  r.text('node id')
  r.varint('numSpam')
  r.varint('numHam')
  const n = r.varint('token count')
  skipColumns(r, n)
  return readSeen(r, section.nodeId)
}
