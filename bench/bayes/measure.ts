/** Measuring helpers of the Bayes benchmark: RSS sampling, GC, medians, event-loop delay, waiting, the log. */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'
import { POLL_MS } from './options.js'

/** RSS peak sampled every 100 ms by a worker thread (process-wide) and by the main thread. */
export class RssSampler {
  private readonly shared = new Float64Array(new SharedArrayBuffer(8 * 4))
  private readonly worker: Worker
  private readonly timer: NodeJS.Timeout
  mainPeak = 0
  mainWindowPeak = 0

  constructor () {
    const code = `
      const { workerData } = require('node:worker_threads')
      const a = new Float64Array(workerData)
      const sample = () => { const r = process.memoryUsage.rss(); a[2] = r; if (r > a[0]) a[0] = r; if (r > a[1]) a[1] = r; a[3]++ }
      sample()
      setInterval(sample, 100)
    `
    this.worker = new Worker(code, { eval: true, workerData: this.shared.buffer })
    this.worker.unref()
    this.timer = setInterval(() => {
      const r = process.memoryUsage().rss
      if (r > this.mainPeak) this.mainPeak = r
      if (r > this.mainWindowPeak) this.mainWindowPeak = r
    }, 100)
    this.timer.unref()
  }

  /** Starts a new window; returns nothing. */
  resetWindow (): void {
    this.shared[1] = process.memoryUsage.rss()
    this.mainWindowPeak = process.memoryUsage().rss
  }

  window (): { workerPeakMB: number, mainThreadPeakMB: number } {
    return { workerPeakMB: mb(Math.max(this.shared[1], process.memoryUsage.rss())), mainThreadPeakMB: mb(this.mainWindowPeak) }
  }

  overall (): { workerPeakMB: number, mainThreadPeakMB: number, samples: number } {
    return { workerPeakMB: mb(Math.max(this.shared[0], process.memoryUsage.rss())), mainThreadPeakMB: mb(this.mainPeak), samples: this.shared[3] }
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.worker.terminate()
  }
}

export function mb (bytes: number): number {
  return Math.round(bytes / 1024 / 1024 * 10) / 10
}

let gcFn: (() => void) | null = null
export function gc (): void {
  if (gcFn === null) {
    setFlagsFromString('--expose-gc')
    gcFn = runInNewContext('gc') as () => void
  }
  gcFn()
  gcFn()
}

export function median (xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export function round (x: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export async function waitUntil (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = POLL_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

export interface LoopDelay { maxMs: number, p99Ms: number, p50Ms: number }

export function loopDelay (h: ReturnType<typeof monitorEventLoopDelay>): LoopDelay {
  return { maxMs: round(h.max / 1e6, 0), p99Ms: round(h.percentile(99) / 1e6, 0), p50Ms: round(h.percentile(50) / 1e6, 0) }
}

export interface Timed { medianMs: number, samplesMs: number[] }

export function timed (samples: number[]): Timed {
  return { medianMs: round(median(samples)), samplesMs: samples.map(x => round(x)) }
}

let quiet = false

/** Silences log() (main's print: false). */
export function setQuiet (q: boolean): void {
  quiet = q
}

export function log (msg: string): void {
  if (!quiet) process.stderr.write(`[bench/bayes] ${msg}\n`)
}
