/**
 * The transfer in flight on this node (an upload to the master or a fetch from it), so
 * `GET /status` can report bytes done of total while `spamsync sync` waits.
 */

/** One transfer as `GET /status` reports it. */
export interface TransferState {
  direction: 'upload' | 'download'
  bytesDone: number
  bytesTotal: number
}

/** Holds the current transfer; the sync engine runs one transfer at a time. */
export class TransferProgress {
  private state: TransferState | null = null

  /** The transfer in flight, or null. */
  get current (): TransferState | null {
    return this.state === null ? null : { ...this.state }
  }

  /** Runs `work` as a transfer of `direction`, reporting progress through the callback it gets. */
  async track<T> (direction: TransferState['direction'], work: (onProgress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
    const mine: TransferState = { direction, bytesDone: 0, bytesTotal: 0 }
    this.state = mine
    try {
      return await work((done, total) => { mine.bytesDone = done; mine.bytesTotal = total })
    } finally {
      // Only clear our own entry: a later transfer may already have replaced it.
      if (this.state === mine) this.state = null
    }
  }
}
