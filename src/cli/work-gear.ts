/**
 * V8's lean flags lifted while the agent does large work, and set again once it is quiet.
 * bin/spamsync.js starts the agent with --optimize-for-size and --no-turbofan for its idle
 * footprint (6 MB less empty, 75-95 MB less holding the 121k-line list), and they more than double
 * the CPU time of every per-line step of a sync: read + merge of the 121k-line list into an empty
 * replica, in process, took 640 + 870 ms CPU with them and 225 + 290 ms with both turned off at
 * run time by v8.setFlagsFromString (V8 reads them as it goes: the heap's growth at each
 * collection, TurboFan at each tier-up). Most of it is the heap's growth, which costs an idle
 * agent nothing once collected: the hint of large work (src/work-ahead.ts) lifts it (see
 * WORK_HEAP_GROWING_PERCENT), and once the process used no CPU time beyond the idle share for
 * QUIET_MS it is set again, before the full collection of src/cli/collect-when-quiet.ts (10 s).
 */
import { setFlagsFromString } from 'node:v8'
import { CHECK_EVERY_MS, IDLE_SHARE, processParts } from './compilers-when-busy.js'
import { trace } from '../trace.js'

/**
 * How much the old generation may grow past what a collection left while working. The lean
 * flag's cost is mostly V8's heap growth under --optimize-for-size (at most 1.3x, so a full
 * collection every few MB of a merge): with --no-optimize-for-size the merge took half the CPU
 * time, but the busiest agent of a 121k-line sync peaked at 172-193 MB of RSS (issue 17's
 * target: 160); with 50% it peaked at 150 MB.
 */
export const WORK_HEAP_GROWING_PERCENT = 50

/**
 * V8's flags bin/spamsync.js may start the agent with for an idle footprint: its spelling of each
 * and the opposite (which the operator may have given instead), and what is set to lift it for
 * work and to lower it again. --optimize-for-size itself stays: only the heap's growth under it
 * is lifted (0 is V8's default, its own growth). --no-turbofan stays too: TurboFan lifted with it
 * saved little more CPU time (read + merge of 121k lines 460 + 540 against 450 + 580 ms, in
 * process) and its code in the node binary stays resident once used (idle RSS after a 121k-line
 * sync 72.4 -> 77.9 MB, all of it file-backed, bench/footprint.ts --drop).
 */
export const LEAN_FLAGS = {
  'optimize-for-size': { spelling: '--optimize-for-size', opposite: '--no-optimize-for-size', lift: `--heap-growing-percent=${WORK_HEAP_GROWING_PERCENT}`, lower: '--heap-growing-percent=0' }
} as const

/** One of them, by its V8 name. */
export type LeanFlag = keyof typeof LEAN_FLAGS

/** The environment variable in which bin/spamsync.js names the lean flags it set (comma-separated). */
export const LEAN_WHEN_IDLE_ENV = 'SPAMSYNC_LEAN_WHEN_IDLE'

/** Quiet time after which the lean flags are set again: the pauses within a sync (an origin waiting for the master's merge) are shorter at 121k lines. */
export const QUIET_MS = 4_000

/** What the gear needs of the process; tests give fakes. */
export interface GearParts {
  /** CPU time (user + system) the process used so far, ms. */
  cpuMs: () => number
  /** A monotonic clock, ms. */
  now: () => number
  /** Sets V8 flags. */
  setFlags: (flags: string) => void
  /** Calls `tick` every `ms` without keeping the process alive; `stop` ends it. */
  every: (ms: number, tick: () => void) => { stop: () => void }
}

/** The gear: `work` when large work is ahead, `stop` when the agent stops. */
export interface WorkGear {
  work: () => void
  stop: () => void
}

/** The parts of this process: its CPU time, clock and unref'd interval as the compiler switch has them, and V8's flags. */
export function gearParts (): GearParts {
  const { cpuMs, now, every } = processParts()
  return {
    cpuMs,
    now,
    setFlags: (flags) => {
      trace('v8-flags', flags)
      setFlagsFromString(flags)
    },
    every
  }
}

/**
 * The lean flags to lift for work: those bin/spamsync.js named in the environment and node still
 * runs with (its last spelling of the flag is the idle one); never one the operator set himself,
 * nor one whose lifting flag he gave node (his own --heap-growing-percent stays).
 */
export function leanFlags (env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): LeanFlag[] {
  const named = (env[LEAN_WHEN_IDLE_ENV] ?? '').split(',')
  return (Object.keys(LEAN_FLAGS) as LeanFlag[]).filter(f => {
    const { spelling, opposite, lift } = LEAN_FLAGS[f]
    const lifter = lift.split('=')[0]
    return named.includes(f) && execArgv.lastIndexOf(spelling) > execArgv.lastIndexOf(opposite) && !execArgv.some(a => a.split('=')[0] === lifter)
  })
}

/**
 * Lifts `flags` at `work()` and sets them again once the checks, every CHECK_EVERY_MS, saw no CPU
 * time beyond IDLE_SHARE of their interval for QUIET_MS. The checks run only while lifted.
 */
export function workGear (flags: readonly LeanFlag[], parts: GearParts = gearParts()): WorkGear {
  const set = (side: 'lift' | 'lower'): void => { parts.setFlags(flags.map(f => LEAN_FLAGS[f][side]).join(' ')) }
  let watch: { stop: () => void } | null = null
  let cpu = 0
  let at = 0
  let quietSince = 0
  const tick = (): void => {
    const cpuNow = parts.cpuMs()
    const now = parts.now()
    if (cpuNow - cpu > IDLE_SHARE * (now - at)) quietSince = now
    cpu = cpuNow
    at = now
    if (now - quietSince < QUIET_MS) return
    set('lower')
    watch?.stop()
    watch = null
  }
  return {
    work: () => {
      if (flags.length === 0) return
      cpu = parts.cpuMs()
      at = quietSince = parts.now()
      if (watch !== null) return
      set('lift')
      watch = parts.every(CHECK_EVERY_MS, tick)
    },
    stop: () => {
      watch?.stop()
      watch = null
    }
  }
}
