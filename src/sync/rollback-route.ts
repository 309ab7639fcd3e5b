/**
 * Where a rollback runs: only the master cuts versions, so it rolls back itself; a slave
 * forwards the request to the master it follows (protocol/control-service.ts), and a node that
 * knows no master yet refuses it.
 */
import { NoMasterError } from '../errors.js'
import { formatVersion, type Version } from '../version.js'
import type { RoleView } from './engine.js'
import type { Log } from '../log.js'

/** The parts a rollback is routed through. */
export interface RollbackRouteParts {
  roles: RoleView
  /** Rolls back here (SyncEngine.rollback). */
  local: (version: Version) => Promise<Version>
  /** Asks the master to roll back. */
  forward: (masterId: string, version: Version) => Promise<Version>
  log: Pick<Log, 'info'>
}

/** Rolls the lists back to a kept version, here when this node is master, else on the master; resolves to the new central version. */
export async function routeRollback (parts: RollbackRouteParts, version: Version): Promise<Version> {
  const { role, masterId } = parts.roles
  let made: Version
  if (role === 'master') {
    made = await parts.local(version)
  } else if (masterId === null) {
    throw new NoMasterError('no master is known yet (an election is under way); try again shortly')
  } else {
    made = await parts.forward(masterId, version)
  }
  parts.log.info({ event: 'rollback', to: formatVersion(version), version: formatVersion(made) }, 'lists rolled back')
  return made
}
