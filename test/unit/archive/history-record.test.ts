import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { HistoryRecordError } from '../../../src/errors.js'
import { HISTORY_SEND_BYTES, MAX_HISTORY_BYTES, MAX_HISTORY_RECORDS, decodeHistory, encodeHistory, type HistoryRecord } from '../../../src/archive/history-record.js'
import { MAX_LISTED_KEYS } from '../../../src/archive/change-summary.js'

const record = (seq: number, extra: Partial<HistoryRecord> = {}): HistoryRecord => ({
  version: { term: 2, seq },
  time: 1_700_000_000_000 + seq,
  origin: '12D3KooWorigin',
  name: 'mx1',
  counts: { whitelist: 3, blacklist: 0, autowhitelist: 0, bayes: 10 },
  bayes: { tokens: 10, spam: 2, ham: 0 },
  changes: {
    lists: { whitelist: { added: 1, removed: 0, changed: 1, keys: [{ key: 'a.example', kind: 'added', value: '' }, { key: 'b.example', kind: 'changed', value: 'new', old: 'old' }] } },
    bayes: { before: { tokens: 5, spam: 1, ham: 0 }, after: { tokens: 10, spam: 2, ham: 0 } }
  },
  ...extra
})

const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))

describe('history records on the wire', () => {
  test('decode gives back what encode was given', () => {
    const records = [record(3), record(2), { version: { term: 1, seq: 1 }, time: 5, origin: 'rollback of 1.0', counts: {} }]
    assert.deepEqual(decodeHistory(encodeHistory(records)), records)
  })

  test('an empty history is no bytes, and no bytes (an agent before the field) decode to none', () => {
    assert.equal(encodeHistory([]).byteLength, 0)
    assert.deepEqual(decodeHistory(new Uint8Array(0)), [])
  })

  test('encode leaves out the oldest records until the history fits its byte budget', () => {
    const big = record(1, { changes: { lists: { whitelist: { added: 99, removed: 0, changed: 0, keys: Array.from({ length: MAX_LISTED_KEYS }, (_, i) => ({ key: `${'k'.repeat(110)}${i}`, kind: 'added' as const, value: 'v'.repeat(120) })) } } } })
    const many = Array.from({ length: MAX_HISTORY_RECORDS }, (_, i) => ({ ...big, version: { term: 2, seq: MAX_HISTORY_RECORDS - i } }))
    const out = decodeHistory(encodeHistory(many))
    assert.ok(out.length > 0 && out.length < many.length)
    assert.deepEqual(out[0].version, { term: 2, seq: MAX_HISTORY_RECORDS }, 'the newest stays')
    assert.ok(encodeHistory(many).byteLength <= HISTORY_SEND_BYTES)
  })

  test('more than MAX_HISTORY_RECORDS records are refused', () => {
    assert.throws(() => decodeHistory(bytes(Array.from({ length: MAX_HISTORY_RECORDS + 1 }, (_, i) => record(i)))), HistoryRecordError)
  })

  test('more than MAX_HISTORY_BYTES bytes are refused before they are parsed', () => {
    assert.throws(() => decodeHistory(new Uint8Array(MAX_HISTORY_BYTES + 1)), HistoryRecordError)
  })

  test('a record with an unknown field, a negative count or a control character is refused whole', () => {
    for (const bad of [
      [{ ...record(1), extra: 1 }],
      [{ ...record(1), counts: { whitelist: -1 } }],
      [{ ...record(1), counts: { spam: 1 } }],
      [{ ...record(1), name: 'mx\u001b[2J' }],
      [{ ...record(1), version: { term: 1.5, seq: 1 } }],
      [{ ...record(1), changes: { lists: { greylist: { added: 0, removed: 0, changed: 0, keys: [] } } } }],
      [{ ...record(1), changes: { lists: { whitelist: { added: 0, removed: 0, changed: 0, keys: [{ key: 'a', kind: 'moved' }] } } } }],
      [{ ...record(1), changes: { lists: { whitelist: { added: 0, removed: 0, changed: 0, keys: Array.from({ length: MAX_LISTED_KEYS + 1 }, () => ({ key: 'a', kind: 'added' })) } } } }],
      { not: 'a list' }
    ]) {
      assert.throws(() => decodeHistory(bytes(bad)), HistoryRecordError, JSON.stringify(bad).slice(0, 80))
    }
  })

  test('bytes that are not UTF-8 JSON are refused', () => {
    assert.throws(() => decodeHistory(Buffer.from([0xff, 0xfe])), HistoryRecordError)
    assert.throws(() => decodeHistory(Buffer.from('[{')), HistoryRecordError)
  })
})
