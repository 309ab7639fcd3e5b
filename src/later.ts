/**
 * A part built later than one that calls it. The composition root builds parts in dependency
 * order; where two parts call each other (the election asks the sync engine for its version,
 * the engine asks the election for the role), the earlier one calls through this, and the root
 * binds it once the later part exists, before anything starts. A call before that is a wiring
 * bug: it throws, where an optional call (`agent?.x`) would silently do nothing.
 */
import { SpamsyncError } from './errors.js'

/** A part was called before the composition root bound it: a bug, not the operator's doing. */
export class WiringError extends SpamsyncError {
  /** A bug: the CLI prints the stack. */
  override readonly expected: boolean = false
}

/** One part (or bundle of parts) bound after construction. */
export class Later<T> {
  private bound: { value: T } | null = null

  /** `what` names the part in a WiringError. */
  constructor (private readonly what: string) {}

  /** Binds the part; a second bind is a bug too. */
  bind (value: T): void {
    if (this.bound !== null) throw new WiringError(`${this.what} bound twice`)
    this.bound = { value }
  }

  /** The bound part. */
  get (): T {
    if (this.bound === null) throw new WiringError(`${this.what} called before it was wired`)
    return this.bound.value
  }
}
