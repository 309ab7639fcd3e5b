import { NoMasterError, SyncRefusedError, UnknownVersionError, UsageError } from '../../errors.js'
import { configHelp, configOptions, type Command } from '../command.js'
import { AGENT_KEYS, agentTarget, callAgent, controlTokenOf } from './status.js'
import type { RollbackAnswer } from '../../http/status-document.js'

/** `spamsync rollback VERSION`: a new central version with the lists of a kept one. */
export const rollbackCommand: Command = {
  name: 'rollback',
  help: `Usage: spamsync rollback VERSION [options]

Makes a new central version whose list content equals VERSION's (TERM.SEQ, as 'spamsync
history' shows it); it then syncs to every node like any other change. Nothing is rewritten in
place: the versions in between stay in the history. Run it on any node: a slave forwards it to
the master. The Bayes DB is not rolled back (its counters only grow). The request carries the
control token from the agent's data folder (http.token), which the agent requires on any bind
address. The agent and its data folder are found like 'start' reads them: --config,
SPAMSYNC_* environment, flags (default ./spamsync-data, 127.0.0.1:8737); run it as a user who
may read that folder (mode 0700).

${configHelp([...AGENT_KEYS])}`,
  options: configOptions([...AGENT_KEYS]),
  positionals: [1, 1],
  async run ({ values, positionals, stdout }) {
    const version = positionals[0]
    if (!/^\d+\.\d+$/.test(version)) throw new UsageError(`VERSION must be TERM.SEQ, e.g. 3.17, got '${version}'`)
    const at = await agentTarget(values)
    const r = await callAgent<RollbackAnswer>(at, 'POST', `/rollback?version=${version}`, 60_000, await controlTokenOf(at))
    if (r.ok !== true) {
      if (r.error === 'UnknownVersionError') throw new UnknownVersionError(r.message)
      if (r.error === 'NoMasterError') throw new NoMasterError(r.message)
      throw new SyncRefusedError(r.message ?? r.error)
    }
    stdout(`rolled the lists back to ${version}: new central version ${r.version.term}.${r.version.seq} (the Bayes DB is not rolled back)\n`)
    return 0
  }
}
