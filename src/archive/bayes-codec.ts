/**
 * Encoding of the Bayes dataset (every node's contribution) as the bytes of one archive file.
 *
 * Binary, not the `sa-learn --backup` text: a token is 40 random bits, so its 10 hex digits
 * deflate only about 2x. Tokens are sorted and each column is coded near its entropy: a realistic
 * DB of 1M tokens takes about 5.2 bytes a token (version 1 took 7.2), the text about 11 deflated.
 *
 * Layout, version 2 (varint = unsigned LEB128, minimal, at most 2^53 - 1; strings are UTF-8,
 * length-prefixed by a varint; bit columns are packed least significant bit first and padded
 * with zero bits to a whole byte):
 *
 *   file         = "SSBAYES" version:byte(2) count:varint contribution*count
 *   contribution = nodeId:string numSpam:varint numHam:varint n:varint
 *                  k:byte g:varint gapBits:(byte*g)                     tokens
 *                  c:varint counts:(byte*c)                             counts
 *                  d:varint atimeGap:varint*d index:(bits*n)            atimes
 *                  s:varint (flag:byte msgid:string)*s                  seen ids
 *
 * Contributions are sorted by node id, tokens by value, seen ids by msgid (all strictly, by UTF-16
 * code units for strings). Token i is the previous token (0 before the first) plus a gap, Rice
 * coded with parameter k (0..39): the quotient gap >> k as that many 0 bits and a 1 bit, then the
 * k low bits; a quotient of 24 or more is written as 24 zero bits and the whole gap in 40 bits.
 * The writer picks the k that takes the fewest bits. A token's counts are one byte
 * `spam | ham << 4` when spam <= 15 and ham <= 14, else the byte 0xff and both as varints. The
 * atimes are a dictionary of the d distinct values, ascending and gap-coded (the first gap from 0),
 * and each token holds its index into it in the fewest bits that hold d - 1 (none when d <= 1).
 * SpamAssassin stamps every token of a message with one atime, so there are few distinct values.
 * Seen flags are the bytes `s` and `h`. Token counts and atimes are at most 2^32 - 1, as in
 * SpamAssassin's stores.
 *
 * Version 1 (agents up to 0.2.0) is still read, from older peers and from a store an older agent
 * wrote, and never written: tokens as 2 raw low bytes and a varint high part of each gap, spam and
 * ham as varint columns, atime indexes in whole bytes (bayes-read-v1.ts; protocol/archive-v1.md).
 *
 * Both directions work on the column-wise token tables of `crdt/bayes-counters`, so no token is
 * ever a string or an object here.
 *
 * Decoding trusts nothing: it refuses any byte sequence that this encoder would not write, and
 * checks every count against the bytes left before it allocates anything for it.
 */
import { DatasetDecodeError } from '../errors.js'
import { BAYES_MAGIC, BAYES_FORMAT_VERSION, BAYES_FORMAT_V1, MAGIC_BYTES, MIN_CONTRIBUTION_BYTES, type BayesContribution, type EncodedBayes, type EncodedContribution, type DecodeBayesOptions } from './bayes-format.js'
import { writeContribution, ByteWriter, checkText, compareStrings } from './bayes-write.js'
import { readContribution, readContributionSteps, Reader, show, skipColumns } from './bayes-read.js'
import { finish, finishPaced, type Pause } from '../pace.js'
import { readContributionV1 } from './bayes-read-v1.js'
import { allocTokens, type TokenTable } from '../crdt/token-table.js'

