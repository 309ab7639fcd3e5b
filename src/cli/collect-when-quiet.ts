/**
 * A full garbage collection once the agent has gone quiet after work, and once more when it lets
 * go of large buffers while quiet. A sync leaves garbage behind (the file read, the archive
 * received, the encodings made, megabytes of ArrayBuffers outside V8's heap), and an idle agent
 * allocates too little for V8 to collect it: an agent idle 40 s after the 121k-line list's first
 * scan held 9.6 MB of ArrayBuffers, 5.1 MB after one full collection, and its RSS fell by 4 MB
 * (91.8 -> 87.7 MB). Work is seen in the CPU time, as src/cli/compilers-when-busy.ts sees it; the
 * encoding a replica keeps for fetchers is let go 30 s later, when the agent has long been quiet,
 * and says so (src/large-garbage.ts).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { CHECK_EVERY_MS, IDLE_SHARE, processParts } from './compilers-when-busy.js'
import { onLargeGarbage } from '../large-garbage.js'

/** CPU time beyond the idle share that counts as work worth a collection after it: a start with empty settings uses ~1 s. */
export const WORK_MS = 250

/** Quiet time after the work before the collection: V8's own collections after work come within ~8 s of its end. */
export const QUIET_MS = 10_000

/** What the watch needs of the process; tests give fakes. */
export interface CollectParts {
  /** Calls `fn` when large buffers were let go (src/large-garbage.ts); returns the function that stops it. */
  onGarbage: (fn: () => void) => () => void
  /** CPU time (user + system) the process used so far, ms. */
  cpuMs: () => number
  /** A monotonic clock, ms. */
  now: () => number
  /** A full garbage collection. */
  collect: () => void
  /** Calls `tick` every `ms` without keeping the process alive; `stop` ends it. */
  every: (ms: number, tick: () => void) => { stop: () => void }
}

/** The parts of this process: its CPU time, clock and unref'd interval as the compiler switch has them, and V8's collector. */
export function collectParts (): CollectParts {
  const { cpuMs, now, every } = processParts()
  let gc: (() => void) | null = null
  return {
    onGarbage: onLargeGarbage,
    cpuMs,
    now,
    collect: () => {
      // V8 gives its gc function to contexts made after --expose-gc is set; the agent is not started with it.
      if (gc === null) {
        setFlagsFromString('--expose-gc')
        gc = runInNewContext('gc') as () => void
      }
      gc()
    },
    every
  }
}

/**
 * Watches the CPU time from now on: once the CPU time beyond IDLE_SHARE of each check's interval,
 * summed since the last collection, reaches WORK_MS and no check has seen any since QUIET_MS,
 * collects once; and at the first quiet check after large buffers were let go. Returns the
 * function that stops the watch.
 */
export function collectWhenQuiet (parts: CollectParts = collectParts()): () => void {
  let cpu = parts.cpuMs()
  let at = parts.now()
  let work = 0
  let quietSince = at
  let garbage = false
  const stopHint = parts.onGarbage(() => { garbage = true })
  const watch = parts.every(CHECK_EVERY_MS, () => {
    const cpuNow = parts.cpuMs()
    const now = parts.now()
    const excess = cpuNow - cpu - IDLE_SHARE * (now - at)
    cpu = cpuNow
    at = now
    if (excess > 0) {
      work += excess
      quietSince = now
    } else if (garbage || (work >= WORK_MS && now - quietSince >= QUIET_MS)) {
      work = 0
      garbage = false
      parts.collect()
    }
  })
  return () => {
    stopHint()
    watch.stop()
  }
}
