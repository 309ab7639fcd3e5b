/**
 * Maglev (V8's optimizing compiler; TurboFan is off, bin/spamsync.js) turned on the first time the
 * agent works, not at start. Left on, it costs an idle agent 3-4 MB of RSS that it never gives
 * back: the compiler's pages of the node binary, its compile zones left in malloc's arenas, and
 * the code it makes for the functions an idle agent runs every second, which reach its threshold
 * one after another over the first minutes (part of the idle growth). Where the agent works (a
 * large settings file, an archive, the Bayes DB), Maglev's code is several times faster than the
 * baseline tiers, so it is turned on for good once the process used CPU_BUDGET_MS of CPU time
 * beyond IDLE_SHARE of a core: V8 reads the flag at each tier-up, so loops already running are
 * optimized too (on-stack replacement). CPU time, not wall time: load on the host does not count.
 */
import { setFlagsFromString } from 'node:v8'

/** How often the CPU time is looked at; an idle agent wakes every second anyway. */
export const CHECK_EVERY_MS = 2_000

/** CPU time beyond the idle share that turns Maglev on: an empty agent's start takes 0.8-1.1 s, the first scan of a 121k-line list 3.7 s. */
export const CPU_BUDGET_MS = 2_000

/** Share of a core an idle agent may use without counting as working: one of a 10-node cluster uses 0.6-0.9%. */
export const IDLE_SHARE = 0.02

/** What the switch needs of the process; tests give fakes. */
export interface MaglevSwitchParts {
  /** CPU time (user + system) the process used so far, ms. */
  cpuMs: () => number
  /** A monotonic clock, ms. */
  now: () => number
  /** Turns Maglev on. */
  turnOn: () => void
  /** Calls `tick` every `ms` without keeping the process alive; `stop` ends it. */
  every: (ms: number, tick: () => void) => { stop: () => void }
}

/** The parts of this process: its CPU time, V8's flag, an unref'd interval. */
export function processParts (): MaglevSwitchParts {
  return {
    cpuMs: () => {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1000
    },
    now: () => performance.now(),
    turnOn: () => { setFlagsFromString('--maglev') },
    every: (ms, tick) => {
      const timer = setInterval(tick, ms)
      timer.unref()
      return { stop: () => { clearInterval(timer) } }
    }
  }
}

/** Whether node was started without Maglev (by bin/spamsync.js, or by the operator's --no-maglev). */
export function startedWithoutMaglev (execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.lastIndexOf('--no-maglev') > execArgv.lastIndexOf('--maglev')
}

/**
 * Watches the CPU time from now on and turns Maglev on once it exceeds CPU_BUDGET_MS beyond
 * IDLE_SHARE of the time passed; `stop` ends the watch (the agent stopped).
 */
export function maglevWhenBusy (parts: MaglevSwitchParts = processParts()): { stop: () => void } {
  const cpu0 = parts.cpuMs()
  const t0 = parts.now()
  const watch = parts.every(CHECK_EVERY_MS, () => {
    if (parts.cpuMs() - cpu0 - IDLE_SHARE * (parts.now() - t0) < CPU_BUDGET_MS) return
    parts.turnOn()
    watch.stop()
  })
  return watch
}
