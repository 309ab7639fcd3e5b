/** The large-work hint (src/work-ahead.ts): listeners hear of large work only, until they stop. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LARGE_WORK_BYTES, onLargeWork, workAhead } from '../../src/work-ahead.js'

test('a file or archive of LARGE_WORK_BYTES or more is large work; a smaller one is not', () => {
  let heard = 0
  const stop = onLargeWork(() => { heard++ })
  try {
    workAhead(LARGE_WORK_BYTES - 1)
    workAhead(0)
    assert.equal(heard, 0)
    workAhead(LARGE_WORK_BYTES)
    workAhead(10 * LARGE_WORK_BYTES)
    assert.equal(heard, 2)
  } finally {
    stop()
  }
})

test('a listener that stopped hears nothing more, and may stop itself while it is called', () => {
  const heard: string[] = []
  const stopA = onLargeWork(() => { heard.push('a'); stopA() })
  const stopB = onLargeWork(() => { heard.push('b') })
  try {
    workAhead(LARGE_WORK_BYTES)
    workAhead(LARGE_WORK_BYTES)
    assert.deepEqual(heard, ['a', 'b', 'b'])
    stopB()
    workAhead(LARGE_WORK_BYTES)
    assert.deepEqual(heard, ['a', 'b', 'b'])
  } finally {
    stopA()
    stopB()
  }
})
