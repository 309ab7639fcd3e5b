/**
 * Callbacks that nothing waits for (timers, event listeners, stream handlers): what one throws,
 * or the promise it returns rejects with, would end the process (an uncaught exception or an
 * unhandled rejection). Wrapped here, it is reported instead, and the agent runs on.
 */

/** Where a caught error goes: the engine's error list (status) and the log. */
export type Reporter = (what: string, err: unknown) => void

/**
 * `fn` as a callback that never throws and never leaves a rejected promise: whatever it throws
 * goes to `report` under `what`. A reporter that throws itself is written to stderr, the last
 * place left, rather than end the process.
 */
export function guarded<A extends unknown[]> (what: string, report: Reporter, fn: (...args: A) => unknown): (...args: A) => void {
  const fail = (err: unknown): void => {
    try {
      report(what, err)
    } catch (inner) {
      process.stderr.write(`spamsync: ${what}: ${String(err)} (and reporting it failed: ${String(inner)})\n`)
    }
  }
  return (...args: A): void => {
    try {
      const result = fn(...args)
      if (isThenable(result)) result.then(undefined, fail)
    } catch (err) {
      fail(err)
    }
  }
}

function isThenable (x: unknown): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === 'function'
}
