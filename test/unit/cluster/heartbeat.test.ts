/** One tick of the agent's heartbeat (src/cluster/heartbeat.ts): what it drives, each part guarded apart. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { heartbeatTick } from '../../../src/cluster/heartbeat.js'
import { REDIAL_INTERVAL_MS } from '../../../src/cluster/peer-directory.js'
import { onHeartbeat } from '../../../src/heartbeats.js'

const INTERVAL = 1000

function ticked (election: () => void = () => {}): { tick: () => void, calls: string[] } {
  const calls: string[] = []
  const tick = heartbeatTick({
    intervalMs: INTERVAL,
    election: { tick: () => { calls.push('election'); election() } },
    engine: { tick: () => { calls.push('engine') } },
    peers: { redial: () => { calls.push('redial') } },
    report: (what) => { calls.push(`report ${what}`) }
  })
  return { tick, calls }
}

test('every tick drives the election, the engine and the CPU checks; the redial every REDIAL_INTERVAL_MS', () => {
  const { tick, calls } = ticked()
  let checks = 0
  const stop = onHeartbeat(() => { checks++ })
  try {
    const n = 2 * REDIAL_INTERVAL_MS / INTERVAL
    for (let i = 0; i < n; i++) tick()
    assert.equal(calls.filter(c => c === 'election').length, n)
    assert.equal(calls.filter(c => c === 'engine').length, n)
    assert.equal(calls.filter(c => c === 'redial').length, 2)
    assert.equal(checks, n)
  } finally {
    stop()
  }
})

test('a part that throws is reported, and the others still tick', () => {
  const { tick, calls } = ticked(() => { throw new Error('boom') })
  let checks = 0
  const stop = onHeartbeat(() => { checks++ })
  try {
    tick()
    assert.deepEqual(calls.slice(0, 3), ['election', 'report election tick', 'engine'])
    assert.equal(checks, 1)
  } finally {
    stop()
  }
})
