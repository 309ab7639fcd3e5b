/**
 * When a node's heartbeat ticks (election-v1.md, "Heartbeat pace"). The master ticks on its own
 * timer, every interval. A slave ticks right after it takes its master's beat, in the same wakeup
 * of the process, and its timer ticks only when the beat is late: on a timer of its own a slave
 * woke twice a second, once for the beat and once for its tick at a phase of its own, and each
 * wakeup of an idle agent runs cold code (strace of a slave of 10: the beat at .59 s, the tick at
 * .12 s of every second). Pure: the clock and the timer are given.
 */

/** How late a beat may come before the slave's timer ticks without it: a quarter of the interval. */
export const BEAT_GRACE_SHARE = 0.25

/** A beat that comes sooner than this share of the interval after the last tick is no reason to tick again. */
export const MIN_TICK_SHARE = 0.5

/**
 * A one-shot timer: `cancel` stops it if it has not fired; `restart` runs it again, its delay from
 * now, whether or not it fired (node's timeout.refresh(): no new timer object, no async resource).
 */
export interface PaceTimer { cancel: () => void, restart: () => void }

/** What the pace runs on; the agent gives the process's clock and timers, tests fake ones. */
export interface PaceParts {
  intervalMs: number
  /** A monotonic clock, ms. */
  now: () => number
  /** Calls `fn` once after `ms`. */
  after: (ms: number, fn: () => void) => PaceTimer
  /** The heartbeat's work (election, engine, redial, the CPU checks). */
  tick: () => void
}

/** Ticks the heartbeat on the timer, or on the master's beat where one comes. */
export class HeartbeatPace {
  private timer: PaceTimer | null = null
  /** The delays the timer was made with: the same two again restart it rather than make a new one. */
  private armed = { ms: NaN, thenMs: NaN }
  private lastTick = -Infinity
  private running = false

  constructor (private readonly parts: PaceParts) {}

  /** Ticks every interval from now on (the first tick one interval from now). */
  start (): void {
    if (this.running) return
    this.running = true
    this.lastTick = this.parts.now()
    this.arm(this.parts.intervalMs)
  }

  stop (): void {
    this.running = false
    this.timer?.cancel()
    this.timer = null
  }

  /**
   * This node took its master's beat: it ticks now, unless it ticked less than MIN_TICK_SHARE of
   * an interval ago (an extra beat, as when the master announces a version, or one just after a
   * late beat's tick), and its timer waits for the next beat plus BEAT_GRACE_SHARE of an interval.
   * Without a beat by then it ticks, and from then on keeps the beats' phase: the ticks after a
   * master's last beat come 1 + BEAT_GRACE_SHARE, 2, 3, ... intervals after it, so a slave finds
   * a dead master silent for the window W as soon as it is (at 3 intervals, not 3.25).
   */
  beat (): void {
    if (!this.running) return
    if (this.parts.now() - this.lastTick >= MIN_TICK_SHARE * this.parts.intervalMs) this.fire()
    this.arm((1 + BEAT_GRACE_SHARE) * this.parts.intervalMs, (1 - BEAT_GRACE_SHARE) * this.parts.intervalMs)
  }

  private fire (): void {
    this.lastTick = this.parts.now()
    this.parts.tick()
  }

  /**
   * The timer ticks in `ms`, and then every interval, the first of them `thenMs` after that tick.
   * The same delays as the timer has are a restart: a slave's every beat and a master's every tick
   * arm it so, and a new timer each time (clearTimeout, setTimeout) was 3.5% of an idle slave's
   * CPU time in a 10-node cluster (perf).
   */
  private arm (ms: number, thenMs = this.parts.intervalMs): void {
    if (this.timer !== null && this.armed.ms === ms && this.armed.thenMs === thenMs) {
      this.timer.restart()
      return
    }
    this.timer?.cancel()
    this.armed = { ms, thenMs }
    this.timer = this.parts.after(ms, () => {
      if (!this.running) return
      this.arm(thenMs)
      this.fire()
    })
  }
}
