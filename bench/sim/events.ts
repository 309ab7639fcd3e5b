/**
 * The simulator's clock and event queue: virtual milliseconds, events in (time, insertion)
 * order, so a run is the same for the same seed. No timer, socket or file.
 */

interface Event {
  at: number
  seq: number
  fn: () => void
}

/** A binary min-heap of events on a virtual clock. */
export class EventQueue {
  /** Current virtual time, ms. */
  now = 0
  /** Events run so far. */
  ran = 0
  private readonly heap: Event[] = []
  private seq = 0
  /** A promise was settled by an event: its continuations run before the next event. */
  private settled = false

  /** Runs `fn` at virtual time `at` (never before now). */
  at (at: number, fn: () => void): void {
    const e = { at: Math.max(at, this.now), seq: this.seq++, fn }
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(e, h[p])) break
      h[i] = h[p]
      i = p
    }
    h[i] = e
  }

  /** Runs `fn` `delay` ms from now. */
  after (delay: number, fn: () => void): void {
    this.at(this.now + delay, fn)
  }

  /**
   * A promise settled by a later event, for production code that awaits the network (the
   * fan-out fetcher): the queue lets its continuations run before it goes on.
   */
  promise<T> (): { promise: Promise<T>, resolve: (v: T) => void, reject: (e: unknown) => void } {
    let resolve!: (v: T) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return {
      promise,
      resolve: (v) => { this.settled = true; resolve(v) },
      reject: (e) => { this.settled = true; reject(e) }
    }
  }

  /** Tells the queue that async work started outside an event (a call into production code). */
  touch (): void {
    this.settled = true
  }

  /** Runs every event up to and including virtual time `end`, then sets the clock to `end`. */
  async runUntil (end: number, stop: () => boolean = () => false): Promise<void> {
    await this.drain()
    const h = this.heap
    while (h.length > 0 && h[0].at <= end) {
      const e = this.pop()
      this.now = e.at
      this.ran++
      e.fn()
      if (this.settled) await this.drain()
      if (stop()) return
    }
    this.now = end
  }

  /** Lets every pending promise continuation run (setImmediate runs after the microtasks). */
  private async drain (): Promise<void> {
    while (this.settled) {
      this.settled = false
      await new Promise<void>(resolve => { setImmediate(resolve) })
    }
  }

  private pop (): Event {
    const h = this.heap
    const top = h[0]
    const last = h.pop() as Event
    if (h.length > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= h.length) break
        const r = l + 1
        const c = r < h.length && before(h[r], h[l]) ? r : l
        if (!before(h[c], last)) break
        h[i] = h[c]
        i = c
      }
      h[i] = last
    }
    return top
  }
}

function before (a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 32-bit hash of two integers and a seed, uniform in [0, 1): the fixed latency of a link. */
export function pairUniform (a: number, b: number, seed: number): number {
  let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ seed) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296
}
