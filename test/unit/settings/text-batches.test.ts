import { test } from 'node:test'
import assert from 'node:assert/strict'
import { textBatches } from '../../../src/settings/text-batches.js'

test('joins small parts into batches of at most maxChars, in order and losing nothing', () => {
  const parts = Array.from({ length: 1000 }, (_, i) => `line-${i}.example.com\n`)
  const batches = [...textBatches(parts, 100)]
  assert.equal(batches.join(''), parts.join(''))
  assert.ok(batches.every(b => b.length <= 100))
  assert.ok(batches.length < parts.length / 3)
})

test('a part longer than maxChars goes alone, whole', () => {
  const long = 'x'.repeat(50) + '\n'
  assert.deepEqual([...textBatches(['a\n', long, 'b\n'], 10)], ['a\n', long, 'b\n'])
})

test('no parts give no batch', () => {
  assert.deepEqual([...textBatches([], 10)], [])
})
