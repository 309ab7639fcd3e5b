import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ArchiveHolders } from '../../../src/sync/archive-holders.js'
import type { MemberView } from '../../../src/election/state.js'
import type { ArchiveRef } from '../../../src/protocol/archive-ref.js'

const ref = (seq: number, byte = 1): ArchiveRef => ({ version: { term: 1, seq }, size: 10, sha256: new Uint8Array(32).fill(byte) })
const member = (nodeId: string, live: boolean, appliedSeq = 0): MemberView => ({
  nodeId, live, priority: 0, pin: 'auto', role: 'slave', term: 1, masterId: null, version: { term: 1, seq: appliedSeq }, appliedVersion: { term: 1, seq: appliedSeq }, lastSeen: 0
})

test('a new archive is news once; the same one again is not', () => {
  const h = new ArchiveHolders(() => [])
  assert.equal(h.announced('a', ref(1)), true)
  assert.equal(h.announced('a', ref(1)), false)
  assert.equal(h.announced('a', ref(1, 2)), true, 'other bytes of the same version')
  assert.equal(h.announced('a', undefined), false)
})

test('only live members announcing the very archive hold it', () => {
  const members = [member('a', true), member('b', false), member('c', true)]
  const h = new ArchiveHolders(() => members)
  h.announced('a', ref(2))
  h.announced('b', ref(2))
  h.announced('c', ref(1))
  assert.deepEqual(h.holders(ref(2)), ['a'])
  h.announced('a', undefined)
  assert.deepEqual(h.holders(ref(2)), [])
})

test('a node is awaited when unheard of, or live without the archive and behind its version', () => {
  const members = [member('down', false), member('behind', true, 1), member('past', true, 5), member('holder', true, 1)]
  const h = new ArchiveHolders(() => members)
  h.announced('holder', ref(2))
  assert.equal(h.awaited('unheard', ref(2)), true)
  assert.equal(h.awaited('down', ref(2)), false)
  assert.equal(h.awaited('behind', ref(2)), true)
  assert.equal(h.awaited('past', ref(2)), false)
  assert.equal(h.awaited('holder', ref(2)), false)
})
