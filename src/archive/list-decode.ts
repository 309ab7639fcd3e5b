/**
 * Decoding of a list dataset's archive file (list-codec.ts encodes it). Trusts nothing: every
 * field is checked and the first bad line is reported by number, with the problem. The grammar
 * is in protocol/archive-v1.md.
 */
import { DatasetDecodeError, InvalidKeyError } from '../errors.js'
import type { Entry } from '../crdt/lww-set.js'
import { MAX_COUNTER, MAX_WALL_MS } from '../crdt/hlc.js'
import { checkValue, hasComment } from '../settings/list-line.js'
import { normaliseKey } from '../settings/list-key.js'

/** First line of a list file; the number is the list format version. */
export const LIST_HEADER = 'spamsync-list 1'

/**
 * First line of a list file in which a present entry's field carries a comment (format 2, agent
 * 0.2.0): an older agent refuses it by its version instead of taking the comment for a value it
 * cannot write. Files without comments keep format 1, so mixed clusters sync until one is used.
 */
export const LIST_HEADER_COMMENTS = 'spamsync-list 2'

/** Options of `decodeEntries`. */
export interface DecodeOptions {
  /** File name used as the prefix of error messages. */
  name?: string
  /** Entry count the manifest declares; a different count is an error. */
  expectedEntries?: number
}

const HEADER_PREFIX = 'spamsync-list '
/** Start of a node-table line. */
export const NODE_PREFIX = 'n '
const FIELDS = 6
const UNESCAPED: Record<string, string> = { t: '\t', n: '\n', r: '\r', '\\': '\\' }

type Fail = (line: number, problem: string) => never

/** Where the decoder stands: lines are scanned in place with indexOf (splitting 100k lines into arrays of fields costs more than all the checks together). */
interface Cursor {
  text: string
  /** Start of the current line. */
  pos: number
  /** Its line feed. */
  eol: number
  /** Its 1-based number. */
  n: number
  /** The node index of the entry line last read. */
  nodeIdx: number
}

/** A list file decoded ({@link decodeList}). */
export interface DecodedList {
  entries: Entry[]
  /** Of those, entries present (not tombstones). */
  present: number
  /**
   * True when the file is, byte for byte, what encodeColumns makes of its entries: the header is
   * the one its comments call for and the node table lists exactly the ids used, in order of first
   * use (every other field has one spelling only). Such a file can be passed on as it came.
   */
  canonical: boolean
}

/**
 * Decodes and validates a list file. Throws DatasetDecodeError naming the line and the problem
 * at the first bad line: keys must be normalised and strictly increasing, numbers non-negative
 * safe integers without leading zeros, node indexes defined in the node table.
 */
export function decodeEntries (data: Uint8Array, opts: DecodeOptions = {}): Entry[] {
  return decodeList(data, opts).entries
}

/** {@link decodeEntries}, and whether the file is the one this agent would encode of them. */
export function decodeList (data: Uint8Array, opts: DecodeOptions = {}): DecodedList {
  const where = opts.name === undefined ? '' : `${opts.name}: `
  const fail: Fail = (line, problem) => {
    throw new DatasetDecodeError(`${where}line ${line}: ${problem}`)
  }
  const c: Cursor = { text: decodeText(data, where, fail), pos: 0, eol: 0, n: 1, nodeIdx: -1 }
  const header = readHeader(c, fail)
  const nodeIds = readNodeTable(c, fail)
  const out: Entry[] = []
  let previous = ''
  let present = 0
  // Node ids in order of first use: the next new one must be this index.
  let firstUses = 0
  let inOrder = true
  let comments = false
  for (; c.pos < c.text.length; c.pos = c.eol + 1, c.n++) {
    const entry = readEntry(c, nodeIds, header === LIST_HEADER, previous, where, fail)
    previous = entry.key
    out.push(entry)
    if (entry.present) {
      present++
      if (!comments && hasComment(entry.value)) comments = true
    }
    const idx = c.nodeIdx
    if (idx === firstUses) firstUses++
    else if (idx > firstUses) inOrder = false
  }
  if (opts.expectedEntries !== undefined && out.length !== opts.expectedEntries) {
    throw new DatasetDecodeError(`${where}holds ${out.length} entries, the manifest says ${opts.expectedEntries}`)
  }
  const canonical = inOrder && firstUses === nodeIds.length && header === (comments ? LIST_HEADER_COMMENTS : LIST_HEADER)
  return { entries: out, present, canonical }
}

