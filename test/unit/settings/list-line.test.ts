import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { checkValue } from '../../../src/settings/list-line.js'

describe('checkValue', () => {
  test('accepts values a list file can hold', () => {
    for (const v of ['', 'x', 'a  b', 'ticket#42', 'tab\tinside', 'ünïcode', 'x #y', '#x', 'x # y  z']) assert.equal(checkValue(v), undefined, v)
  })

  test('rejects values that would be read back differently', () => {
    for (const v of [' x', 'x ', '#x ', 'x  #y', 'x\t#y', 'x \t#y', 'a\nb', 'a\rb', 'x #a\nb']) assert.notEqual(checkValue(v), undefined, JSON.stringify(v))
  })
})
