/**
 * A process-wide signal that the agent's heartbeat ticked: the CPU checks of `spamsync start`
 * (src/cli/compilers-when-busy.ts, collect-when-quiet.ts, work-gear.ts) run on it once the agent
 * runs, instead of on a timer of their own that woke an idle agent at a phase of its own (every
 * 2 s, strace of a slave of 10). The checks look at the process's CPU time, one per process, so
 * the signal is too.
 */

const listeners = new Set<() => void>()

/** Calls `fn` at every heartbeat from now on; returns the function that stops it. */
export function onHeartbeat (fn: () => void): () => void {
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}

/** Tells the listeners that the heartbeat ticked. */
export function heartbeatTicked (): void {
  for (const fn of listeners) fn()
}
