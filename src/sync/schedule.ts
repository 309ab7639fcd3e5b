/**
 * Scheduled sync jobs (GFI's upload and download intervals): a safety net under the
 * event-driven sync that repairs a missed file event or beacon. Timers are injected so tests
 * drive a schedule without waiting hours.
 */

/** One hour in ms. */
export const HOUR_MS = 60 * 60 * 1000

/** A repeating job. */
export interface ScheduledJob {
  /** Name for error reports, e.g. 'scheduled upload'. */
  name: string
  /** Time between runs in ms; 0 means the job is off. */
  intervalMs: number
  /** The work of one run. */
  run: () => Promise<unknown>
}

/** The timer functions a schedule uses. */
export interface ScheduleTimers {
  setInterval: (fn: () => void, ms: number) => unknown
  clearInterval: (handle: unknown) => void
}

/** Real timers, unref()ed so a schedule never keeps the process alive by itself. */
export const NODE_TIMERS: ScheduleTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => { clearInterval(handle as NodeJS.Timeout) }
}

/**
 * Starts every job whose interval is above 0 and returns a function that stops them all. A run
 * that is due while the job's previous run is still going is skipped, so slow runs never stack.
 */
export function startSchedule (jobs: ScheduledJob[], onError: (name: string, err: unknown) => void, timers: ScheduleTimers = NODE_TIMERS): () => void {
  const handles: unknown[] = []
  for (const job of jobs) {
    if (job.intervalMs <= 0) continue
    let busy = false
    handles.push(timers.setInterval(() => {
      if (busy) return
      busy = true
      job.run().catch((err) => { onError(job.name, err) }).finally(() => { busy = false })
    }, job.intervalMs))
  }
  return () => { for (const h of handles) timers.clearInterval(h) }
}

/** What the scheduled syncs run (the sync engine is one). */
export interface ScheduledSyncs {
  localChanged: () => Promise<unknown>
  bayesChanged: () => Promise<unknown>
  syncUpload: () => Promise<void>
  syncDownload: () => Promise<void>
}

/** The agent's two jobs: scan and upload every `uploadHours`, download every `downloadHours` (0: off). */
export function syncJobs (engine: ScheduledSyncs, uploadHours: number, downloadHours: number): ScheduledJob[] {
  return [
    {
      name: 'scheduled upload',
      intervalMs: uploadHours * HOUR_MS,
      run: async () => {
        await engine.localChanged()
        await engine.bayesChanged()
        await engine.syncUpload()
      }
    },
    { name: 'scheduled download', intervalMs: downloadHours * HOUR_MS, run: async () => { await engine.syncDownload() } }
  ]
}
