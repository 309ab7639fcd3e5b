/** Sparkplug and Maglev turned on once the agent works (src/cli/compilers-when-busy.ts), with a fake clock, CPU meter and timer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CHECK_EVERY_MS, COMPILERS_WHEN_BUSY_ENV, IDLE_SHARE, START_BUDGET_MS, WORK_BUDGET_MS, compilersWhenBusy, deferredCompilers, everyOnHeartbeat, type CompilerSwitchParts, type DeferredCompiler, type TickSources } from '../../../src/cli/compilers-when-busy.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../../../src/election/state.js'

/** A process whose CPU time and clock the test moves, and whose timer it fires. */
function fakeProcess (): { parts: CompilerSwitchParts, run: (cpuMs: number, wallMs: number) => void, on: DeferredCompiler[], ticking: () => boolean } {
  let cpu = 500
  let now = 10_000
  const on: DeferredCompiler[] = []
  let tick: (() => void) | null = null
  return {
    parts: {
      cpuMs: () => cpu,
      now: () => now,
      turnOn: (c) => { on.push(c) },
      every: (ms, fn) => {
        assert.equal(ms, CHECK_EVERY_MS)
        tick = fn
        return { stop: () => { tick = null } }
      }
    },
    run: (cpuMs, wallMs) => { cpu += cpuMs; now += wallMs; tick?.() },
    on,
    ticking: () => tick !== null
  }
}

test('an agent that stays idle never turns the compilers on', () => {
  const p = fakeProcess()
  compilersWhenBusy(['sparkplug', 'maglev'], p.parts)
  for (let i = 0; i < 10_000; i++) p.run(IDLE_SHARE * CHECK_EVERY_MS * 0.9, CHECK_EVERY_MS)
  assert.deepEqual(p.on, [])
})

test('CPU time beyond the start budget turns each compiler on once, and the watch ends', () => {
  const p = fakeProcess()
  compilersWhenBusy(['sparkplug', 'maglev'], p.parts)
  p.run(START_BUDGET_MS / 2, CHECK_EVERY_MS)
  assert.deepEqual(p.on, [])
  p.run(START_BUDGET_MS / 2 + IDLE_SHARE * 2 * CHECK_EVERY_MS, CHECK_EVERY_MS)
  assert.deepEqual(p.on, ['sparkplug', 'maglev'])
  assert.equal(p.ticking(), false)
})

test('once the agent has started and been quiet for a check, the work budget counts, and the start\'s CPU time does not', () => {
  const p = fakeProcess()
  const watch = compilersWhenBusy(['maglev'], p.parts)
  p.run(START_BUDGET_MS * 0.9, CHECK_EVERY_MS)
  watch.started()
  p.run(0, CHECK_EVERY_MS)
  p.run(WORK_BUDGET_MS / 2, CHECK_EVERY_MS)
  assert.deepEqual(p.on, [])
  p.run(WORK_BUDGET_MS / 2 + IDLE_SHARE * 2 * CHECK_EVERY_MS, CHECK_EVERY_MS)
  assert.deepEqual(p.on, ['maglev'])
})

test('joining a cluster right after the start counts against the start budget, until the first quiet check', () => {
  const p = fakeProcess()
  const watch = compilersWhenBusy(['maglev'], p.parts)
  watch.started()
  // The work of a join: several times the work budget, spread over checks, never quiet.
  for (let i = 0; i < 4; i++) p.run(IDLE_SHARE * CHECK_EVERY_MS + START_BUDGET_MS / 5, CHECK_EVERY_MS)
  assert.deepEqual(p.on, [])
  p.run(IDLE_SHARE * CHECK_EVERY_MS + START_BUDGET_MS / 5, CHECK_EVERY_MS)
  assert.deepEqual(p.on, ['maglev'])
})

