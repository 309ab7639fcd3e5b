/** The layout constants and shapes of the Bayes dataset file (bayes-codec.ts describes the layout). */
import type { BayesDb } from '../crdt/bayes-counters.js'

/** A node's Bayes contribution as this codec carries it: the DB shape of `crdt/bayes-counters`. */
export type BayesSection = BayesDb

/** One node's contribution as carried on the wire. */
export interface BayesContribution {
  /** The node that owns the contribution; unique in one file. */
  nodeId: string
  /** What the node learned itself. */
  db: BayesSection
  /**
   * The contribution's bytes in the file it was decoded from (`keepEncoded`), so it can be
   * stored or passed on without encoding a million tokens again.
   */
  encoded?: Uint8Array
}

/** An encoded Bayes dataset, ready to be packed as an archive file. */
export interface EncodedBayes {
  /** The file's bytes (a view that may not span its whole ArrayBuffer). */
  data: Uint8Array
  /** Number of token records over all contributions (the manifest's `entries`). */
  entries: number
  /** Number of contributions. */
  contributions: number
}

/**
 * One contribution's bytes in a Bayes file. A file is its header and these sections in node id
 * order, so a file of contributions held as sections is put together without encoding them.
 */
export interface EncodedContribution {
  nodeId: string
  /** The section (a view). */
  bytes: Uint8Array
  /** Its token records. */
  tokens: number
  /** Its message counts (numSpam, numHam), read without decoding the section. */
  numSpam: number
  numHam: number
}

/** Options of `decodeBayes`. */
export interface DecodeBayesOptions {
  /** File name used as the prefix of error messages. */
  name?: string
  /** Token record count the manifest declares; a different count is an error. */
  expectedEntries?: number
  /** Give each contribution its bytes in `data` (`encoded`, a view). */
  keepEncoded?: boolean
}

/** The first bytes of every Bayes dataset file. */
export const BAYES_MAGIC = 'SSBAYES'

/** Version of the layout this agent writes, the byte after the magic. */
export const BAYES_FORMAT_VERSION = 2
/** The first layout (agent 0.2 and before): still read, from older peers and stores; never written. */
export const BAYES_FORMAT_V1 = 1

export const MAGIC_BYTES = Uint8Array.from(BAYES_MAGIC, c => c.charCodeAt(0))
export const TOKEN_LIMIT = 2 ** 40
export const LOW_SPLIT = 65536
export const HIGH_LIMIT = TOKEN_LIMIT / LOW_SPLIT
export const MAX_VARINT_BYTES = 8
export const FLAG_SPAM = 0x73
export const FLAG_HAM = 0x68
// Bytes a token takes at least: 2 low, and 1 each for high, spam and ham (version 1).
export const MIN_TOKEN_BYTES = 5
// Bytes a token takes at least in version 2: its count byte.
export const MIN_TOKEN_BYTES_V2 = 1
// Version 2 counts byte: `spam | ham << 4` when spam <= MAX_SMALL_SPAM and ham <= MAX_SMALL_HAM,
// else COUNT_ESCAPE followed by both as varints. Bytes 0xf0 to 0xfe are never written.
export const COUNT_ESCAPE = 0xff
export const MAX_SMALL_SPAM = 15
export const MAX_SMALL_HAM = 14
// Largest Rice parameter of the token gaps: a gap is below 2^40.
export const MAX_RICE_BITS = 39
// Bytes a contribution takes at least: node id length and 1 byte of it, numSpam, numHam, n, d, s.
export const MIN_CONTRIBUTION_BYTES = 7
// Bytes a seen id takes at least: flag, length, 1 byte of msgid.
export const MIN_SEEN_BYTES = 3
export const LONE_SURROGATE = /\p{Surrogate}/u
