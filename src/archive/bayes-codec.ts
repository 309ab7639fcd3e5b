/**
 * Encoding of the Bayes dataset (every node's contribution) as the bytes of one archive file.
 *
 * Binary, not the `sa-learn --backup` text: a token is 40 random bits, so its 10 hex digits
 * deflate only about 2x. Tokens are sorted and stored column-wise as small values: a realistic DB
 * of 1M tokens takes about 7 bytes a token as is (the archive stores this file) and about 5 after
 * deflate, the text about 11.
 *
 * Layout (varint = unsigned LEB128, minimal, at most 2^53 - 1; strings are UTF-8, length-prefixed
 * by a varint):
 *
 *   file         = "SSBAYES" version:byte(1) count:varint contribution*count
 *   contribution = nodeId:string numSpam:varint numHam:varint n:varint
 *                  low:(2 bytes, little-endian)*n high:varint*n        tokens
 *                  spam:varint*n ham:varint*n                           counts
 *                  d:varint atimeGap:varint*d index:(byte*n)*W          atimes
 *                  s:varint (flag:byte msgid:string)*s                  seen ids
 *
 * Contributions are sorted by node id, tokens by value, seen ids by msgid (all strictly, by UTF-16
 * code units for strings). Token i is the previous token (0 before the first) plus a gap, and the
 * gap is `high * 65536 + low`: the low 16 bits are random and stored raw, the rest is small. The
 * atimes are a dictionary of the d distinct values, ascending and gap-coded (the first gap from 0),
 * and each token holds its index into it in W = the bytes needed for d - 1 (0 when d <= 1), one
 * column per byte, lowest byte first. SpamAssassin stamps every token of a message with one atime,
 * so there are few distinct values. Seen flags are the bytes `s` and `h`. Token counts and atimes
 * are at most 2^32 - 1, as in SpamAssassin's stores.
 *
 * Both directions work on the column-wise token tables of `crdt/bayes-counters`, so no token is
 * ever a string or an object here.
 *
 * Decoding trusts nothing: it refuses any byte sequence that this encoder would not write, and
 * checks every count against the bytes left before it allocates anything for it.
 */
import { DatasetDecodeError } from '../errors.js'
import { BAYES_MAGIC, BAYES_FORMAT_VERSION, MAGIC_BYTES, MIN_CONTRIBUTION_BYTES, type BayesContribution, type EncodedBayes, type EncodedContribution, type DecodeBayesOptions } from './bayes-format.js'
import { writeContribution, ByteWriter, indexWidth, checkText, compareStrings } from './bayes-write.js'
import { readContribution, Reader, show } from './bayes-read.js'

export { type BayesSection, type BayesContribution, type EncodedBayes, type EncodedContribution, type DecodeBayesOptions, BAYES_MAGIC, BAYES_FORMAT_VERSION } from './bayes-format.js'

/**
 * Encodes contributions as a Bayes dataset file; equal input gives equal bytes whatever the order
 * of the array and seen maps. Throws RangeError for input no peer would accept (an empty, repeated
 * or not well-formed node id or msgid, token columns of different lengths or whose tokens are not
 * strictly ascending 40-bit integers, a message count that is not a non-negative safe integer, a
 * seen flag other than `s`/`h`): that is a bug upstream, not an operator's mistake.
 */
export function encodeBayes (contribs: BayesContribution[]): EncodedBayes {
  const sorted = [...contribs].sort((a, b) => compareStrings(a.nodeId, b.nodeId))
  let size = 64
  for (let i = 0; i < sorted.length; i++) {
    const { nodeId, db } = sorted[i]
    checkText(nodeId, 'node id')
    if (i > 0 && nodeId === sorted[i - 1].nodeId) throw new RangeError(`cannot encode node ${JSON.stringify(nodeId)} twice`)
    // Roughly what deflate will be handed: about 8 bytes a token, a little more a msgid.
    size += 64 + nodeId.length * 3 + db.tokens.keys.length * 8 + db.seen.size * 48
  }
  const out = new ByteWriter(size)
  out.raw(MAGIC_BYTES)
  out.byte(BAYES_FORMAT_VERSION)
  out.varint(sorted.length)
  let entries = 0
  for (const { nodeId, db } of sorted) {
    writeContribution(out, nodeId, db)
    entries += db.tokens.keys.length
  }
  return { data: out.result(), entries, contributions: sorted.length }
}

/**
 * The Bayes file of these sections: the bytes encodeBayes gives for their contributions, without
 * encoding anything. Throws RangeError for a node id given twice.
 */
