/**
 * What the sync engine's events set going on this host: written settings files go to the
 * afterApply hook (absolute paths) and the outputs, errors to the log and the metrics.
 */
import { resolve } from 'node:path'
import { formatVersion, type Version } from '../version.js'
import { worthLogging } from './error-log.js'
import type { EngineHooks } from './engine.js'
import type { Log } from '../log.js'
import type { ListDataset } from '../constants.js'
import { trace } from '../trace.js'

/** The parts the engine's events reach. */
export interface EngineHookParts {
  log: Pick<Log, 'info' | 'warn'>
  /** Path of a list file, and of bayes.txt. */
  listPath: (dataset: ListDataset) => string
  bayesPath: string
  afterApply: { changed: (files: string[]) => void } | null
  outputs: { changed: () => void } | null
  metrics: { errorReported: (what: string) => void }
  /** The version applied now, for the log line. */
  applied: () => Version
}

/** The engine's hooks on `p`. */
export function engineHooks (p: EngineHookParts): EngineHooks {
  return {
    onFilesChanged: (datasets) => {
      trace('files-written', datasets.join(','))
      p.log.info({ event: 'files-written', datasets, version: formatVersion(p.applied()) }, 'settings files updated')
      // Absolute paths: the hook may run in another folder than the agent was started in.
      p.afterApply?.changed(datasets.map(ds => resolve(ds === 'bayes' ? p.bayesPath : p.listPath(ds))))
      if (datasets.some(ds => ds !== 'bayes')) p.outputs?.changed()
    },
    // The node where the edit was made renders and runs the hook too, like every other.
    onLocalEdits: (datasets) => {
      p.afterApply?.changed(datasets.map(ds => resolve(p.listPath(ds))))
      p.outputs?.changed()
    },
    onError: (report) => {
      // A fault that retries every heartbeat is logged at its 1st, 10th, 100th, ... time.
      if (worthLogging(report.count)) p.log.warn({ event: 'sync-error', what: report.what, count: report.count }, report.message)
      p.metrics.errorReported(report.what)
    }
  }
}
