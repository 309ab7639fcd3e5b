/**
 * A process-wide hint that large work is about to start: a list file or an archive of at least
 * LARGE_WORK_BYTES to read, merge and write. `spamsync start` listens and turns V8's deferred
 * compilers on at once (src/cli/compilers-when-busy.ts), instead of at its next CPU check up to
 * 2 s later: an agent idle until a 121k-line list is dropped into its folder scanned it in the
 * interpreter alone (1.4-3.9 s of CPU in the agent, against 0.8-1.5 s with the compilers on, in
 * process, load 9-12). The compilers are V8's, one per process, so the hint is too.
 */

/**
 * Bytes from which a file or archive is large work: the 121k-line blacklist is 1.85 MB as a file,
 * 1.1 MB as an archive; a 10k-line list 134 KB and 82 KB, which the interpreter handles in tens of ms.
 */
export const LARGE_WORK_BYTES = 256 * 1024

const listeners = new Set<() => void>()

/** Calls `fn` whenever large work is ahead; returns the function that stops it. */
export function onLargeWork (fn: () => void): () => void {
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}

/** Tells the listeners that `bytes` of file or archive are about to be worked on, when that is large work. */
export function workAhead (bytes: number): void {
  if (bytes < LARGE_WORK_BYTES) return
  for (const fn of listeners) fn()
}
