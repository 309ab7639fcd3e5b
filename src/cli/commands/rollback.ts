import { NoMasterError, SyncRefusedError, UnknownVersionError, UsageError } from '../../errors.js'
import { configHelp, configOptions, type Command } from '../command.js'
import { AGENT_KEYS, agentTarget, callAgent, controlTokenOf } from './status.js'
import { formatRollback } from '../history-format.js'
import type { RollbackAnswer } from '../../http/status-document.js'

/** `spamsync rollback VERSION`: a new central version with the lists of a kept one. */
export const rollbackCommand: Command = {
  name: 'rollback',
  help: `Usage: spamsync rollback VERSION [--dry-run] [options]

Makes a new central version whose list content equals VERSION's (TERM.SEQ, as 'spamsync
history' shows it); it then syncs to every node like any other change, and prints the keys it
changed per dataset (+ added, - removed, ~ changed; up to 1000 per dataset, with how many more).
Nothing is rewritten in place: the versions in between stay in the history. Run it on any node:
a slave forwards it to the master, which must keep VERSION's content (a master that took over
keeps that of every version it applied). The Bayes DB is not rolled back (its counters only
grow). The request carries the control token from the agent's data folder (http.token), which
the agent requires on any bind address. The agent and its data folder are found like 'start'
reads them: --config, SPAMSYNC_* environment, flags (default ./spamsync-data, 127.0.0.1:8737);
run it as a user who may read that folder (mode 0700).

  --dry-run                   print what the rollback would change, and change nothing
${configHelp([...AGENT_KEYS])}`,
  options: { 'dry-run': { type: 'boolean' }, ...configOptions([...AGENT_KEYS]) },
  positionals: [1, 1],
  async run ({ values, positionals, stdout }) {
    const version = positionals[0]
    if (!/^\d+\.\d+$/.test(version)) throw new UsageError(`VERSION must be TERM.SEQ, e.g. 3.17, got '${version}'`)
    const at = await agentTarget(values)
    const dryRun = values['dry-run'] === true
    const r = await callAgent<RollbackAnswer>(at, 'POST', `/rollback?version=${version}${dryRun ? '&dry-run=1' : ''}`, 60_000, await controlTokenOf(at))
    if (r.ok !== true) {
      if (r.error === 'UnknownVersionError') throw new UnknownVersionError(r.message)
      if (r.error === 'NoMasterError') throw new NoMasterError(r.message)
      throw new SyncRefusedError(r.message ?? r.error)
    }
    const [term, seq] = version.split('.').map(Number)
    stdout(formatRollback({ term, seq }, { version: r.version ?? null, lists: r.lists ?? null }))
    return 0
  }
}
