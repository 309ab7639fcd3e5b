import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Later, WiringError } from '../../src/later.js'

test('a bound part is returned', () => {
  const later = new Later<{ n: number }>('part')
  later.bind({ n: 1 })
  assert.equal(later.get().n, 1)
})

test('a call before the bind is a WiringError naming the part', () => {
  const later = new Later<number>('the engine')
  assert.throws(() => later.get(), (err: unknown) => err instanceof WiringError && /the engine/.test(err.message) && !err.expected)
})

test('a second bind is a WiringError', () => {
  const later = new Later<number>('part')
  later.bind(1)
  assert.throws(() => { later.bind(2) }, WiringError)
  assert.equal(later.get(), 1)
})
