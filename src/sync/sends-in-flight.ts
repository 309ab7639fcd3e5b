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
import type { KnownMember } from '../crdt/tombstone-floor.js'
import { compareVersions, formatVersion, type Version } from '../version.js'

/** Longest a write waits for the sends under way. */
export const SEND_FIRST_MAX_MS = 2000

/**
 * Longest a write waits for the fetches of the version it belongs to to begin: a slave fetches
 * within milliseconds of the master's announcement, and a write that starts first holds the event
 * loop before their requests are read (121k list: the sends began ~0.85 s late, load ~4).
 */
export const FETCH_ARRIVE_MAX_MS = 500

/** How long a member's last beacon counts it as live here, to fetch a version just announced. */
const LIVE_MS = 3000

/** What the wait needs of time; tests give fakes. */
export interface SendTimers {
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

const NODE_TIMERS: SendTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout) }
}

/**
 * The fetches of a version a write waits to begin: those of the members heard lately whose last
 * beacon names an older version, but the slave whose upload the version holds when it applied the
 * one before: it fetches only once answered (Downloader), which comes after the write.
 */
export function fetchesToCome (members: readonly KnownMember[], version: Version, now: number, uploadedBy?: string): number {
  const waitsForAnswer = (m: KnownMember): boolean => m.nodeId === uploadedBy && m.applied?.term === version.term && m.applied.seq === version.seq - 1
  return members.filter(m => m.lastSeenMs !== null && now - m.lastSeenMs < LIVE_MS && (m.applied === null || compareVersions(m.applied, version) < 0) && !waitsForAnswer(m)).length
}

/** Counts the sends under way. */
export class SendsInFlight {
  private sending = 0
  /** Called at every send's begin and end. */
  private readonly listeners = new Set<() => void>()
  /** The fetches begun of the newest version they asked for. */
  private arrivals = { version: '', count: 0 }
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
      this.changed()
    }
  }

  /** A fetch of `version` (the newest one, which it will be answered with) began; its send, counted next ({@link track}), ends the wait. */
  arrived (version: Version): void {
    const key = formatVersion(version)
    this.arrivals = { version: key, count: key === this.arrivals.version ? this.arrivals.count + 1 : 1 }
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

  /**
   * Resolves once no send is under way, or after `maxMs`, whichever comes first; with `expect`,
   * once that many fetches of its version began too (or {@link FETCH_ARRIVE_MAX_MS} passed).
   */
  async sent (expect?: { version: Version, fetches: number }, maxMs = SEND_FIRST_MAX_MS): Promise<void> {
    const key = expect === undefined ? '' : formatVersion(expect.version)
    let awaited = expect?.fetches ?? 0
    const ready = (): boolean => this.sending === 0 && (awaited <= 0 || (this.arrivals.version === key && this.arrivals.count >= awaited))
    if (ready()) return
    this.waiting = true
    try {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.timers.clearTimeout(timer)
          this.timers.clearTimeout(arrive)
          this.listeners.delete(check)
          resolve()
        }
        const check = (): void => { if (ready()) done() }
        const timer = this.timers.setTimeout(done, maxMs)
        const arrive = awaited > 0 ? this.timers.setTimeout(() => { awaited = 0; check() }, FETCH_ARRIVE_MAX_MS) : undefined
        this.listeners.add(check)
      })
    } finally {
      this.waiting = this.listeners.size > 0
    }
  }

  private changed (): void {
    for (const check of [...this.listeners]) check()
  }
}
