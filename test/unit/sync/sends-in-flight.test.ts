/** The sends a master's own file write waits for (src/sync/sends-in-flight.ts), with a fake timer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FETCH_ARRIVE_MAX_MS, fetchesToCome, SEND_FIRST_MAX_MS, SendsInFlight, type SendTimers } from '../../../src/sync/sends-in-flight.js'
import { Status } from '../../../src/pb/spamsync.js'

/** Timers the test fires by hand. */
function fakeTimers (): { timers: SendTimers, fire: () => void, pending: () => number[] } {
  const due = new Map<number, { fn: () => void, ms: number }>()
  let next = 0
  return {
    timers: {
      setTimeout: (fn, ms) => { due.set(++next, { fn, ms }); return next },
      clearTimeout: (h) => { due.delete(h as number) }
    },
    fire: () => { for (const [h, t] of [...due]) { due.delete(h); t.fn() } },
    pending: () => [...due.values()].map(t => t.ms)
  }
}

const settledYet = async (p: Promise<void>): Promise<boolean> => {
  let done = false
  void p.then(() => { done = true })
  for (let i = 0; i < 5; i++) await Promise.resolve()
  return done
}

test('with nothing being sent a write waits for nothing, and no timer is set', async () => {
  const t = fakeTimers()
  const sends = new SendsInFlight(t.timers)
  await sends.sent()
  assert.deepEqual(t.pending(), [])
})

test('a write waits until every send under way ended, then its timer is cleared', async () => {
  const t = fakeTimers()
  const sends = new SendsInFlight(t.timers)
  const [a, b] = [sends.begin(), sends.begin()]
  const wait = sends.sent()
  assert.equal(sends.waiting, true)
  assert.deepEqual(t.pending(), [SEND_FIRST_MAX_MS])
  a()
  a()
  assert.equal(await settledYet(wait), false, 'one send still under way (a second end of the first counts once)')
  b()
  assert.equal(await settledYet(wait), true)
  assert.equal(sends.waiting, false)
  assert.deepEqual(t.pending(), [])
  assert.equal(sends.count, 0)
})

test('a send that never ends holds a write for the bound only', async () => {
  const t = fakeTimers()
  const sends = new SendsInFlight(t.timers)
  sends.begin()
  const wait = sends.sent()
  assert.equal(await settledYet(wait), false)
  t.fire()
  assert.equal(await settledYet(wait), true)
  assert.equal(sends.count, 1)
})

test('an answer with an archive counts until released; one without, or a failed serve, not at all', async () => {
  const sends = new SendsInFlight(fakeTimers().timers)
  let released = 0
  const served = await sends.track(async () => ({ status: Status.OK, zip: new Uint8Array(3), release: () => { released++ } }))
  assert.equal(sends.count, 1)
  served.release?.()
  assert.equal(sends.count, 0)
  assert.equal(released, 1)
  await sends.track(async () => ({ status: Status.UP_TO_DATE }))
  await assert.rejects(sends.track(async () => { throw new Error('build failed') }), /build failed/)
  assert.equal(sends.count, 0)
})

const V2 = { term: 1, seq: 2 }

test('a write waits for the fetches of its version to begin, then for their sends to end', async () => {
  const t = fakeTimers()
  const sends = new SendsInFlight(t.timers)
  const wait = sends.sent({ version: V2, fetches: 2 })
  assert.deepEqual(t.pending().sort(), [FETCH_ARRIVE_MAX_MS, SEND_FIRST_MAX_MS].sort())
  sends.arrived({ term: 1, seq: 1 })
  sends.arrived(V2)
  const first = sends.begin()
  first()
  assert.equal(await settledYet(wait), false, 'one fetch of the version still to come')
  sends.arrived(V2)
  const second = sends.begin()
  assert.equal(await settledYet(wait), false, 'its send under way')
  second()
  assert.equal(await settledYet(wait), true)
  assert.deepEqual(t.pending(), [])
})

test('fetches that do not come hold a write for the arrival bound only', async () => {
  const t = fakeTimers()
  const sends = new SendsInFlight(t.timers)
  const wait = sends.sent({ version: V2, fetches: 1 })
  assert.equal(await settledYet(wait), false)
  t.fire()
  assert.equal(await settledYet(wait), true)
})

test('fetches to come: the members heard lately whose beacon names an older version', () => {
  const now = 100_000
  const members = [
    { nodeId: 'behind', applied: { term: 1, seq: 1 }, lastSeenMs: now - 500 },
    { nodeId: 'never applied', applied: null, lastSeenMs: now - 500 },
    { nodeId: 'up to date', applied: V2, lastSeenMs: now - 500 },
    { nodeId: 'silent', applied: { term: 1, seq: 1 }, lastSeenMs: now - 60_000 },
    { nodeId: 'never heard', applied: null, lastSeenMs: null }
  ]
  assert.equal(fetchesToCome(members, V2, now), 2)
})

test('fetches to come: not the slave whose upload the version holds when it applied the version before (it fetches once answered)', () => {
  const now = 100_000
  const members = [
    { nodeId: 'origin', applied: { term: V2.term, seq: V2.seq - 1 }, lastSeenMs: now - 500 },
    { nodeId: 'other', applied: { term: V2.term, seq: V2.seq - 1 }, lastSeenMs: now - 500 }
  ]
  assert.equal(fetchesToCome(members, V2, now, 'origin'), 1)
  assert.equal(fetchesToCome(members, V2, now), 2)
  // Further behind, the origin fetches at once.
  assert.equal(fetchesToCome([{ nodeId: 'origin', applied: null, lastSeenMs: now - 500 }], V2, now, 'origin'), 1)
})
