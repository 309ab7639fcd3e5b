import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatHistory, formatRollback, formatVersionDetail } from '../../../src/cli/history-format.js'
import type { HistoryItem } from '../../../src/sync/version-history.js'

const item = (seq: number, extra: Partial<HistoryItem> = {}): HistoryItem => ({
  version: { term: 3, seq },
  time: '2026-12-06T18:20:01.123Z',
  origin: '12D3KooWorigin',
  name: 'mx1',
  counts: { whitelist: 1 },
  sizes: {},
  restorable: true,
  changes: { lists: { whitelist: { added: 1, removed: 0, changed: 0, keys: [{ key: 'a@example.com', kind: 'added', value: '' }] } } },
  ...extra
})

test('history prints one line per version: number, UTC time to the second, node name, changes', () => {
  assert.equal(formatHistory([item(2), item(1, { name: undefined, changes: undefined })]), [
    'VERSION  TIME                  FROM            CHANGES',
    '3.2      2026-12-06T18:20:01Z  mx1             whitelist +1 -0 ~0',
    '3.1      2026-12-06T18:20:01Z  12D3KooWorigin  ? (cut before changes were recorded)',
    ''
  ].join('\n'))
})

test('a version whose content is not kept here is marked, and the mark explained', () => {
  const out = formatHistory([item(2, { restorable: false })])
  assert.match(out, /^3\.2° /m)
  assert.match(out, /° came inside a larger update/)
})

test('a version whose content the size bound dropped is marked as such, and how far back a rollback reaches is said', () => {
  const out = formatHistory([item(3), item(2), item(1, { restorable: false, contentDropped: true })])
  assert.match(out, /^3\.1° /m)
  assert.match(out, /° past the history's size bound/)
  assert.doesNotMatch(out, /larger update/)
  assert.match(out, /a rollback here reaches back to 3\.2$/m)
})

test('history --show names the node by name and id and lists the keys', () => {
  assert.equal(formatVersionDetail(item(2)), [
    'version 3.2, 2026-12-06T18:20:01Z, from mx1 (12D3KooWorigin)',
    'whitelist: 1 added, 0 removed, 0 changed',
    '  + a@example.com',
    'its content is kept here: a rollback to it can run on this node as master',
    ''
  ].join('\n'))
})

test('a rollback by a master that did not say which keys changed says so', () => {
  assert.match(formatRollback({ term: 3, seq: 1 }, { version: { term: 3, seq: 9 }, lists: null }), /did not say which keys changed/)
  assert.match(formatRollback({ term: 3, seq: 1 }, { version: null, lists: {} }), /^a rollback to 3\.1 would change \(dry run, nothing was changed\):\nnothing: the lists already equal that version\n$/)
})
