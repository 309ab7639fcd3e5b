/** How two nodes rank for mastership. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { compareRank, eligible, outranksByConfig } from '../../../src/election/rank.js'

describe('election rank', () => {
  it('ranks a pinned master before an auto node of higher priority, and an auto node before a pinned slave', () => {
    assert.ok(compareRank({ nodeId: 'z', priority: 0, pin: 'master' }, { nodeId: 'a', priority: 9, pin: 'auto' }) < 0)
    assert.ok(compareRank({ nodeId: 'z', priority: 0, pin: 'auto' }, { nodeId: 'a', priority: 9, pin: 'slave' }) < 0)
  })

  it('breaks a tie of pin and priority by the smaller node id, and a node ties with itself', () => {
    assert.ok(compareRank({ nodeId: 'a', priority: 1, pin: 'auto' }, { nodeId: 'b', priority: 1, pin: 'auto' }) < 0)
    assert.equal(compareRank({ nodeId: 'a', priority: 1, pin: 'auto' }, { nodeId: 'a', priority: 1, pin: 'auto' }), 0)
  })

  it('lets only the configuration outrank: a smaller node id alone does not', () => {
    assert.equal(outranksByConfig({ nodeId: 'a', priority: 1, pin: 'auto' }, { nodeId: 'b', priority: 1, pin: 'auto' }), false)
    assert.equal(outranksByConfig({ nodeId: 'b', priority: 2, pin: 'auto' }, { nodeId: 'a', priority: 1, pin: 'auto' }), true)
  })

  it('makes a pinned slave ineligible', () => {
    assert.deepEqual([eligible('master'), eligible('auto'), eligible('slave')], [true, true, false])
  })
})