/** The file as text: UTF-8, not empty, ending in a newline (so a cut-off last line is caught). */
function decodeText (data: Uint8Array, where: string, fail: Fail): string {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data)
  } catch (err) {
    throw new DatasetDecodeError(`${where}not valid UTF-8`, { cause: err })
  }
  if (text.length === 0) fail(1, 'empty file, expected the header line')
  if (!text.endsWith('\n')) fail(text.split('\n').length, 'no newline at the end of the line (truncated file?)')
  return text
}

/** Reads the header line, a known format version; leaves the cursor on the next line. */
function readHeader (c: Cursor, fail: Fail): string {
  c.eol = c.text.indexOf('\n')
  const header = c.text.slice(0, c.eol)
  if (header !== LIST_HEADER && header !== LIST_HEADER_COMMENTS) {
    if (header.startsWith(HEADER_PREFIX)) fail(1, `unsupported list format version ${show(header.slice(HEADER_PREFIX.length))}`)
    fail(1, `not a spamsync list file: header is ${show(header)}, expected "${LIST_HEADER}"`)
  }
  c.pos = c.eol + 1
  c.n = 2
  return header
}

/** Reads the node table (each id once, numbered in order); leaves the cursor on the first entry line. */
function readNodeTable (c: Cursor, fail: Fail): string[] {
  const nodeIds: string[] = []
  const knownIds = new Set<string>()
  // Node lines have no raw tab; the first line with one starts the entries.
  for (; c.pos < c.text.length; c.pos = c.eol + 1, c.n++) {
    c.eol = c.text.indexOf('\n', c.pos)
    const line = c.text.slice(c.pos, c.eol)
    if (!line.startsWith(NODE_PREFIX) || line.includes('\t')) break
    const n = c.n
    const space = line.indexOf(' ', NODE_PREFIX.length)
    if (space < 0) fail(n, 'node line needs an index and a node id')
    const rawIdx = line.slice(NODE_PREFIX.length, space)
    if (parseCount(rawIdx, 0, rawIdx.length) !== nodeIds.length) fail(n, `node index must be ${nodeIds.length}, got ${show(rawIdx)}`)
    const nodeId = unescape(line.slice(space + 1), n, fail)
    if (nodeId.length === 0) fail(n, 'empty node id')
    if (knownIds.has(nodeId)) fail(n, `node id ${show(nodeId)} is listed twice`)
    knownIds.add(nodeId)
    nodeIds.push(nodeId)
  }
  return nodeIds
}

