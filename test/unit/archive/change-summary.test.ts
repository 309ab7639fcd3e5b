import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { ChangeTracker, MAX_LISTED_KEYS, MAX_LISTED_TEXT, bayesChange, changeKind, summarizeDataset, summaryLines } from '../../../src/archive/change-summary.js'

const stamp = { wallMs: 1000, counter: 0, nodeId: 'a' }
const present = (key: string, value = ''): Entry => ({ key, value, present: true, stamp })
const gone = (key: string): Entry => ({ key, value: '', present: false, stamp })

describe('changeKind', () => {
  test('a key present now and absent or deleted before was added', () => {
    assert.equal(changeKind(undefined, present('a.example')), 'added')
    assert.equal(changeKind(gone('a.example'), present('a.example')), 'added')
  })
  test('a key present before and deleted now was removed', () => {
    assert.equal(changeKind(present('a.example', 'x'), gone('a.example')), 'removed')
  })
  test('a key present before and now with another value was changed', () => {
    assert.equal(changeKind(present('a.example', 'x'), present('a.example', 'y')), 'changed')
  })
  test('a new stamp on the same content, or a tombstone over nothing, is no change', () => {
    assert.equal(changeKind(present('a.example', 'x'), present('a.example', 'x')), null)
    assert.equal(changeKind(undefined, gone('a.example')), null)
    assert.equal(changeKind(gone('a.example'), gone('a.example')), null)
  })
})

describe('summarizeDataset', () => {
  test('counts each kind and lists the keys in key order with their old and new values', () => {
    const s = summarizeDataset([
      { before: present('c.example', 'old'), after: present('c.example', 'new') },
      { before: undefined, after: present('b.example', 'v') },
      { before: present('a.example', 'was'), after: gone('a.example') }
    ])
    assert.deepEqual(s, {
      added: 1,
      removed: 1,
      changed: 1,
      keys: [
        { key: 'a.example', kind: 'removed', old: 'was' },
        { key: 'b.example', kind: 'added', value: 'v' },
        { key: 'c.example', kind: 'changed', value: 'new', old: 'old' }
      ]
    })
  })

  test('lists at most MAX_LISTED_KEYS keys, while the counts stay exact', () => {
    const changes = Array.from({ length: MAX_LISTED_KEYS + 10 }, (_, i) => ({ before: undefined, after: present(`k${String(i).padStart(4, '0')}.example`) }))
    const s = summarizeDataset(changes)
    assert.equal(s.added, MAX_LISTED_KEYS + 10)
    assert.equal(s.keys.length, MAX_LISTED_KEYS)
    assert.equal(s.keys[0].key, 'k0000.example')
  })

  test('lists the first keys in key order whatever order the changes come in, each key of a change once', () => {
    // A shuffled order (a fixed permutation): the smallest keys come last, first and in between.
    const n = MAX_LISTED_KEYS * 4
    const keys = Array.from({ length: n }, (_, i) => `k${String((i * 37) % n).padStart(4, '0')}.example`)
    const s = summarizeDataset([...keys].reverse().map(key => ({ before: undefined, after: present(key) })))
    assert.equal(s.added, n)
    assert.deepEqual(s.keys.map(k => k.key), [...keys].sort().slice(0, MAX_LISTED_KEYS))
    const few = summarizeDataset(keys.map(key => ({ before: present(key, 'a'), after: gone(key) })), 3)
    assert.deepEqual(few.keys.map(k => k.key), ['k0000.example', 'k0001.example', 'k0002.example'])
    assert.equal(few.removed, n)
    assert.deepEqual(summarizeDataset(keys.map(key => ({ before: undefined, after: present(key) })), 0).keys, [])
  })

  test('a listed key or value is cut to MAX_LISTED_TEXT and made printable', () => {
    const s = summarizeDataset([{ before: undefined, after: present('evil\u001b[2J.example', 'x'.repeat(500)) }])
    assert.equal(s.keys[0].key, 'evil\\x1b[2J.example')
    assert.equal(s.keys[0].value?.length, MAX_LISTED_TEXT)
  })
})

