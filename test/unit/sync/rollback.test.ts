import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stamp } from '../../../src/crdt/hlc.js'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { rollbackEntries } from '../../../src/sync/rollback.js'

const old: Stamp = { wallMs: 1000, counter: 0, nodeId: 'a' }
const present = (key: string, value = ''): Entry => ({ key, value, present: true, stamp: old })
const gone = (key: string): Entry => ({ key, value: '', present: false, stamp: old })

/** A stamp source that counts up, so each new entry's stamp is distinct and visible. */
function stamps (): () => Stamp {
  let n = 0
  return () => ({ wallMs: 5000, counter: n++, nodeId: 'm' })
}

const byKey = (entries: Entry[]): Map<string, Pick<Entry, 'value' | 'present'>> =>
  new Map(entries.map(e => [e.key, { value: e.value, present: e.present }]))

describe('rollbackEntries', () => {
  test('restores deleted keys, deletes added keys, resets changed values', () => {
    const snapshot = [present('kept.example'), present('deleted-since.example', 'why'), present('changed.example', 'old'), gone('added-since.example')]
    const current = [present('kept.example'), gone('deleted-since.example'), present('changed.example', 'new'), present('added-since.example')]
    const out = rollbackEntries(current, snapshot, stamps())
    assert.deepEqual(byKey(out), new Map([
      ['deleted-since.example', { value: 'why', present: true }],
      ['changed.example', { value: 'old', present: true }],
      ['added-since.example', { value: '', present: false }]
    ]))
    for (const e of out) assert.equal(e.stamp.wallMs, 5000, 'every change carries a new stamp')
  })

  test('a key the replica no longer holds at all comes back; one absent from the snapshot goes', () => {
    const out = rollbackEntries([present('new.example')], [present('old.example', 'v')], stamps())
    assert.deepEqual(byKey(out), new Map([
      ['new.example', { value: '', present: false }],
      ['old.example', { value: 'v', present: true }]
    ]))
  })

  test('tombstones on both sides and equal content change nothing', () => {
    const same = [present('a.example', 'x'), gone('b.example')]
    assert.deepEqual(rollbackEntries(same, [present('a.example', 'x')], stamps()), [])
    assert.deepEqual(rollbackEntries([gone('c.example')], [gone('c.example')], stamps()), [])
  })
})
