/**
 * The archives this node is sending to fetchers right now, and a wait until they are sent. The
 * master writes its own settings files after it announced a version, and rendering a whole list
 * holds the event loop: the 121k list's render (1.1 s CPU, load ~12) ran while the slaves'
 * fetches of that version were being sent, and their bytes arrived only after it (~1.3 s later).
 * The master's own write waits for the sends under way first, up to a bound, so a fetcher that
 * stalls delays it by no more than that.
 */

import { Status } from '../pb/spamsync.js'
import type { Served } from '../protocol/fetch-service.js'

/** Longest a write waits for the sends under way. */
export const SEND_FIRST_MAX_MS = 2000

/** What the wait needs of time; tests give fakes. */
export interface SendTimers {
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

const NODE_TIMERS: SendTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout) }
}

/** Counts the sends under way. */
export class SendsInFlight {
  private sending = 0
  private readonly idle = new Set<() => void>()
  /** True while a write waits in {@link sent}. */
  waiting = false

  constructor (private readonly timers: SendTimers = NODE_TIMERS) {}

  /** Sends under way now. */
  get count (): number {
    return this.sending
  }

  /** A send starts; call the returned function once it ended (sent or failed; a second call does nothing). */
  begin (): () => void {
    this.sending++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.sending--
      if (this.sending === 0) for (const resolve of [...this.idle]) resolve()
    }
  }

  /**
   * Counts the answer `serve` makes as a send under way until its `release` is called (the fetch
   * service calls it once the answer is sent or failed); an answer without an archive is none.
   */
  async track (serve: () => Promise<Served>): Promise<Served> {
    const sent = this.begin()
    let served: Served
    try {
      served = await serve()
    } catch (err) {
      sent()
      throw err
    }
    if (served.status !== Status.OK || served.zip === undefined) {
      sent()
      return served
    }
    const release = served.release
    return { ...served, release: () => { sent(); release?.() } }
  }

  /** Resolves once no send is under way, or after `maxMs`, whichever comes first. */
  async sent (maxMs = SEND_FIRST_MAX_MS): Promise<void> {
    if (this.sending === 0) return
    this.waiting = true
    try {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.timers.clearTimeout(timer)
          this.idle.delete(done)
          resolve()
        }
        const timer = this.timers.setTimeout(done, maxMs)
        this.idle.add(done)
      })
    } finally {
      this.waiting = this.idle.size > 0
    }
  }
}
