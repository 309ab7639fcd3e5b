/**
 * Where a rollback runs: only the master cuts versions, so it rolls back itself; a slave
 * forwards the request to the master it follows (protocol/control-service.ts), and a node that
 * knows no master yet refuses it.
 */
import { NoMasterError } from '../errors.js'
import { formatVersion, type Version } from '../version.js'
import type { RollbackOutcome } from '../archive/change-summary.js'
import type { RoleView } from './engine.js'
import type { Log } from '../log.js'

/** The parts a rollback is routed through. */
export interface RollbackRouteParts {
  roles: RoleView
  /** Rolls back here, or as a dry run says what it would change (SyncEngine.rollback). */
  local: (version: Version, dryRun: boolean) => Promise<RollbackOutcome>
  /** Asks the master to roll back (or for a dry run). */
  forward: (masterId: string, version: Version, dryRun: boolean) => Promise<RollbackOutcome>
  log: Pick<Log, 'info'>
}

/**
 * Rolls the lists back to a kept version, here when this node is master, else on the master;
 * resolves to what changed and the new central version (null for a dry run, which changes nothing).
 */
export async function routeRollback (parts: RollbackRouteParts, version: Version, dryRun = false): Promise<RollbackOutcome> {
  const { role, masterId } = parts.roles
  let made: RollbackOutcome
  if (role === 'master') {
    made = await parts.local(version, dryRun)
  } else if (masterId === null) {
    throw new NoMasterError('no master is known yet (an election is under way); try again shortly')
  } else {
    made = await parts.forward(masterId, version, dryRun)
  }
  if (made.version !== null) parts.log.info({ event: 'rollback', to: formatVersion(version), version: formatVersion(made.version) }, 'lists rolled back')
  return made
}
