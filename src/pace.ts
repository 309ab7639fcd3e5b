/**
 * Long synchronous work cut into slices with a turn of the event loop between them. The Bayes
 * path decodes, joins and sums millions of tokens: at 5M tokens under load one such step took
 * longer than the election's liveness window (W, 3 s then), no beacon left the node meanwhile, and
 * the slaves elected a new master in the middle of the sync (issue 17).
 */

/** Awaited between slices of long work: turns the event loop when the work ran long enough. */
export type Pause = () => Promise<void>

/** Longest run of work between two turns of the event loop, in ms: far inside a beacon period. */
export const SLICE_MS = 50

/** One turn of the event loop: timers and I/O that are due run before it resolves. */
export async function turn (): Promise<void> {
  await new Promise<void>(resolve => setImmediate(resolve))
}

/** Runs work written as a generator of its steps (each `yield` a place to pause) to its end, without pausing. */
export function finish<T> (steps: Generator<void, T>): T {
  let step = steps.next()
  while (step.done !== true) step = steps.next()
  return step.value
}

/** Runs work written as a generator of its steps to its end, awaiting `pause` at each step. */
export async function finishPaced<T> (steps: Generator<void, T>, pause: Pause): Promise<T> {
  let step = steps.next()
  while (step.done !== true) {
    await pause()
    step = steps.next()
  }
  return step.value
}

/** A Pause that turns the event loop once `sliceMs` passed since its last turn (`now`: a ms clock). */
export function pacer (sliceMs = SLICE_MS, now: () => number = () => performance.now()): Pause {
  let last = now()
  return async () => {
    if (now() - last < sliceMs) return
    await turn()
    last = now()
  }
}
