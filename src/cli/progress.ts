/**
 * Progress lines for `spamsync sync`: what the agent's status says about the transfer in flight,
 * printed only once the sync has taken longer than a second (a quick sync prints nothing extra).
 */

/** Time a sync must take before progress is shown. */
export const PROGRESS_AFTER_MS = 1000

/** How often `spamsync sync` polls the agent's status while it waits. */
export const PROGRESS_POLL_MS = 500

/** The `transfer` field of `GET /status`. */
export interface TransferStatus {
  direction: 'upload' | 'download'
  bytesDone: number
  bytesTotal: number
}

/** Turns status samples into progress lines; the clock is injected so tests need not wait. */
export class ProgressPrinter {
  private readonly startedAt: number
  private last = ''

  constructor (private readonly write: (text: string) => void, private readonly now: () => number = Date.now) {
    this.startedAt = now()
  }

  /** Prints a line for `transfer` when the sync is past one second and the line changed. */
  report (transfer: TransferStatus | null | undefined): void {
    if (transfer == null || this.now() - this.startedAt < PROGRESS_AFTER_MS) return
    const line = `transferring (${transfer.direction}): ${transfer.bytesDone} of ${transfer.bytesTotal} bytes\n`
    // Unchanged samples are not repeated: one line per step of progress.
    if (line === this.last) return
    this.last = line
    this.write(line)
  }
}
