/**
 * What a change of role sets going: a new master leads cluster time and cuts its first version
 * of the term (SyncEngine.becameMaster); a new slave follows its master (SyncEngine.followMaster).
 */
import type { Role } from '../election/state.js'
import type { Reporter } from '../guarded.js'
import type { Log } from '../log.js'

/** The parts a role change reaches. */
export interface RoleChangeParts {
  log: Pick<Log, 'info'>
  /** A node's name for the log line. */
  nameOf: (nodeId: string) => string
  /** Cluster time (cluster/clock-skew.ts). */
  clock: { lead: () => void }
  engine: { becameMaster: () => Promise<void>, followMaster: () => void }
  /** The error log status shows. */
  report: Reporter
}

/** The election's onRoleChange event, carried out on `parts`. */
export function roleChangeHandler (parts: RoleChangeParts): (role: Role, masterId: string | null, term: number) => void {
  return (role, masterId, term) => {
    parts.log.info({ event: 'role', role, term, masterId, masterName: masterId === null ? null : parts.nameOf(masterId) }, `now ${role}`)
    if (role === 'master') {
      parts.clock.lead()
      parts.engine.becameMaster().catch((err) => { parts.report('become master', err) })
    } else if (role === 'slave') {
      parts.engine.followMaster()
    }
  }
}
