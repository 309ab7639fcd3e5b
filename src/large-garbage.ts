/**
 * A process-wide hint that large buffers were let go: an idle agent allocates too little for V8
 * to collect them, so `spamsync start` listens and makes one full collection
 * (src/cli/collect-when-quiet.ts). The encoding of the 121k-line list a replica keeps for
 * fetchers (4.6 MB of ArrayBuffers) is let go 30 s after it was made, when the agent has long been
 * quiet: without the hint it stayed in RSS for as long as the agent stayed idle.
 */
import { LARGE_WORK_BYTES } from './work-ahead.js'

const listeners = new Set<() => void>()

/** Calls `fn` whenever large buffers were let go; returns the function that stops it. */
export function onLargeGarbage (fn: () => void): () => void {
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}

/** Tells the listeners that buffers of `bytes` are no longer held, when that is as much as large work. */
export function letGo (bytes: number): void {
  if (bytes < LARGE_WORK_BYTES) return
  for (const fn of listeners) fn()
}
