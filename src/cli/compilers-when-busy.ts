/**
 * V8's Sparkplug and Maglev compilers (TurboFan is off, bin/spamsync.js) turned on the first time
 * the agent works, not at start. Left on, they cost an idle agent 4-5 MB of RSS that it never gives
 * back: Maglev's pages of the node binary, its compile zones left in malloc's arenas, and the
 * code both make for the functions an idle agent runs every heartbeat, which reach their thresholds
 * one after another over the first minutes (the idle growth: a +3.3 MB step when Maglev compiles
 * the heartbeat's functions 8-9 minutes after start). Where the agent works (a large settings
 * file, an archive, the Bayes DB), their code is several times faster than the interpreter, so
 * they are turned on for good once the process used START_BUDGET_MS of CPU time beyond IDLE_SHARE
 * of a core while the agent starts (its own start must not count as work), WORK_BUDGET_MS once it
 * has started and been quiet for a check: V8 reads the flags at each tier-up, so loops already
 * running are optimized too (on-stack replacement). CPU time, not wall time: load on the host does
 * not count. Joining a cluster right after the start (dials, identify, introductions, the first
 * sync of empty settings) is part of the start: counted against WORK_BUDGET_MS it turned them on
 * in 9 of 10 agents of a 10-node cluster 1-5 s after each one's start (255-547 ms beyond the idle
 * share), which cost each 2.8-2.9 MB of idle RSS (70.5 against 67.6 MB) and saved no idle CPU
 * (0.242/0.267% against 0.232/0.259%, two A/B pairs of 10-node clusters). A large list or archive
 * still turns them on at once (src/work-ahead.ts, src/cli/commands/start.ts).
 */
import { setFlagsFromString } from 'node:v8'
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../election/state.js'
import { onHeartbeat } from '../heartbeats.js'
import { trace } from '../trace.js'

/** The compilers bin/spamsync.js may start node without, by their V8 flag names. */
export const DEFERRED_COMPILERS = ['sparkplug', 'maglev'] as const

/** One of them. */
export type DeferredCompiler = typeof DEFERRED_COMPILERS[number]

/** The environment variable in which bin/spamsync.js names the compilers it turned off (comma-separated). */
export const COMPILERS_WHEN_BUSY_ENV = 'SPAMSYNC_COMPILERS_WHEN_BUSY'

/** How often the CPU time is looked at: every other heartbeat once the agent runs (everyOnHeartbeat). */
export const CHECK_EVERY_MS = 2_000

/** CPU time beyond the idle share that turns them on while the agent starts: an empty agent's start takes 0.8-1.1 s, the first scan of a 121k-line list 3.7 s. */
export const START_BUDGET_MS = 2_000

/** The same once the agent has started and been quiet for a check: the first quarter second of any work goes without them. */
export const WORK_BUDGET_MS = 250

/** Share of a core an idle agent may use without counting as working: one of a 10-node cluster uses 0.6-0.9%. */
export const IDLE_SHARE = 0.02

/** What the switch needs of the process; tests give fakes. */
export interface CompilerSwitchParts {
  /** CPU time (user + system) the process used so far, ms. */
  cpuMs: () => number
  /** A monotonic clock, ms. */
  now: () => number
  /** Turns a compiler on. */
  turnOn: (compiler: DeferredCompiler) => void
  /** Calls `tick` every `ms` without keeping the process alive; `stop` ends it. */
  every: (ms: number, tick: () => void) => { stop: () => void }
}

/** The watch: `started` when the agent has started (WORK_BUDGET_MS from its first quiet check on), `stop` when it stops. */
export interface CompilerWatch {
  started: () => void
  stop: () => void
}

/** The parts of this process: its CPU time, V8's flags, an unref'd interval. */
export function processParts (): CompilerSwitchParts {
  return {
    cpuMs: () => {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1000
    },
    now: () => performance.now(),
    turnOn: (compiler) => { setFlagsFromString(`--${compiler}`) },
    every: (ms, tick) => everyOnHeartbeat(ms, tick)
  }
}

