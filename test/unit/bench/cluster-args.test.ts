import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseClusterArgs } from '../../../bench/cluster.js'

describe('cluster bench command line', () => {
  test('--change-pause-s sets the seconds between the timed changes of the bytes phase', () => {
    assert.equal(parseClusterArgs(['bytes', '--changes=3', '--change-pause-s=40']).changePauseS, 40)
  })

  test('without it the pause is left to the phase default', () => {
    assert.equal(parseClusterArgs(['bytes', '--changes=3']).changePauseS, undefined)
  })

  test('a pause that is not a positive whole number is refused', () => {
    assert.throws(() => parseClusterArgs(['--change-pause-s=0']), /positive integers/)
  })
})
