/**
 * A central version's history record as it travels from the master to every node (the `history`
 * field of a fetch answer, protocol/sync-v1.md § History) and as `GET /history` shows it: when,
 * from which node, the counts after it and what it changed. Pure. Decoding is strict and bounded:
 * a record is a peer's word, stored by every node and shown to operators.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { HistoryRecordError } from '../errors.js'
import { isPrintable } from '../printable.js'
import type { Version } from '../version.js'
import { MAX_LISTED_KEYS, MAX_LISTED_TEXT, ROLLBACK_LISTED_KEYS, type BayesCounts, type ChangeSummary, type DatasetChanges, type KeyChange } from './change-summary.js'

/** One central version's record. */
export interface HistoryRecord {
  version: Version
  /** Milliseconds since the epoch when the master cut it. */
  time: number
  /** Node whose change made the version, or `rollback of T.S`. */
  origin: string
  /** The origin node's name when the master knew it. */
  name?: string
  /** Present entries per dataset after the version (`bayes`: tokens). */
  counts: Record<string, number>
  /** What the version changed; absent in versions cut before summaries were kept. */
  changes?: ChangeSummary
  /** The Bayes DB's counts after the version, when Bayes is synced. */
  bayes?: BayesCounts
}

/** Records one fetch answer carries at most (the config's historyVersions may be larger: older ones stay with the master). */
export const MAX_HISTORY_RECORDS = 256

/** Bytes of an encoded history a sender fills at most; the oldest records are left out first. */
export const HISTORY_SEND_BYTES = 512 * 1024

/** Bytes of an encoded history a receiver reads at most. */
export const MAX_HISTORY_BYTES = 1024 * 1024

/** Longest origin or name accepted: a node id is 52 characters, a rollback's origin a few more. */
const MAX_ORIGIN_CHARS = 128

/** The count keys a record may carry. */
const COUNT_KEYS = new Set<string>([...LIST_DATASETS, 'bayes'])

/**
 * Encodes records (newest first) as JSON, leaving out the oldest until it fits
 * {@link HISTORY_SEND_BYTES} and {@link MAX_HISTORY_RECORDS}; an empty history is no bytes.
 */
export function encodeHistory (records: readonly HistoryRecord[]): Uint8Array<ArrayBuffer> {
  let n = Math.min(records.length, MAX_HISTORY_RECORDS)
  for (; n > 0; n = Math.floor(n / 2)) {
    const bytes = Buffer.from(JSON.stringify(records.slice(0, n)))
    if (bytes.byteLength <= HISTORY_SEND_BYTES) return bytes
  }
  return new Uint8Array(0)
}

/** Decodes a peer's history; throws HistoryRecordError (and returns nothing) when any part is bad. */
export function decodeHistory (bytes: Uint8Array): HistoryRecord[] {
  if (bytes.byteLength === 0) return []
  if (bytes.byteLength > MAX_HISTORY_BYTES) throw new HistoryRecordError(`history is ${bytes.byteLength} bytes, at most ${MAX_HISTORY_BYTES} are read`)
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new HistoryRecordError('history is not UTF-8 JSON', { cause: err })
  }
  if (!Array.isArray(value)) throw new HistoryRecordError('history is not a list')
  if (value.length > MAX_HISTORY_RECORDS) throw new HistoryRecordError(`history holds ${value.length} records, at most ${MAX_HISTORY_RECORDS} are read`)
  return value.map((r, i) => checkRecord(r, `history[${i}]`))
}

/** Checks the keys a master says its rollback changed (a control answer), bounded like a record's; HistoryRecordError when bad. */
export function checkRollbackLists (v: unknown): ChangeSummary['lists'] {
  return checkLists(v, 'rollback', ROLLBACK_LISTED_KEYS)
}

function checkLists (v: unknown, at: string, maxKeys: number): ChangeSummary['lists'] {
  const lists: ChangeSummary['lists'] = {}
  for (const [ds, c] of Object.entries(object(v, at, [...LIST_DATASETS]))) lists[ds as ListDataset] = checkDataset(c, `${at}.${ds}`, maxKeys)
  return lists
}