/** Reads the entry line at the cursor; `formatOne`: comments are refused (format 1). */
function readEntry (c: Cursor, nodeIds: readonly string[], formatOne: boolean, previous: string, where: string, fail: Fail): Entry {
  const { text, pos, n } = c
  const eol = c.eol = text.indexOf('\n', pos)
  const t1 = text.indexOf('\t', pos)
  const t2 = t1 < 0 || t1 > eol ? -1 : text.indexOf('\t', t1 + 1)
  const t3 = t2 < 0 || t2 > eol ? -1 : text.indexOf('\t', t2 + 1)
  const t4 = t3 < 0 || t3 > eol ? -1 : text.indexOf('\t', t3 + 1)
  const t5 = t4 < 0 || t4 > eol ? -1 : text.indexOf('\t', t4 + 1)
  const t6 = t5 < 0 || t5 > eol ? -1 : text.indexOf('\t', t5 + 1)
  if (t5 < 0 || t5 > eol || (t6 >= 0 && t6 < eol)) {
    fail(n, `expected ${FIELDS} tab-separated fields, got ${text.slice(pos, eol).split('\t').length}`)
  }
  const key = readKey(unescape(text.slice(pos, t1), n, fail), previous, n, where, fail)
  const present = t2 === t1 + 2 ? text.charCodeAt(t1 + 1) - 48 : -1
  if (present !== 0 && present !== 1) fail(n, `present must be 1 or 0, got ${show(text.slice(t1 + 1, t2))}`)
  const wallMs = parseCount(text, t2 + 1, t3)
  if (wallMs < 0 || wallMs > MAX_WALL_MS) fail(n, `wallMs must be an integer from 0 to ${MAX_WALL_MS}, got ${show(text.slice(t2 + 1, t3))}`)
  const counter = parseCount(text, t3 + 1, t4)
  if (counter < 0 || counter > MAX_COUNTER) fail(n, `counter must be an integer from 0 to ${MAX_COUNTER}, got ${show(text.slice(t3 + 1, t4))}`)
  const nodeIdx = parseCount(text, t4 + 1, t5)
  if (nodeIdx < 0 || nodeIdx >= nodeIds.length) fail(n, `node index ${show(text.slice(t4 + 1, t5))} is not in the node table`)
  c.nodeIdx = nodeIdx
  const value = unescape(text.slice(t5 + 1, eol), n, fail)
  // A value the list file could not hold would be merged and then block every write of the file.
  const valueProblem = present === 1 ? checkValue(value) : undefined
  if (valueProblem !== undefined) fail(n, `value ${show(value)} ${valueProblem}`)
  if (present === 1 && formatOne && hasComment(value)) fail(n, `value ${show(value)} has a comment, which format 1 cannot carry (header "${LIST_HEADER_COMMENTS}")`)
  return { key, value, present: present === 1, stamp: { wallMs, counter, nodeId: nodeIds[nodeIdx] } }
}

/** A key as decoded: not empty, normalised, after `previous` in order. */
function readKey (key: string, previous: string, n: number, where: string, fail: Fail): string {
  if (key.length === 0) fail(n, 'empty key')
  let normal: string
  try {
    normal = normaliseKey(key)
  } catch (err) {
    if (!(err instanceof InvalidKeyError)) throw err
    throw new DatasetDecodeError(`${where}line ${n}: invalid key ${show(key)}: ${err.message}`, { cause: err })
  }
  if (normal !== key) fail(n, `key ${show(key)} is not normalised (expected ${show(normal)})`)
  if (key <= previous) fail(n, `key ${show(key)} is ${key === previous ? 'repeated' : 'out of order'} (keys must be sorted and unique)`)
  return key
}

function unescape (s: string, line: number, fail: Fail): string {
  if (s.includes('\r')) fail(line, 'raw carriage return (must be written as \\r)')
  if (!s.includes('\\')) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const next = UNESCAPED[s[i + 1]]
    if (next === undefined) fail(line, `bad escape ${show(s.slice(i, i + 2))} (only \\t \\n \\r \\\\ exist)`)
    out += next
    i++
  }
  return out
}

// Parses s[start, end) as decimal digits only: no sign, no leading zero, at most
// Number.MAX_SAFE_INTEGER. Returns -1 for anything else, without making a substring.
function parseCount (s: string, start: number, end: number): number {
  const len = end - start
  if (len <= 0 || len > 16 || (len > 1 && s.charCodeAt(start) === 48)) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return Number.isSafeInteger(n) ? n : -1
}

// Quotes peer-supplied text for an error message, shortened so one line cannot flood the log.
function show (s: string): string {
  const q = JSON.stringify(s)
  return q.length > 80 ? `${q.slice(0, 77)}..."` : q
}
