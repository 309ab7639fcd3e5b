/**
 * `POST /sync`: scan the settings folder and upload what changed, fetch the newest version, or
 * both, and answer when done.
 */
import type { SyncEngine, RoleView } from './engine.js'
import type { SyncErrorReport } from './error-log.js'
import type { Version } from '../version.js'

/** The answer of `POST /sync`. */
export interface SyncNowResult {
  ok: true
  ms: number
  role: RoleView['role']
  version: Version
  appliedVersion: Version
  /** The newest entries of the error log. */
  errors: SyncErrorReport[]
}

/** The errors a sync answer carries: the newest of the error log. */
const ERRORS_SHOWN = 5

/** Runs one sync now on `engine`. */
export async function syncNow (
  engine: Pick<SyncEngine, 'localChanged' | 'bayesChanged' | 'syncUpload' | 'syncDownload' | 'version' | 'appliedVersion' | 'errors'>,
  roles: RoleView,
  opts: { upload: boolean, download: boolean },
  now: () => number = Date.now
): Promise<SyncNowResult> {
  const started = now()
  if (opts.upload) {
    await engine.localChanged()
    await engine.bayesChanged()
    await engine.syncUpload()
  }
  if (opts.download) await engine.syncDownload()
  return { ok: true, ms: now() - started, role: roles.role, version: engine.version, appliedVersion: engine.appliedVersion, errors: engine.errors.slice(-ERRORS_SHOWN) }
}