export function joinBayesSections (parts: EncodedContribution[]): EncodedBayes {
  const sorted = [...parts].sort((a, b) => compareStrings(a.nodeId, b.nodeId))
  const out = new ByteWriter(64 + sorted.reduce((n, p) => n + p.bytes.byteLength, 0))
  out.raw(MAGIC_BYTES)
  out.byte(BAYES_FORMAT_VERSION)
  out.varint(sorted.length)
  let entries = 0
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i].nodeId === sorted[i - 1].nodeId) throw new RangeError(`cannot encode node ${JSON.stringify(sorted[i].nodeId)} twice`)
    out.raw(sorted[i].bytes)
    entries += sorted[i].tokens
  }
  return { data: out.result(), entries, contributions: sorted.length }
}

/**
 * The sections of a Bayes file that this node wrote itself (its store's log records), found by
 * stepping over the columns instead of decoding them. Checks only that every step stays inside
 * the file (DatasetDecodeError otherwise): bytes from a peer go through decodeBayes.
 */
export function splitBayes (data: Uint8Array, name = ''): EncodedContribution[] {
  const r = new Reader(data, name === '' ? '' : `${name}: `)
  r.pos = MAGIC_BYTES.length + 1
  const count = r.varint('contribution count')
  const out: EncodedContribution[] = []
  for (let c = 0; c < count; c++) {
    const start = r.pos
    const nodeId = r.text('node id')
    r.varint('numSpam')
    r.varint('numHam')
    const n = r.varint('token count')
    r.skip(2 * n)
    r.skipVarints(3 * n)
    const d = r.varint('atime count')
    r.skipVarints(d)
    r.skip(indexWidth(d) * n)
    const seen = r.varint('seen count')
    for (let k = 0; k < seen; k++) {
      r.skip(1)
      r.skip(r.varint('msgid length'))
    }
    out.push({ nodeId, bytes: data.subarray(start, r.pos), tokens: n })
  }
  if (r.pos !== data.length) r.fail(`${data.length - r.pos} trailing bytes after the last contribution`)
  return out
}


/**
 * Decodes and validates a Bayes dataset file. Throws DatasetDecodeError naming the byte offset and
 * the problem: bad magic or version, truncation, a varint that is not minimal or above 2^53 - 1,
 * node ids, tokens, atimes or msgids not strictly ascending, an atime index out of range or an
 * unused atime, a seen flag other than `s`/`h`, invalid UTF-8, trailing bytes, or a token total
 * other than `expectedEntries`.
 */
export function decodeBayes (data: Uint8Array, opts: DecodeBayesOptions = {}): BayesContribution[] {
  const r = new Reader(data, opts.name === undefined ? '' : `${opts.name}: `)
  for (let i = 0; i < MAGIC_BYTES.length; i++) {
    if (i === data.length) r.fail('truncated inside the magic', 0)
    if (data[i] !== MAGIC_BYTES[i]) r.fail(`not a spamsync Bayes file: bad magic, it does not start with "${BAYES_MAGIC}"`, 0)
  }
  r.pos = MAGIC_BYTES.length
  if (r.pos >= data.length) r.fail('truncated before the format version')
  const version = data[r.pos]
  if (version !== BAYES_FORMAT_VERSION) r.fail(`unsupported Bayes format version ${version} (expected ${BAYES_FORMAT_VERSION})`)
  r.pos++

  const count = r.count('contribution count', MIN_CONTRIBUTION_BYTES)
  const out: BayesContribution[] = []
  let entries = 0
  let previous = ''
  for (let c = 0; c < count; c++) {
    const at = r.pos
    const nodeId = r.text('node id')
    if (c > 0 && nodeId <= previous) {
      r.fail(nodeId === previous ? `node id ${show(nodeId)} appears twice (duplicate node id)` : `node id ${show(nodeId)} is out of order (node ids must be ascending)`, at)
    }
    previous = nodeId
    const db = readContribution(r, nodeId)
    entries += db.tokens.keys.length
    out.push(opts.keepEncoded === true ? { nodeId, db, encoded: data.subarray(at, r.pos) } : { nodeId, db })
  }
  if (r.pos !== data.length) r.fail(`${data.length - r.pos} trailing bytes after the last contribution`)
  if (opts.expectedEntries !== undefined && entries !== opts.expectedEntries) {
    throw new DatasetDecodeError(`${r.where}holds ${entries} token records, the manifest says ${opts.expectedEntries}`)
  }
  return out
}
