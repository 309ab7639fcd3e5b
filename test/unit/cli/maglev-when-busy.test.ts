/** Maglev turned on once the agent works (src/cli/maglev-when-busy.ts), with a fake clock, CPU meter and timer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CHECK_EVERY_MS, CPU_BUDGET_MS, IDLE_SHARE, maglevWhenBusy, startedWithoutMaglev, type MaglevSwitchParts } from '../../../src/cli/maglev-when-busy.js'

/** A process whose CPU time and clock the test moves, and whose timer it fires. */
function fakeProcess (): { parts: MaglevSwitchParts, run: (cpuMs: number, wallMs: number) => void, on: () => boolean, ticking: () => boolean } {
  let cpu = 500
  let now = 10_000
  let on = false
  let tick: (() => void) | null = null
  return {
    parts: {
      cpuMs: () => cpu,
      now: () => now,
      turnOn: () => { on = true },
      every: (ms, fn) => {
        assert.equal(ms, CHECK_EVERY_MS)
        tick = fn
        return { stop: () => { tick = null } }
      }
    },
    run: (cpuMs, wallMs) => { cpu += cpuMs; now += wallMs; tick?.() },
    on: () => on,
    ticking: () => tick !== null
  }
}

test('an agent that stays idle never turns Maglev on', () => {
  const p = fakeProcess()
  maglevWhenBusy(p.parts)
  for (let i = 0; i < 10_000; i++) p.run(IDLE_SHARE * CHECK_EVERY_MS * 0.9, CHECK_EVERY_MS)
  assert.equal(p.on(), false)
})

test('CPU time beyond the budget turns Maglev on once, and the watch ends', () => {
  const p = fakeProcess()
  maglevWhenBusy(p.parts)
  p.run(CPU_BUDGET_MS / 2, CHECK_EVERY_MS)
  assert.equal(p.on(), false)
  p.run(CPU_BUDGET_MS / 2 + IDLE_SHARE * 2 * CHECK_EVERY_MS, CHECK_EVERY_MS)
  assert.equal(p.on(), true)
  assert.equal(p.ticking(), false)
})

test('CPU time used before the watch started does not count', () => {
  const p = fakeProcess()
  p.run(10 * CPU_BUDGET_MS, 0)
  maglevWhenBusy(p.parts)
  p.run(0, CHECK_EVERY_MS)
  assert.equal(p.on(), false)
})

test('node counts as started without Maglev when its last Maglev flag says so', () => {
  assert.equal(startedWithoutMaglev(['--optimize-for-size', '--no-maglev']), true)
  assert.equal(startedWithoutMaglev(['--no-maglev', '--maglev']), false)
  assert.equal(startedWithoutMaglev([]), false)
})
