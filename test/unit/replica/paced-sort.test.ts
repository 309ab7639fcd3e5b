/** Entries sorted by key a step at a time, and entries put over a bucket's. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { putOver, sortedPaced } from '../../../src/replica/paced-sort.js'
import type { StoredEntry } from '../../../src/store/state-store.js'

const entry = (key: string, value = ''): StoredEntry => ({ key, value, present: true, stamp: { wallMs: 1, counter: 0, nodeId: 'n1' }, lseq: 1, synced: false })

/** Runs a generator to its end; its result and how many steps it took. */
function run<T> (gen: Generator<void, T>): { result: T, steps: number } {
  let steps = 0
  for (;;) {
    const next = gen.next()
    if (next.done === true) return { result: next.value, steps }
    steps++
  }
}

describe('sortedPaced', () => {
  test('gives the entries in key order, as a sort does, whatever their number and the step (property)', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (keys, step) => {
      const { result } = run(sortedPaced(keys.map(k => entry(k)), step))
      assert.deepEqual(result.map(e => e.key), [...keys].sort())
    }), { numRuns: 300 })
  })

  test('gives keys with non-ASCII units and long common beginnings in key order, as a sort does (property)', () => {
    const unit = fc.constantFrom('a', 'b', '~', '}', '\u007f', '\u00e9', '\u00e0', '\u0000', '\ud83d\ude00', '\uffff')
    const key = fc.tuple(fc.constantFrom('', 'mail.', 'mail.example.'), fc.array(unit, { maxLength: 9 })).map(([start, units]) => start + units.join(''))
    fc.assert(fc.property(fc.uniqueArray(key, { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (keys, step) => {
      const { result } = run(sortedPaced(keys.map(k => entry(k)), step))
      assert.deepEqual(result.map(e => e.key), [...keys].sort())
    }), { numRuns: 300 })
  })

  test('takes a step per `step` entries of each pass: no long piece for a large list', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${(i * 7919) % 10_000}`)
    const { steps } = run(sortedPaced(keys.map(k => entry(k)), 100))
    assert.ok(steps >= 3 * 100 - 1, `${steps} steps`)
  })

  test('sorts a run of more than `step` keys alike in their first units in steps too', () => {
    const keys = Array.from({ length: 1_000 }, (_, i) => `common-${(i * 7919) % 1_000}`)
    const { result, steps } = run(sortedPaced(keys.map(k => entry(k)), 10))
    assert.deepEqual(result.map(e => e.key), [...keys].sort())
    assert.ok(steps >= 100 * Math.log2(100), `${steps} steps`)
  })

  test('takes no step for entries already in order', () => {
    assert.equal(run(sortedPaced(['a', 'b', 'c'].map(k => entry(k)), 1)).steps, 0)
  })
})

describe('putOver', () => {
  test('keeps the entries of both in key order, those put in place of the ones with their key', () => {
    const before = [entry('a', 'old'), entry('c', 'old'), entry('e', 'old')]
    const put = [entry('b', 'new'), entry('c', 'new'), entry('f', 'new')]
    assert.deepEqual(putOver(before, put).map(e => `${e.key}=${e.value}`), ['a=old', 'b=new', 'c=new', 'e=old', 'f=new'])
  })
})
