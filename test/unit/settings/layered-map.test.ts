/** LayeredMap: a map and the keys that differ from it, read as one map. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { LayeredMap, MAX_LAYERS } from '../../../src/settings/layered-map.js'

const edit = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.option(fc.constantFrom('1', '2', ''))), { maxLength: 5 })

test('reads as the plain map with each layer of changes applied, past the flattening depth too', () => {
  fc.assert(fc.property(fc.array(edit, { maxLength: MAX_LAYERS * 3 }), edits => {
    let layered: ReadonlyMap<string, string> = new Map([['a', '0'], ['b', '']])
    const plain = new Map(layered)
    for (const changes of edits) {
      layered = new LayeredMap(layered, new Map(changes))
      for (const [key, value] of changes) {
        if (value === null) plain.delete(key)
        else plain.set(key, value)
      }
      assert.deepEqual(new Map(layered), plain)
      assert.equal(layered.size, plain.size)
      for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) assert.equal(layered.get(key), plain.get(key))
    }
  }), { numRuns: 300 })
})

test('leaves the map under it as it was', () => {
  const base = new Map([['a', '1']])
  const top = new LayeredMap(base, new Map([['a', null], ['b', '2']]))
  assert.deepEqual([...top], [['b', '2']])
  assert.deepEqual([...base], [['a', '1']])
})
