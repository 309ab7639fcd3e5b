import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fetchAnswer } from '../../../src/sync/sync-network.js'
import { ArchiveKind, Status } from '../../../src/pb/spamsync.js'

const V = { term: 1, seq: 2 }

test('a full archive that came is named with its version, size and sha256', () => {
  const zip = new Uint8Array([1, 2, 3])
  const a = fetchAnswer({ response: { status: Status.OK, reason: '', version: V, kind: ArchiveKind.FULL, size: 3, sha256: new Uint8Array(32).fill(1), sources: [], history: new Uint8Array([7]) }, zip })
  assert.equal(a.full, true)
  assert.deepEqual(a.archive?.version, V)
  assert.equal(a.zip, zip)
  assert.deepEqual(a.history, new Uint8Array([7]), 'the history records travel on to the engine')
})

test('an answer without a sha256 names no archive', () => {
  const a = fetchAnswer({ response: { status: Status.BUSY, reason: 'busy', version: V, kind: ArchiveKind.DELTA, size: 0, sha256: new Uint8Array(0), sources: ['p'], history: new Uint8Array(0) } })
  assert.equal(a.archive, undefined)
  assert.equal(a.full, false)
  assert.deepEqual(a.sources, ['p'])
})