describe('ChangeTracker', () => {
  test('takes each key from its state before the first commit to its state after the last', () => {
    const t = new ChangeTracker()
    t.record('whitelist', present('a.example', '1'), present('a.example', '2'))
    t.record('whitelist', present('a.example', '2'), present('a.example', '3'))
    assert.deepEqual(t.take().whitelist?.keys, [{ key: 'a.example', kind: 'changed', value: '3', old: '1' }])
  })

  test('a key added and removed again between two versions is no change, and its dataset is left out', () => {
    const t = new ChangeTracker()
    t.record('blacklist', undefined, present('a.example'))
    t.record('blacklist', present('a.example'), gone('a.example'))
    assert.deepEqual(t.take(), {})
  })

  test('take starts anew', () => {
    const t = new ChangeTracker()
    t.record('whitelist', undefined, present('a.example'))
    assert.equal(t.take().whitelist?.added, 1)
    assert.deepEqual(t.take(), {})
  })

  test('clear forgets what was collected', () => {
    const t = new ChangeTracker()
    t.record('whitelist', undefined, present('a.example'))
    t.clear()
    assert.deepEqual(t.take(), {})
  })

  test('a whole commit is summarised as its changes recorded one by one are', () => {
    const commit = [
      { before: undefined, after: present('c.example') },
      { before: present('a.example', '1'), after: present('a.example', '2') },
      { before: present('b.example'), after: gone('b.example') }
    ]
    const byOne = new ChangeTracker()
    for (const { before, after } of commit) byOne.record('blacklist', before, after)
    const whole = new ChangeTracker()
    whole.recordCommit('blacklist', commit)
    assert.deepEqual(whole.take(), byOne.take())
  })

  test('commits after a whole commit take each key from its state before the first to its state after the last', () => {
    const t = new ChangeTracker()
    t.recordCommit('blacklist', [{ before: undefined, after: present('a.example') }, { before: undefined, after: present('b.example') }])
    t.recordCommit('blacklist', [{ before: present('a.example'), after: gone('a.example') }])
    t.record('blacklist', present('b.example'), present('b.example', 'x'))
    assert.deepEqual(t.take().blacklist, { added: 1, removed: 0, changed: 0, keys: [{ key: 'b.example', kind: 'added', value: 'x' }] })
  })

  test('take and clear forget a whole commit too', () => {
    const t = new ChangeTracker()
    t.recordCommit('whitelist', [{ before: undefined, after: present('a.example') }])
    assert.equal(t.take().whitelist?.added, 1)
    assert.deepEqual(t.take(), {})
    t.recordCommit('whitelist', [{ before: undefined, after: present('a.example') }])
    t.clear()
    assert.deepEqual(t.take(), {})
  })
})

describe('bayesChange', () => {
  test('is absent when no count moved, or the Bayes DB is not synced', () => {
    const c = { tokens: 5, spam: 1, ham: 2 }
    assert.equal(bayesChange(c, { ...c }), undefined)
    assert.equal(bayesChange(c, undefined), undefined)
  })
  test('counts from zero when there was no version before', () => {
    assert.deepEqual(bayesChange(undefined, { tokens: 5, spam: 1, ham: 0 }), { before: { tokens: 0, spam: 0, ham: 0 }, after: { tokens: 5, spam: 1, ham: 0 } })
  })
})

describe('summaryLines', () => {
  test('one line per changed dataset, Bayes with tokens and messages', () => {
    const lines = summaryLines({
      lists: { whitelist: { added: 3, removed: 1, changed: 2, keys: [] } },
      bayes: { before: { tokens: 10, spam: 1, ham: 1 }, after: { tokens: 15, spam: 2, ham: 1 } }
    })
    assert.deepEqual(lines, ['whitelist +3 -1 ~2', 'bayes 10→15 tokens, 2→3 messages'])
  })
})