function checkRecord (v: unknown, at: string): HistoryRecord {
  const r = object(v, at, ['version', 'time', 'origin', 'name', 'counts', 'changes', 'bayes'])
  const version = object(r.version, `${at}.version`, ['term', 'seq'])
  const record: HistoryRecord = {
    version: { term: count(version.term, `${at}.version.term`), seq: count(version.seq, `${at}.version.seq`) },
    time: count(r.time, `${at}.time`),
    origin: text(r.origin, `${at}.origin`, MAX_ORIGIN_CHARS),
    counts: {}
  }
  if (r.name !== undefined) record.name = text(r.name, `${at}.name`, MAX_ORIGIN_CHARS)
  for (const [k, n] of Object.entries(object(r.counts, `${at}.counts`, [...COUNT_KEYS]))) record.counts[k] = count(n, `${at}.counts.${k}`)
  if (r.changes !== undefined) record.changes = checkSummary(r.changes, `${at}.changes`)
  if (r.bayes !== undefined) record.bayes = checkBayes(r.bayes, `${at}.bayes`)
  return record
}

function checkSummary (v: unknown, at: string): ChangeSummary {
  const s = object(v, at, ['lists', 'bayes'])
  const summary: ChangeSummary = { lists: checkLists(s.lists, `${at}.lists`, MAX_LISTED_KEYS) }
  if (s.bayes !== undefined) {
    const b = object(s.bayes, `${at}.bayes`, ['before', 'after'])
    summary.bayes = { before: checkBayes(b.before, `${at}.bayes.before`), after: checkBayes(b.after, `${at}.bayes.after`) }
  }
  return summary
}

function checkDataset (v: unknown, at: string, maxKeys: number): DatasetChanges {
  const c = object(v, at, ['added', 'removed', 'changed', 'keys'])
  if (!Array.isArray(c.keys) || c.keys.length > maxKeys) throw new HistoryRecordError(`${at}.keys must be a list of at most ${maxKeys}`)
  return {
    added: count(c.added, `${at}.added`),
    removed: count(c.removed, `${at}.removed`),
    changed: count(c.changed, `${at}.changed`),
    keys: c.keys.map((k, i) => checkKey(k, `${at}.keys[${i}]`))
  }
}

function checkKey (v: unknown, at: string): KeyChange {
  const k = object(v, at, ['key', 'kind', 'value', 'old'])
  if (k.kind !== 'added' && k.kind !== 'removed' && k.kind !== 'changed') throw new HistoryRecordError(`${at}.kind must be added, removed or changed`)
  const change: KeyChange = { key: text(k.key, `${at}.key`, MAX_LISTED_TEXT), kind: k.kind }
  if (k.value !== undefined) change.value = text(k.value, `${at}.value`, MAX_LISTED_TEXT)
  if (k.old !== undefined) change.old = text(k.old, `${at}.old`, MAX_LISTED_TEXT)
  return change
}

function checkBayes (v: unknown, at: string): BayesCounts {
  const b = object(v, at, ['tokens', 'spam', 'ham'])
  return { tokens: count(b.tokens, `${at}.tokens`), spam: count(b.spam, `${at}.spam`), ham: count(b.ham, `${at}.ham`) }
}

function object (v: unknown, at: string, keys: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HistoryRecordError(`${at} must be an object`)
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new HistoryRecordError(`${at} has an unknown field ${JSON.stringify(k.slice(0, 40))}`)
  return v as Record<string, unknown>
}

function count (v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new HistoryRecordError(`${at} must be a whole number from 0`)
  return v
}

// Printable only: a record is shown on terminals and pages as it came.
function text (v: unknown, at: string, max: number): string {
  if (typeof v !== 'string' || v.length > max || !isPrintable(v)) throw new HistoryRecordError(`${at} must be printable text of at most ${max} characters`)
  return v
}
