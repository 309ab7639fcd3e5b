/** The process-wide hint that large buffers were let go (src/large-garbage.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { letGo, onLargeGarbage } from '../../src/large-garbage.js'
import { LARGE_WORK_BYTES } from '../../src/work-ahead.js'

test('buffers of LARGE_WORK_BYTES or more let go are told; smaller ones are not', () => {
  let told = 0
  const stop = onLargeGarbage(() => { told++ })
  try {
    letGo(LARGE_WORK_BYTES - 1)
    assert.equal(told, 0)
    letGo(LARGE_WORK_BYTES)
    assert.equal(told, 1)
  } finally {
    stop()
  }
})

test('a listener that stopped hears nothing more', () => {
  let told = 0
  onLargeGarbage(() => { told++ })()
  letGo(LARGE_WORK_BYTES)
  assert.equal(told, 0)
})
