/**
 * The tombstone rule of protocol/sync-v1.md, "Tombstones", on a fake clock: the floor the master
 * may announce, which tombstones it lets go, how entries from elsewhere are screened against it,
 * and what a node that was away does with what the master's full state lacks.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { collectable, floorCandidate, oldestWaited, screenIncoming, sortStale, type FloorInputs, type FloorMember } from '../../../src/crdt/tombstone-floor.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

const NOW = 1_000_000
const HOUR = 3600_000

/** Versions 1..5 of term 3 cut at NOW - 5000, ..., NOW - 1000; the newest is 3.5. */
function inputs (members: FloorMember[], over: Partial<FloorInputs> = {}): FloorInputs {
  return { now: NOW, term: 3, current: { term: 3, seq: 5 }, cutTime: seq => seq <= 5 ? NOW - (6 - seq) * 1000 : undefined, members, keepMs: HOUR, graceMs: 100, ...over }
}

function member (nodeId: string, seq: number, over: Partial<FloorMember> = {}): FloorMember {
  return { nodeId, applied: { term: 3, seq }, lastSeenMs: NOW - 500, fullSeen: true, ...over }
}

function entry (key: string, wallMs: number, present = true): Entry {
  return { key, value: '', present, stamp: { wallMs, counter: 0, nodeId: 'n' } }
}

describe('the floor the master may announce', () => {
  test('is now minus the grace when every member applied the newest version', () => {
    assert.equal(floorCandidate(inputs([member('a', 5), member('b', 5)])), NOW - 100)
  })

  test('waits for the member that applied the oldest version: the grace before that version was cut', () => {
    assert.equal(floorCandidate(inputs([member('a', 5), member('b', 2)])), NOW - 4000 - 100)
  })

  test('is blocked by a member heard within the keep time that applied no version of this term', () => {
    assert.equal(floorCandidate(inputs([member('a', 5), member('b', 0, { applied: { term: 2, seq: 9 } })])), null)
    assert.equal(floorCandidate(inputs([member('a', 5), member('b', 0, { applied: null })])), null)
  })

  test('is blocked by a member whose full state the master has not merged in this term', () => {
    assert.equal(floorCandidate(inputs([member('a', 5, { fullSeen: false })])), null)
  })

  test('is blocked by a member that applied a version whose cut time the master does not know', () => {
    assert.equal(floorCandidate(inputs([member('a', 5), member('b', 2)], { cutTime: () => undefined })), null)
  })

  test('does not wait for a member not heard for longer than the keep time', () => {
    const away = member('b', 1, { lastSeenMs: NOW - HOUR - 1 })
    assert.equal(floorCandidate(inputs([member('a', 5), away])), NOW - 100)
  })

  test('waits for a member heard exactly the keep time ago', () => {
    const b = member('b', 1, { lastSeenMs: NOW - HOUR })
    assert.equal(floorCandidate(inputs([member('a', 5), b])), NOW - 5000 - 100)
  })

  test('moves with the clock alone once everyone is up to date', () => {
    const members = [member('a', 5)]
    assert.equal(floorCandidate(inputs(members, { now: NOW + 60_000 })), NOW + 60_000 - 100)
  })

  test('never goes below 0', () => {
    assert.equal(floorCandidate(inputs([], { now: 50 })), 0)
  })
})

describe('the oldest version a waited member applied', () => {
  test('is the oldest among the members heard within the keep time', () => {
    const away = member('c', 1, { lastSeenMs: NOW - HOUR - 1 })
    assert.deepEqual(oldestWaited(inputs([member('a', 5), member('b', 3), away])), { term: 3, seq: 3 })
  })
})

describe('a tombstone', () => {
  test('is collectable once stamped before the floor', () => {
    assert.equal(collectable(entry('k', 99, false), 100), true)
  })

  test('stamped at the floor or after is kept', () => {
    assert.equal(collectable(entry('k', 100, false), 100), false)
  })

  test('a present entry is never collected', () => {
    assert.equal(collectable(entry('k', 1, true), 100), false)
  })
})

describe('entries from elsewhere, screened against the floor', () => {
  test('an entry before the floor for a key not held is refused: its tombstone may be gone', () => {
    const out = screenIncoming([entry('gone', 50)], 100, () => undefined, 500)
    assert.deepEqual(out, { entries: [], refused: 1, raised: 0 })
  })

  test('an entry before the floor for a held key is merged as a new change, stamped now, counter and node id kept', () => {
    const late = { ...entry('k', 50, false), stamp: { wallMs: 50, counter: 7, nodeId: 'x' } }
    const out = screenIncoming([late], 100, () => entry('k', 10), 500)
    assert.deepEqual(out.entries, [{ ...late, stamp: { wallMs: 500, counter: 7, nodeId: 'x' } }])
    assert.equal(out.raised, 1)
  })

  test('an entry before the floor that loses to the held one passes as it is', () => {
    const e = entry('k', 50)
    assert.deepEqual(screenIncoming([e], 100, () => entry('k', 80, false), 500), { entries: [e], refused: 0, raised: 0 })
  })

  test('an entry at the floor or after passes as it is', () => {
    const e = entry('new', 100)
    assert.deepEqual(screenIncoming([e], 100, () => undefined, 500), { entries: [e], refused: 0, raised: 0 })
  })

  test('nothing is screened before a first floor', () => {
    const e = entry('old', 1)
    assert.deepEqual(screenIncoming([e], 0, () => undefined, 500).entries, [e])
  })
})

describe('what a node that was away holds and the master full state lacks', () => {
  type Own = Entry & { own: boolean }
  const own = (e: Entry, isOwn: boolean): Own => ({ ...e, own: isOwn })
  const carried = new Set(['kept'])
  const sort = (local: Own[], floor = 100): ReturnType<typeof sortStale<Own>> => sortStale(local, k => carried.has(k), floor, e => e.own)

  test('an entry from before the floor is dropped: it was deleted while the node was away', () => {
    assert.deepEqual(sort([own(entry('deleted', 50), false)]).drop, ['deleted'])
  })

  test('an entry the full state carries is kept', () => {
    assert.deepEqual(sort([own(entry('kept', 50), false)]), { drop: [], restamp: [] })
  })

  test('an entry from after the floor is kept: it is newer than any dropped tombstone', () => {
    assert.deepEqual(sort([own(entry('recent', 100), false)]), { drop: [], restamp: [] })
  })

  test('an own edit the master never acknowledged is stamped anew, not dropped', () => {
    const e = own(entry('offline-add', 50), true)
    assert.deepEqual(sort([e]), { drop: [], restamp: [e] })
  })

  test('an own delete the master never acknowledged of a key it does not hold deletes nothing: dropped', () => {
    assert.deepEqual(sort([own(entry('offline-delete', 50, false), true)]).drop, ['offline-delete'])
  })

  test('nothing is dropped before a first floor', () => {
    assert.deepEqual(sort([own(entry('deleted', 50), false)], 0), { drop: [], restamp: [] })
  })
})