test('idle time earns no credit: work after a long idle spell turns the compilers on as soon', () => {
  const p = fakeProcess()
  compilersWhenBusy(['maglev'], p.parts).started()
  for (let i = 0; i < 10_000; i++) p.run(0, CHECK_EVERY_MS)
  p.run(WORK_BUDGET_MS + IDLE_SHARE * CHECK_EVERY_MS, CHECK_EVERY_MS)
  assert.deepEqual(p.on, ['maglev'])
})

test('CPU time used before the watch started does not count', () => {
  const p = fakeProcess()
  p.run(10 * START_BUDGET_MS, 0)
  compilersWhenBusy(['maglev'], p.parts)
  p.run(0, CHECK_EVERY_MS)
  assert.deepEqual(p.on, [])
})

test('only the compilers bin/spamsync.js named and node runs without are deferred', () => {
  const env = { [COMPILERS_WHEN_BUSY_ENV]: 'sparkplug,maglev' }
  assert.deepEqual(deferredCompilers(env, ['--no-sparkplug', '--no-maglev']), ['sparkplug', 'maglev'])
  assert.deepEqual(deferredCompilers(env, ['--no-sparkplug', '--no-maglev', '--maglev']), ['sparkplug'])
  assert.deepEqual(deferredCompilers({}, ['--no-sparkplug', '--no-maglev']), [])
  assert.deepEqual(deferredCompilers({ [COMPILERS_WHEN_BUSY_ENV]: 'turbofan,maglev' }, ['--no-turbofan', '--no-maglev']), ['maglev'])
})

/** Tick sources whose clock, interval and heartbeat the test drives. */
function fakeSources (): { sources: TickSources, at: (ms: number) => void, fireInterval: () => void, heartbeat: () => void, intervals: () => number, listeners: () => number } {
  let now = 0
  let interval: (() => void) | null = null
  const listeners = new Set<() => void>()
  return {
    sources: {
      now: () => now,
      interval: (_ms, fn) => {
        interval = fn
        return { stop: () => { interval = null } }
      },
      onHeartbeat: (fn) => {
        listeners.add(fn)
        return () => { listeners.delete(fn) }
      }
    },
    at: (ms) => { now = ms },
    fireInterval: () => { interval?.() },
    heartbeat: () => { for (const fn of listeners) fn() },
    intervals: () => interval === null ? 0 : 1,
    listeners: () => listeners.size
  }
}

test('the checks run on their own timer until the first heartbeat, then on the heartbeats CHECK_EVERY_MS apart, with no timer of their own', () => {
  const f = fakeSources()
  const calls: number[] = []
  let now = 0
  const watch = everyOnHeartbeat(CHECK_EVERY_MS, () => { calls.push(now) }, f.sources)
  f.at(now = CHECK_EVERY_MS)
  f.fireInterval()
  assert.equal(calls.length, 1)
  for (let beat = 1; beat <= 6; beat++) {
    f.at(now = CHECK_EVERY_MS + beat * DEFAULT_HEARTBEAT_INTERVAL_MS)
    f.heartbeat()
  }
  assert.equal(f.intervals(), 0)
  // A heartbeat up to half an interval early counts as on time.
  const gaps = calls.slice(1).map((t, i) => t - calls[i])
  assert.ok(gaps.length >= 2 && gaps.every(g => g >= CHECK_EVERY_MS - DEFAULT_HEARTBEAT_INTERVAL_MS / 2 && g < CHECK_EVERY_MS + DEFAULT_HEARTBEAT_INTERVAL_MS), `checks at ${calls.join(', ')} ms`)
  const checks = calls.length
  watch.stop()
  f.heartbeat()
  assert.equal(calls.length, checks)
  assert.equal(f.listeners(), 0)
})

test('a check may stop its own watch from within, also on a heartbeat', () => {
  const f = fakeSources()
  let calls = 0
  const watch = everyOnHeartbeat(CHECK_EVERY_MS, () => { calls++; watch.stop() }, f.sources)
  f.at(CHECK_EVERY_MS)
  f.heartbeat()
  f.at(3 * CHECK_EVERY_MS)
  f.heartbeat()
  assert.equal(calls, 1)
  assert.equal(f.listeners(), 0)
})
