/** printable(): a peer's text escaped so no terminal, log viewer or page obeys it. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isPrintable, printable, printableDeep } from '../../src/printable.js'

test('C0 controls, DEL and C1 controls are escaped visibly', () => {
  assert.equal(printable('a\x1b[2Jb\x00c\td\r\ne\x7ff\x9b31m\x85'), 'a\\x1b[2Jb\\x00c\\x09d\\x0d\\x0ae\\x7ff\\x9b31m\\x85')
})

test('bidi marks, embeddings, overrides, isolates and line separators are escaped', () => {
  assert.equal(printable('x\u202ey\u2066z\u200f\u061c\u2028\u2029'), 'x\\u202ey\\u2066z\\u200f\\u061c\\u2028\\u2029')
})

test('ordinary text, other scripts and emoji pass unchanged', () => {
  for (const text of ['spamsync/1.2.3 protocol/1 schema/1', 'Grüße, 日本語, עברית, 😀', '12D3KooWAbc', '']) {
    assert.equal(printable(text), text)
    assert.equal(isPrintable(text), true)
  }
})

test('a text over the limit is cut, with a mark', () => {
  assert.equal(printable('x'.repeat(10), 5), 'xxxx…')
  assert.equal(printable('x'.repeat(5), 5), 'xxxxx')
  assert.equal(printable('\x1b'.repeat(10), 9), '\\x1b\\x1b…')
})

test('the result is always printable', () => {
  let all = ''
  for (let c = 0; c < 0x3000; c++) all += String.fromCodePoint(c)
  assert.equal(isPrintable(printable(all)), true)
  assert.equal(isPrintable(all), false)
})

test('printableDeep escapes every string of a JSON value, keys too, and keeps the rest', () => {
  assert.deepEqual(printableDeep({ '\x1bk': ['\x07', 1, null, true, { v: '\u202e' }] }), { '\\x1bk': ['\\x07', 1, null, true, { v: '\\u202e' }] })
})
