/** One full collection once the agent is quiet after work (src/cli/collect-when-quiet.ts), with a fake clock, CPU meter and timer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CHECK_EVERY_MS, IDLE_SHARE } from '../../../src/cli/compilers-when-busy.js'
import { QUIET_MS, WORK_MS, collectParts, collectWhenQuiet, type CollectParts } from '../../../src/cli/collect-when-quiet.js'

/** A process whose CPU time and clock the test moves, and whose timer it fires. */
function fakeProcess (): { parts: CollectParts, run: (cpuMs: number, wallMs: number) => void, idle: (ms: number) => void, collections: () => number, ticking: () => boolean, letGo: () => void, hinted: () => boolean } {
  let cpu = 500
  let now = 10_000
  let collections = 0
  let tick: (() => void) | null = null
  let garbage: (() => void) | null = null
  const run = (cpuMs: number, wallMs: number): void => { cpu += cpuMs; now += wallMs; tick?.() }
  return {
    parts: {
      onGarbage: (fn) => {
        garbage = fn
        return () => { garbage = null }
      },
      cpuMs: () => cpu,
      now: () => now,
      collect: () => { collections++ },
      every: (ms, fn) => {
        assert.equal(ms, CHECK_EVERY_MS)
        tick = fn
        return { stop: () => { tick = null } }
      }
    },
    run,
    // Checks that each see 90% of the idle share.
    idle: (ms) => { for (let t = 0; t < ms; t += CHECK_EVERY_MS) run(IDLE_SHARE * CHECK_EVERY_MS * 0.9, CHECK_EVERY_MS) },
    collections: () => collections,
    ticking: () => tick !== null,
    letGo: () => { garbage?.() },
    hinted: () => garbage !== null
  }
}

test('an agent that never works never collects', () => {
  const p = fakeProcess()
  collectWhenQuiet(p.parts)
  p.idle(3_600_000)
  assert.equal(p.collections(), 0)
})

test('work is collected after once the agent has been quiet for QUIET_MS, and only once', () => {
  const p = fakeProcess()
  collectWhenQuiet(p.parts)
  p.run(WORK_MS * 4, CHECK_EVERY_MS)
  p.idle(QUIET_MS - CHECK_EVERY_MS)
  assert.equal(p.collections(), 0)
  p.idle(CHECK_EVERY_MS)
  assert.equal(p.collections(), 1)
  p.idle(3_600_000)
  assert.equal(p.collections(), 1)
})

test('work in between starts the quiet time again', () => {
  const p = fakeProcess()
  collectWhenQuiet(p.parts)
  p.run(WORK_MS * 4, CHECK_EVERY_MS)
  p.idle(QUIET_MS - 2 * CHECK_EVERY_MS)
  p.run(WORK_MS, CHECK_EVERY_MS)
  p.idle(QUIET_MS - CHECK_EVERY_MS)
  assert.equal(p.collections(), 0)
  p.idle(CHECK_EVERY_MS)
  assert.equal(p.collections(), 1)
})

test('work below WORK_MS, even summed over many checks, is not worth a collection until it reaches it', () => {
  const p = fakeProcess()
  collectWhenQuiet(p.parts)
  const bit = WORK_MS / 5
  for (let i = 0; i < 4; i++) {
    p.run(bit + IDLE_SHARE * CHECK_EVERY_MS, CHECK_EVERY_MS)
    p.idle(QUIET_MS * 2)
  }
  assert.equal(p.collections(), 0)
  p.run(bit + IDLE_SHARE * CHECK_EVERY_MS, CHECK_EVERY_MS)
  p.idle(QUIET_MS)
  assert.equal(p.collections(), 1)
})

test('new work after a collection is collected after again', () => {
  const p = fakeProcess()
  collectWhenQuiet(p.parts)
  p.run(WORK_MS * 2, CHECK_EVERY_MS)
  p.idle(QUIET_MS)
  p.run(WORK_MS * 2, CHECK_EVERY_MS)
  p.idle(QUIET_MS)
  assert.equal(p.collections(), 2)
})

test('large buffers let go while quiet are collected at the next check, without any work', () => {
  const p = fakeProcess()
  collectWhenQuiet(p.parts)
  p.idle(QUIET_MS * 3)
  p.letGo()
  assert.equal(p.collections(), 0)
  p.idle(CHECK_EVERY_MS)
  assert.equal(p.collections(), 1)
  p.idle(QUIET_MS * 3)
  assert.equal(p.collections(), 1)
})

test('large buffers let go during work are collected at the first quiet check after it', () => {
  const p = fakeProcess()
  collectWhenQuiet(p.parts)
  p.letGo()
  p.run(WORK_MS / 10 + IDLE_SHARE * CHECK_EVERY_MS, CHECK_EVERY_MS)
  assert.equal(p.collections(), 0)
  p.idle(CHECK_EVERY_MS)
  assert.equal(p.collections(), 1)
})

test('a stopped watch no longer ticks nor listens for buffers let go', () => {
  const p = fakeProcess()
  const stop = collectWhenQuiet(p.parts)
  stop()
  assert.equal(p.ticking(), false)
  assert.equal(p.hinted(), false)
})

test('the process parts collect for real without the agent started with --expose-gc', async () => {
  const parts = collectParts()
  const ref = ((): WeakRef<object> => new WeakRef({ garbage: new Uint8Array(1024) }))()
  // A WeakRef made in this job keeps its target until the job ends.
  await new Promise(resolve => setImmediate(resolve))
  parts.collect()
  assert.equal(ref.deref(), undefined)
})
