/**
 * Tells the agent when the settings folder may have changed: file-system events, debounced so
 * an editor's burst of writes is one scan, plus a periodic rescan as the safety net for events
 * that never come (network file systems, editors that replace the folder's inode).
 */
import { watch, type FSWatcher } from 'node:fs'
import { trace } from '../trace.js'

/** Timing of the watcher. */
export interface WatchOptions {
  /** Quiet time after the last event before `onChange` runs. */
  debounceMs: number
  /** Interval of the safety-net rescan; 0 turns it off. */
  rescanIntervalMs: number
  /** Events cannot be watched (or stopped coming): the rescan alone finds changes now. */
  onError: (err: unknown) => void
}

/** A running watcher. */
export interface FolderWatch {
  /** Stops watching; no `onChange` call starts afterwards. */
  close: () => void
}

/** Calls `onChange` after changes in `dir` settle, and every rescan interval. */
export function watchFolder (dir: string, opts: WatchOptions, onChange: () => void): FolderWatch {
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const fire = (): void => {
    timer = undefined
    trace('debounce-fired')
    if (!closed) onChange()
  }
  const poke = (): void => {
    if (closed) return
    trace('watch-event')
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(fire, opts.debounceMs)
  }
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dir, { persistent: false }, poke)
    // A watcher error (folder removed) must not crash the agent; the rescan still runs.
    watcher.on('error', (err) => { watcher?.close(); watcher = undefined; opts.onError(err) })
  } catch (err) {
    watcher = undefined
    opts.onError(err)
  }
  const interval = opts.rescanIntervalMs > 0 ? setInterval(poke, opts.rescanIntervalMs) : undefined
  interval?.unref()
  return {
    close: () => {
      closed = true
      watcher?.close()
      if (timer !== undefined) clearTimeout(timer)
      if (interval !== undefined) clearInterval(interval)
    }
  }
}
