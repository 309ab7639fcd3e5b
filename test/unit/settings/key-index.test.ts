/** KeyIndex and IndexedEntries: a list file's entries found through its lines. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { IndexedEntries, KeyIndex } from '../../../src/settings/key-index.js'
import { parseListFile } from '../../../src/settings/list-file.js'

test('finds every key added, with the first line that held it, and no other (tagged slots or not)', () => {
  fc.assert(fc.property(fc.array(fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), { maxLength: 300 }), fc.boolean(), (keys, untagged) => {
    const index = new KeyIndex(keys.filter(k => k !== undefined).length, untagged ? 1 << 24 : keys.length)
    const keyIs = (i: number, key: string): boolean => keys[i] === key
    const first = new Map<string, number>()
    keys.forEach((key, i) => {
      if (key === undefined) return
      assert.equal(index.add(key, i, keyIs), first.get(key) ?? -1)
      if (!first.has(key)) first.set(key, i)
    })
    for (const [key, line] of first) assert.equal(index.lineOf(key, keyIs), line)
    for (const key of ['', 'absent', 'x'.repeat(7)]) if (!first.has(key)) assert.equal(index.lineOf(key, keyIs), -1)
  }), { numRuns: 300 })
})

test('a full table of one slot per key still finds every key (a table holds at least 4/3 slots per key)', () => {
  const keys = Array.from({ length: 6000 }, (_, i) => `k${i}.example`)
  const index = new KeyIndex(keys.length, keys.length)
  keys.forEach((key, i) => assert.equal(index.add(key, i, (j, k) => keys[j] === k), -1))
  keys.forEach((key, i) => assert.equal(index.lineOf(key, (j, k) => keys[j] === k), i))
})

test('IndexedEntries.of reads the same entries as the parse of the lines', () => {
  const text = 'a.com x # why\n# comment\n\nb.com\nc.com  v\n'
  const parsed = parseListFile(text, 'blacklist.txt')
  const entries = IndexedEntries.of(parsed.lines)
  assert.deepEqual([...entries], [['a.com', 'x # why'], ['b.com', ''], ['c.com', 'v']])
  assert.deepEqual([...entries], [...parsed.entries])
  assert.equal(entries.size, 3)
  assert.equal(entries.get('c.com'), 'v')
  assert.equal(entries.has('d.com'), false)
})
