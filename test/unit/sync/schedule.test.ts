import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startSchedule, HOUR_MS, NODE_TIMERS, type ScheduleTimers } from '../../../src/sync/schedule.js'

/** Timers that only fire when the test says so. */
class FakeTimers implements ScheduleTimers {
  readonly active = new Map<number, { fn: () => void, ms: number }>()
  private next = 1

  setInterval = (fn: () => void, ms: number): unknown => {
    const id = this.next++
    this.active.set(id, { fn, ms })
    return id
  }

  clearInterval = (handle: unknown): void => { this.active.delete(handle as number) }

  /** Fires every timer with this interval once. */
  fire (ms: number): void {
    for (const t of this.active.values()) if (t.ms === ms) t.fn()
  }
}

/** Lets pending promise callbacks run. */
async function settle (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

test('each job with an interval gets a timer of that many ms; a job at 0 is off', () => {
  const timers = new FakeTimers()
  startSchedule([
    { name: 'up', intervalMs: 24 * HOUR_MS, run: async () => {} },
    { name: 'down', intervalMs: 0, run: async () => {} }
  ], () => {}, timers)
  assert.deepEqual([...timers.active.values()].map(t => t.ms), [24 * HOUR_MS])
})

test('a due job runs, and again at the next beat', async () => {
  const timers = new FakeTimers()
  const runs: string[] = []
  startSchedule([
    { name: 'up', intervalMs: 2 * HOUR_MS, run: async () => { runs.push('up') } },
    { name: 'down', intervalMs: 3 * HOUR_MS, run: async () => { runs.push('down') } }
  ], () => {}, timers)
  timers.fire(2 * HOUR_MS)
  await settle()
  timers.fire(3 * HOUR_MS)
  await settle()
  timers.fire(2 * HOUR_MS)
  await settle()
  assert.deepEqual(runs, ['up', 'down', 'up'])
})

test('a beat while the previous run still goes is skipped, not stacked', async () => {
  const timers = new FakeTimers()
  let runs = 0
  let finish = (): void => {}
  startSchedule([{ name: 'up', intervalMs: HOUR_MS, run: async () => { runs++; await new Promise<void>(resolve => { finish = resolve }) } }], () => {}, timers)
  timers.fire(HOUR_MS)
  timers.fire(HOUR_MS)
  await settle()
  assert.equal(runs, 1)
  finish()
  await settle()
  timers.fire(HOUR_MS)
  await settle()
  assert.equal(runs, 2)
})

test('a failing run is reported by name and the schedule goes on', async () => {
  const timers = new FakeTimers()
  const errors: Array<[string, unknown]> = []
  let runs = 0
  startSchedule([{ name: 'scheduled upload', intervalMs: HOUR_MS, run: async () => { runs++; throw new Error('boom') } }], (name, err) => { errors.push([name, err]) }, timers)
  timers.fire(HOUR_MS)
  await settle()
  timers.fire(HOUR_MS)
  await settle()
  assert.equal(runs, 2)
  assert.equal(errors.length, 2)
  assert.equal(errors[0][0], 'scheduled upload')
  assert.match(String(errors[0][1]), /boom/)
})

test('stop clears every timer', () => {
  const timers = new FakeTimers()
  const stop = startSchedule([
    { name: 'up', intervalMs: HOUR_MS, run: async () => {} },
    { name: 'down', intervalMs: 2 * HOUR_MS, run: async () => {} }
  ], () => {}, timers)
  assert.equal(timers.active.size, 2)
  stop()
  assert.equal(timers.active.size, 0)
})

test('the real timers are unref()ed: a schedule alone does not keep the process alive', () => {
  const handle = NODE_TIMERS.setInterval(() => {}, HOUR_MS) as NodeJS.Timeout
  assert.equal(handle.hasRef(), false)
  NODE_TIMERS.clearInterval(handle)
})
