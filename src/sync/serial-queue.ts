/**
 * A single-lane queue: each task starts after the previous one settled. Every change to a node's
 * local state runs through one, so a scan, a merge, an apply and the file writes after them never
 * interleave.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `task` after every task queued before it; its result or error goes to this caller. */
  run<T> (task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    // The next task waits for this one to settle; its error goes to this caller, through `result`.
    this.tail = Promise.allSettled([result])
    return result
  }
}