/** What everyOnHeartbeat runs on; tests give fakes. */
export interface TickSources {
  /** A monotonic clock, ms. */
  now: () => number
  /** Calls `fn` every `ms` without keeping the process alive; `stop` ends it. */
  interval: (ms: number, fn: () => void) => { stop: () => void }
  /** Calls `fn` at every heartbeat of the agent (src/heartbeats.ts); returns the function that stops it. */
  onHeartbeat: (fn: () => void) => () => void
}

/** This process's clock, unref'd intervals and heartbeat. */
export function processTickSources (): TickSources {
  return {
    now: () => performance.now(),
    interval: (ms, fn) => {
      const timer = setInterval(fn, ms)
      timer.unref()
      return { stop: () => { clearInterval(timer) } }
    },
    onHeartbeat
  }
}

/**
 * Calls `tick` every `ms`: on a timer of its own until the agent's heartbeat first ticks (the
 * start, which the checks must see too), then at the first heartbeat at least `ms` less half a
 * heartbeat after the last call, in a wakeup the agent makes anyway: on its own timer the check
 * woke an idle slave at a third phase of every 2 s (strace of a slave of 10). `stop` ends it.
 */
export function everyOnHeartbeat (ms: number, tick: () => void, sources: TickSources = processTickSources()): { stop: () => void } {
  let last = sources.now()
  let timer: { stop: () => void } | null = sources.interval(ms, () => {
    last = sources.now()
    tick()
  })
  const stopHeartbeat = sources.onHeartbeat(() => {
    timer?.stop()
    timer = null
    const now = sources.now()
    if (now - last < ms - DEFAULT_HEARTBEAT_INTERVAL_MS / 2) return
    last = now
    tick()
  })
  return {
    stop: () => {
      timer?.stop()
      timer = null
      stopHeartbeat()
    }
  }
}

/**
 * The compilers to turn on when busy: those bin/spamsync.js named in the environment and node
 * runs without (its last flag for it is `--no-<name>`); never one the operator turned off himself.
 */
export function deferredCompilers (env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): DeferredCompiler[] {
  const named = (env[COMPILERS_WHEN_BUSY_ENV] ?? '').split(',')
  return DEFERRED_COMPILERS.filter(c => named.includes(c) && execArgv.lastIndexOf(`--no-${c}`) > execArgv.lastIndexOf(`--${c}`))
}

/**
 * Watches the CPU time from now on and turns `compilers` on once the CPU time beyond IDLE_SHARE of
 * each check's interval, summed over the checks (never below 0: idle time earns no credit for
 * later work), reaches START_BUDGET_MS; after `started()`, counted anew, START_BUDGET_MS until a
 * check sees no CPU time beyond the idle share, and WORK_BUDGET_MS counted from that check on.
 */
export function compilersWhenBusy (compilers: readonly DeferredCompiler[], parts: CompilerSwitchParts = processParts()): CompilerWatch {
  let cpu = parts.cpuMs()
  let at = parts.now()
  let excess = 0
  let budget = START_BUDGET_MS
  let joining = false
  const watch = parts.every(CHECK_EVERY_MS, () => {
    const cpuNow = parts.cpuMs()
    const now = parts.now()
    const beyond = cpuNow - cpu - IDLE_SHARE * (now - at)
    excess = Math.max(0, excess + beyond)
    cpu = cpuNow
    at = now
    if (joining && beyond <= 0) {
      joining = false
      budget = WORK_BUDGET_MS
      excess = 0
    }
    if (excess < budget) return
    trace('compilers-on', `budget ${Math.round(excess)} ms`)
    for (const c of compilers) parts.turnOn(c)
    watch.stop()
  })
  return {
    started: () => {
      cpu = parts.cpuMs()
      at = parts.now()
      excess = 0
      joining = true
    },
    stop: () => { watch.stop() }
  }
}
