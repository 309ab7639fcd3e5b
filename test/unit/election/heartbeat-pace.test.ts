/** The heartbeat's pace (src/election/heartbeat-pace.ts), on a fake clock and timer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BEAT_GRACE_SHARE, HeartbeatPace } from '../../../src/election/heartbeat-pace.js'

const I = 1000

/** A pace on a fake clock whose timers run as the test moves time; `ticks` are the tick times. */
function paced (): { pace: HeartbeatPace, ticks: number[], to: (t: number) => void, timers: () => number, made: () => number } {
  let now = 0
  const timers: Array<{ at: number, fn: () => void, live: boolean }> = []
  const ticks: number[] = []
  const pace = new HeartbeatPace({
    intervalMs: I,
    now: () => now,
    after: (ms, fn) => {
      const t = { at: now + ms, fn, live: true }
      timers.push(t)
      return { cancel: () => { t.live = false }, restart: () => { t.at = now + ms; t.live = true } }
    },
    tick: () => { ticks.push(now) }
  })
  const to = (t: number): void => {
    for (;;) {
      const due = timers.filter(x => x.live && x.at <= t).sort((a, b) => a.at - b.at)[0]
      if (due === undefined) break
      due.live = false
      now = due.at
      due.fn()
    }
    now = t
  }
  return { pace, ticks, to, timers: () => timers.filter(x => x.live).length, made: () => timers.length }
}

test('without beats (the master) it ticks every interval from its start', () => {
  const { pace, ticks, to } = paced()
  pace.start()
  to(3500)
  assert.deepEqual(ticks, [1000, 2000, 3000])
})

test('a slave ticks on its master\'s beat, in the same wakeup, and its timer does not tick between beats', () => {
  const { pace, ticks, to } = paced()
  pace.start()
  for (const at of [600, 1600, 2605, 3610]) {
    to(at)
    pace.beat()
  }
  to(3700)
  assert.deepEqual(ticks, [600, 1600, 2605, 3610])
})

test('after the master\'s last beat the ticks come at 1 + grace, then 2, 3 intervals after it: a dead master is found silent at W', () => {
  const { pace, ticks, to } = paced()
  pace.start()
  to(500)
  pace.beat()
  to(500 + 3 * I)
  assert.deepEqual(ticks, [500, 500 + (1 + BEAT_GRACE_SHARE) * I, 500 + 2 * I, 500 + 3 * I])
})

test('a beat soon after a tick (the start, an announcement, a late beat) does not tick again, and the next beat does', () => {
  const { pace, ticks, to } = paced()
  pace.start()
  to(600)
  pace.beat()
  to(900)
  pace.beat()
  to(1600)
  pace.beat()
  assert.deepEqual(ticks, [600, 1600])
})

test('a beat late past the grace: the timer ticks, the late beat does not, and the next beat ticks again', () => {
  const { pace, ticks, to } = paced()
  pace.start()
  to(600)
  pace.beat()
  to(600 + (1 + BEAT_GRACE_SHARE) * I + 50)
  pace.beat()
  to(600 + 2 * I + 100)
  pace.beat()
  to(600 + 3 * I + 100)
  pace.beat()
  assert.deepEqual(ticks, [600, 600 + (1 + BEAT_GRACE_SHARE) * I, 600 + 2 * I + 100, 600 + 3 * I + 100])
})

test('stopped, it neither ticks nor keeps a timer; a beat before the start does nothing', () => {
  const { pace, ticks, to, timers } = paced()
  pace.beat()
  assert.deepEqual(ticks, [])
  pace.start()
  to(1500)
  pace.stop()
  pace.beat()
  to(10_000)
  assert.deepEqual(ticks, [1000])
  assert.equal(timers(), 0)
})

test('a beat too soon to tick moves the timer too, but ticks stay under 2 intervals apart (the election\'s pause rule)', () => {
  const { pace, ticks, to } = paced()
  pace.start()
  to(600)
  pace.beat()
  to(600 + 0.49 * I)
  pace.beat()
  to(600 + 5 * I)
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i])
  assert.equal(gaps[0], 0.49 * I + (1 + BEAT_GRACE_SHARE) * I)
  assert.ok(gaps.every(g => g < 2 * I), String(gaps))
})

test('a slave\'s beats and a master\'s ticks restart one timer rather than make a new one each time', () => {
  const master = paced()
  master.pace.start()
  master.to(3500)
  assert.deepEqual(master.ticks, [1000, 2000, 3000])
  assert.equal(master.made(), 1)
  const slave = paced()
  slave.pace.start()
  for (const at of [600, 1600, 2605, 3610]) {
    slave.to(at)
    slave.pace.beat()
  }
  assert.deepEqual(slave.ticks, [600, 1600, 2605, 3610])
  // One from the start, one for the beats.
  assert.equal(slave.made(), 2)
  assert.equal(slave.timers(), 1)
})
