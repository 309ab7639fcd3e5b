/** The status page's "Last changes" fragment: what it says about a version and its keys. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PAGE_HISTORY_SCRIPT } from '../../../src/http/page-history.js'
import { STATUS_PAGE_HTML } from '../../../src/http/status-page.js'

const { changeLines, diffLines } = new Function(PAGE_HISTORY_SCRIPT + '; return { changeLines, diffLines }')() as {
  changeLines: (c: unknown) => string[]
  diffLines: (item: unknown) => string[]
}

const changes = {
  lists: { blacklist: { added: 2, removed: 1, changed: 1, keys: [{ key: 'a.example', kind: 'added', value: 'why' }, { key: 'b.example', kind: 'removed', old: '' }, { key: 'c.example', kind: 'changed', value: 'new', old: 'old' }] } },
  bayes: { before: { tokens: 10, spam: 1, ham: 1 }, after: { tokens: 15, spam: 2, ham: 1 } }
}

test('the page shows the last changes and a place for a version\'s keys', () => {
  assert.match(STATUS_PAGE_HTML, /<h2>Last changes<\/h2>/)
  assert.match(STATUS_PAGE_HTML, /<tbody id="changes"><\/tbody>/)
  assert.match(STATUS_PAGE_HTML, /<div id="diff"><\/div>/)
})

test('a version\'s row says per dataset +added -removed ~changed, and the Bayes tokens and messages', () => {
  assert.deepEqual(changeLines(changes), ['blacklist +2 -1 ~1', 'bayes 10→15 tokens, 2→3 messages'])
  assert.deepEqual(changeLines({ lists: {} }), ['no change'])
  assert.deepEqual(changeLines(undefined), ['not recorded'])
})

test('a version\'s diff lists each key with its old and new value, and how many were not listed', () => {
  assert.deepEqual(diffLines({ changes }), [
    'blacklist: 2 added, 1 removed, 1 changed',
    '  + a.example why',
    '  - b.example',
    '  ~ c.example "old" → "new"',
    '  … and 1 more',
    'bayes 10→15 tokens, 2→3 messages'
  ])
  assert.deepEqual(diffLines({}), ['not recorded (cut before changes were kept)'])
})
