/** V8's lean flags lifted for large work and set again once the agent is quiet (src/cli/work-gear.ts), with a fake clock, CPU meter and timer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CHECK_EVERY_MS, IDLE_SHARE } from '../../../src/cli/compilers-when-busy.js'
import { LEAN_FLAGS, LEAN_WHEN_IDLE_ENV, QUIET_MS, leanFlags, workGear, type GearParts } from '../../../src/cli/work-gear.js'

const LIFTED = LEAN_FLAGS['optimize-for-size'].lift
const LOWERED = LEAN_FLAGS['optimize-for-size'].lower

/** A process whose CPU time and clock the test moves, and whose timer it fires. */
function fakeProcess (): { parts: GearParts, run: (cpuMs: number, wallMs: number) => void, set: string[], ticking: () => boolean } {
  let cpu = 500
  let now = 10_000
  const set: string[] = []
  let tick: (() => void) | null = null
  return {
    parts: {
      cpuMs: () => cpu,
      now: () => now,
      setFlags: (flags) => { set.push(flags) },
      every: (ms, fn) => {
        assert.equal(ms, CHECK_EVERY_MS)
        assert.equal(tick, null, 'one check at a time')
        tick = fn
        return { stop: () => { tick = null } }
      }
    },
    run: (cpuMs, wallMs) => { cpu += cpuMs; now += wallMs; tick?.() },
    set,
    ticking: () => tick !== null
  }
}

const busy = CHECK_EVERY_MS / 2
const idle = IDLE_SHARE * CHECK_EVERY_MS * 0.9

test('an agent that never has large work keeps its lean flags and runs no check', () => {
  const p = fakeProcess()
  workGear(['optimize-for-size'], p.parts)
  assert.deepEqual(p.set, [])
  assert.equal(p.ticking(), false)
})

test('large work lifts the lean flags at once', () => {
  const p = fakeProcess()
  workGear(['optimize-for-size'], p.parts).work()
  assert.deepEqual(p.set, [LIFTED])
})

test('the flags are lowered once the agent has been quiet for QUIET_MS, and the check ends', () => {
  const p = fakeProcess()
  workGear(['optimize-for-size'], p.parts).work()
  p.run(busy, CHECK_EVERY_MS)
  for (let quiet = 0; quiet + CHECK_EVERY_MS < QUIET_MS; quiet += CHECK_EVERY_MS) p.run(idle, CHECK_EVERY_MS)
  assert.deepEqual(p.set, [LIFTED])
  p.run(idle, CHECK_EVERY_MS)
  assert.deepEqual(p.set, [LIFTED, LOWERED])
  assert.equal(p.ticking(), false)
})

test('work within the quiet time keeps the flags lifted', () => {
  const p = fakeProcess()
  workGear(['optimize-for-size'], p.parts).work()
  for (let i = 0; i < 20; i++) {
    p.run(idle, CHECK_EVERY_MS)
    p.run(busy, CHECK_EVERY_MS)
  }
  assert.deepEqual(p.set, [LIFTED])
})

test('a hint while lifted sets nothing again and restarts the quiet time', () => {
  const p = fakeProcess()
  const gear = workGear(['optimize-for-size'], p.parts)
  gear.work()
  p.run(idle, QUIET_MS - CHECK_EVERY_MS)
  gear.work()
  p.run(idle, CHECK_EVERY_MS)
  assert.deepEqual(p.set, [LIFTED])
  p.run(idle, QUIET_MS)
  assert.deepEqual(p.set, [LIFTED, LOWERED])
})

test('work after the flags were lowered lifts them again', () => {
  const p = fakeProcess()
  const gear = workGear(['optimize-for-size'], p.parts)
  gear.work()
  p.run(idle, QUIET_MS)
  gear.work()
  assert.deepEqual(p.set, [LIFTED, LOWERED, LIFTED])
  assert.equal(p.ticking(), true)
})

test('with no lean flag to lift, work sets nothing', () => {
  const p = fakeProcess()
  workGear([], p.parts).work()
  assert.deepEqual(p.set, [])
  assert.equal(p.ticking(), false)
})

test('stop ends the check', () => {
  const p = fakeProcess()
  const gear = workGear(['optimize-for-size'], p.parts)
  gear.work()
  gear.stop()
  assert.equal(p.ticking(), false)
})

test('only the lean flags bin/spamsync.js named and node still runs with are lifted', () => {
  const env = { [LEAN_WHEN_IDLE_ENV]: 'optimize-for-size' }
  assert.deepEqual(leanFlags(env, ['--optimize-for-size', '--no-turbofan']), ['optimize-for-size'])
  assert.deepEqual(leanFlags(env, ['--optimize-for-size', '--no-optimize-for-size']), [])
  assert.deepEqual(leanFlags({}, ['--optimize-for-size', '--no-turbofan']), [])
  assert.deepEqual(leanFlags({ [LEAN_WHEN_IDLE_ENV]: 'turbofan' }, ['--optimize-for-size', '--no-turbofan']), [])
})

test('an operator\'s own --heap-growing-percent is left alone', () => {
  const env = { [LEAN_WHEN_IDLE_ENV]: 'optimize-for-size' }
  assert.deepEqual(leanFlags(env, ['--heap-growing-percent=20', '--optimize-for-size']), [])
})
