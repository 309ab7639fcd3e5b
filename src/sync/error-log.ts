/**
 * The errors status shows: the newest few, a repeated one kept once with a count. A fault that
 * retries every heartbeat (a folder that cannot be written) then fills neither the list nor the
 * log; the count and the last time tell the operator it is still going on.
 */
import { ArchiveError, VersionAheadError, errorMessage } from '../errors.js'
import { printable, ERROR_TEXT_MAX } from '../printable.js'

/** Something that went wrong, as status shows it. */
export interface SyncErrorReport {
  /** When it first happened (ISO 8601), in this run of repeats. */
  time: string
  /** What was being done. */
  what: string
  /** The newest message. */
  message: string
  /** How often it happened in a row of repeats (1 the first time). */
  count: number
  /** When it last happened (ISO 8601). */
  lastTime: string
}

/** Entries kept by default. */
export const DEFAULT_ERRORS_KEPT = 50

/** Whether the `count`th repeat of an error goes to the log: the first, then at 10, 100, 1000, ... */
export function worthLogging (count: number): boolean {
  if (count === 1) return true
  let n = count
  while (n % 10 === 0) n /= 10
  return n === 1
}

/** The bounded, de-duplicated error list of one node. */
export class ErrorLog {
  /** Oldest first; the newest (or newest repeated) error last. */
  readonly entries: SyncErrorReport[] = []
  /** Dedup key of each entry, by entry. */
  private readonly keys = new WeakMap<SyncErrorReport, string>()

  constructor (private readonly kept = DEFAULT_ERRORS_KEPT) {}

  /**
   * Records an error and returns its entry. An error equal to a kept one (same `what`, and the
   * same error code, or the same message when it has none) counts up that entry and moves it last;
   * a message that names a temporary file differs on every try, its code does not.
   */
  add (what: string, message: string, code: string | undefined, nowMs: number): SyncErrorReport {
    const key = `${what}\n${code ?? message}`
    const at = new Date(nowMs).toISOString()
    const i = this.entries.findIndex(e => this.keys.get(e) === key)
    if (i >= 0) {
      const [entry] = this.entries.splice(i, 1)
      entry.count++
      entry.lastTime = at
      entry.message = message
      this.entries.push(entry)
      return entry
    }
    const entry: SyncErrorReport = { time: at, what, message, count: 1, lastTime: at }
    this.keys.set(entry, key)
    this.entries.push(entry)
    if (this.entries.length > this.kept) this.entries.shift()
    return entry
  }

  /**
   * Records an error as thrown (its message, with the name of an archive or version error, and
   * its code) and returns its entry; kept printable, as a message may quote a peer (a refusal, a
   * forwarded error).
   */
  addError (what: string, err: any, nowMs: number): SyncErrorReport {
    const message = err instanceof ArchiveError || err instanceof VersionAheadError ? `${err.name}: ${err.message}` : errorMessage(err)
    const code = typeof err?.code === 'string' ? err.code : undefined
    return this.add(printable(what, ERROR_TEXT_MAX), printable(message, ERROR_TEXT_MAX), code, nowMs)
  }
}