export { type BayesSection, type BayesContribution, type EncodedBayes, type EncodedContribution, type DecodeBayesOptions, BAYES_MAGIC, BAYES_FORMAT_VERSION, BAYES_FORMAT_V1 } from './bayes-format.js'

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
    // About 5.2 bytes a token, a little more a msgid: a little room over that, rarely outgrown.
    size += 64 + nodeId.length * 3 + db.tokens.keys.length * 6 + db.seen.size * 48
  }
  const out = new ByteWriter(size)
  out.raw(MAGIC_BYTES)
  out.byte(BAYES_FORMAT_VERSION)
  out.varint(sorted.length)
  let entries = 0
  for (const { nodeId, db } of sorted) {
    finish(writeContribution(out, nodeId, db))
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
 * stepping over the columns instead of decoding them; null for a file of an older layout
 * version, whose sections cannot go into a file of this version. Checks only that every step
 * stays inside the file (DatasetDecodeError otherwise): bytes from a peer go through decodeBayes.
 */
export function splitBayes (data: Uint8Array, name = ''): EncodedContribution[] | null {
  const r = new Reader(data, name === '' ? '' : `${name}: `)
  r.pos = MAGIC_BYTES.length
  if (r.pos >= data.length) r.fail('truncated before the format version')
  if (data[r.pos++] !== BAYES_FORMAT_VERSION) return null
  const count = r.varint('contribution count')
  const out: EncodedContribution[] = []
  for (let c = 0; c < count; c++) {
    const start = r.pos
    const nodeId = r.text('node id')
    const numSpam = r.varint('numSpam')
    const numHam = r.varint('numHam')
    const n = r.varint('token count')
    skipColumns(r, n)
    const seen = r.varint('seen count')
    for (let k = 0; k < seen; k++) {
      r.skip(1)
      r.skip(r.varint('msgid length'))
    }
    out.push({ nodeId, bytes: data.subarray(start, r.pos), tokens: n, numSpam, numHam })
  }
  if (r.pos !== data.length) r.fail(`${data.length - r.pos} trailing bytes after the last contribution`)
  return out
}

/**
 * One contribution as its section of a Bayes file: the bytes encodeBayes writes for it (its
 * `encoded` when it has them), so a replica can hold it at about 5 bytes a token. Throws
 * RangeError as encodeBayes does.
 */
export function encodeSection (c: BayesContribution): EncodedContribution {
  return finish(sectionEncoding(c))
}

/** {@link encodeSection} awaiting `pause` between the columns of a contribution (a 5M-token one takes seconds). */
export async function encodeSectionPaced (c: BayesContribution, pause: Pause): Promise<EncodedContribution> {
  return await finishPaced(sectionEncoding(c), pause)
}

function * sectionEncoding (c: BayesContribution): Generator<void, EncodedContribution> {
  const { nodeId, db } = c
  const counts = { nodeId, tokens: db.tokens.keys.length, numSpam: db.numSpam, numHam: db.numHam }
  if (c.encoded !== undefined) return { ...counts, bytes: c.encoded }
  checkText(nodeId, 'node id')
  const out = new ByteWriter(64 + nodeId.length * 3 + db.tokens.keys.length * 6 + db.seen.size * 48)
  yield * writeContribution(out, nodeId, db)
  return { ...counts, bytes: out.result() }
}

/**
 * Decodes one section (of encodeSection or splitBayes), checking it as decodeBayes checks a file;
 * DatasetDecodeError otherwise.
 */
export function decodeSection (section: EncodedContribution, name = ''): BayesContribution {
  return finish(sectionDecoding(section, name))
}

/** {@link decodeSection} awaiting `pause` between the columns of the contribution. */
export async function decodeSectionPaced (section: EncodedContribution, pause: Pause): Promise<BayesContribution> {
  return await finishPaced(sectionDecoding(section, ''), pause)
}

function * sectionDecoding (section: EncodedContribution, name: string): Generator<void, BayesContribution> {
  const r = new Reader(section.bytes, name === '' ? '' : `${name}: `)
  const nodeId = r.text('node id')
  const db = yield * readContributionSteps(r, nodeId)
  if (r.pos !== section.bytes.length) r.fail(`${section.bytes.length - r.pos} trailing bytes after the contribution`)
  return { nodeId, db }
}

/**
 * Checks a Bayes dataset file as decodeBayes does and returns its contributions as sections
 * (views of `data`; a section of the older layout encoded again in this one), decoding one
 * contribution at a time and keeping none: an archive of three 5M-token contributions waits for
 * its merge as 80 MB of sections, not 300 MB of tables. Throws DatasetDecodeError as decodeBayes.
 */
export function decodeBayesSections (data: Uint8Array, opts: Omit<DecodeBayesOptions, 'keepEncoded'> = {}): EncodedContribution[] {
  const out: EncodedContribution[] = []
  decodeEach(data, opts, (c, bytes) => {
    const counts = { nodeId: c.nodeId, tokens: c.db.tokens.keys.length, numSpam: c.db.numSpam, numHam: c.db.numHam }
    out.push(bytes === null ? encodeSection(c) : { ...counts, bytes })
  }, scratchTables())
  return out
}

/**
 * Token tables for contributions that are only checked: one table, as large as the largest so far,
 * lent to each contribution in turn (its rows are dropped once `take` has its bytes). A received
 * archive of three 1M-token contributions allocated 60 MB of tables that were garbage at once.
 */
function scratchTables (): (n: number) => TokenTable {
  let room = allocTokens(0)
  return (n) => {
    if (room.keys.length < n) room = allocTokens(n)
    return n === room.keys.length ? room : { keys: room.keys.subarray(0, n), spam: room.spam.subarray(0, n), ham: room.ham.subarray(0, n), atime: room.atime.subarray(0, n) }
  }
}

/**
 * Decodes and validates a Bayes dataset file. Throws DatasetDecodeError naming the byte offset and
 * the problem: bad magic or version, truncation, a varint that is not minimal or above 2^53 - 1,
 * node ids, tokens, atimes or msgids not strictly ascending, an atime index out of range or an
 * unused atime, a seen flag other than `s`/`h`, invalid UTF-8, trailing bytes, or a token total
 * other than `expectedEntries`.
 */
export function decodeBayes (data: Uint8Array, opts: DecodeBayesOptions = {}): BayesContribution[] {
  const out: BayesContribution[] = []
  decodeEach(data, opts, (c, bytes) => out.push(opts.keepEncoded === true && bytes !== null ? { ...c, encoded: bytes } : c))
  return out
}

// Decodes and checks a file, giving each contribution to `take` with its bytes in `data` (null
// for the older layout, whose sections cannot go into a file of this one) as soon as it is read.
function decodeEach (data: Uint8Array, opts: DecodeBayesOptions, take: (c: BayesContribution, bytes: Uint8Array | null) => void, alloc: (n: number) => TokenTable = allocTokens): void {
  const r = new Reader(data, opts.name === undefined ? '' : `${opts.name}: `)
  for (let i = 0; i < MAGIC_BYTES.length; i++) {
    if (i === data.length) r.fail('truncated inside the magic', 0)
    if (data[i] !== MAGIC_BYTES[i]) r.fail(`not a spamsync Bayes file: bad magic, it does not start with "${BAYES_MAGIC}"`, 0)
  }
  r.pos = MAGIC_BYTES.length
  if (r.pos >= data.length) r.fail('truncated before the format version')
  const version = data[r.pos]
  if (version !== BAYES_FORMAT_VERSION && version !== BAYES_FORMAT_V1) r.fail(`unsupported Bayes format version ${version} (expected ${BAYES_FORMAT_V1} or ${BAYES_FORMAT_VERSION})`)
  r.pos++

  const count = r.count('contribution count', MIN_CONTRIBUTION_BYTES)
  let entries = 0
  let previous = ''
  for (let c = 0; c < count; c++) {
    const at = r.pos
    const nodeId = r.text('node id')
    if (c > 0 && nodeId <= previous) {
      r.fail(nodeId === previous ? `node id ${show(nodeId)} appears twice (duplicate node id)` : `node id ${show(nodeId)} is out of order (node ids must be ascending)`, at)
    }
    previous = nodeId
    const db = version === BAYES_FORMAT_VERSION ? readContribution(r, nodeId, alloc) : readContributionV1(r, nodeId)
    entries += db.tokens.keys.length
    take({ nodeId, db }, version === BAYES_FORMAT_VERSION ? data.subarray(at, r.pos) : null)
  }
  if (r.pos !== data.length) r.fail(`${data.length - r.pos} trailing bytes after the last contribution`)
  if (opts.expectedEntries !== undefined && entries !== opts.expectedEntries) {
    throw new DatasetDecodeError(`${r.where}holds ${entries} token records, the manifest says ${opts.expectedEntries}`)
  }
}
