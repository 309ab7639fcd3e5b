import { NoMasterError, SyncRefusedError, UnknownVersionError, UsageError } from '../../errors.js'
import { configHelp, configOptions, type Command } from '../command.js'
import { callAgent, controlTokenOf, httpPortOf } from './status.js'

/** `spamsync rollback VERSION`: a new central version with the lists of a kept one. */
export const rollbackCommand: Command = {
  name: 'rollback',
  help: `Usage: spamsync rollback VERSION [--http-port N] [--data-dir DIR | --config FILE]

Makes a new central version whose list content equals VERSION's (TERM.SEQ, as 'spamsync
history' shows it); it then syncs to every node like any other change. Nothing is rewritten in
place: the versions in between stay in the history. Run it on any node: a slave forwards it to
the master. The Bayes DB is not rolled back (its counters only grow). The request carries the
control token from the agent's data folder (http.token), which the agent requires on any bind
address; point --data-dir or --config at that folder when it is not the default
(./spamsync-data), as a user who may read it (mode 0700).

  --http-port N               the agent's HTTP port (default 8737)
${configHelp(['dataDir'])}`,
  options: { 'http-port': { type: 'string' }, ...configOptions(['dataDir']) },
  positionals: [1, 1],
  async run ({ values, positionals, stdout }) {
    const version = positionals[0]
    if (!/^\d+\.\d+$/.test(version)) throw new UsageError(`VERSION must be TERM.SEQ, e.g. 3.17, got '${version}'`)
    const r = await callAgent(httpPortOf(values['http-port']), 'POST', `/rollback?version=${version}`, 60_000, await controlTokenOf(values))
    if (r.ok !== true) {
      if (r.error === 'UnknownVersionError') throw new UnknownVersionError(r.message)
      if (r.error === 'NoMasterError') throw new NoMasterError(r.message)
      throw new SyncRefusedError(r.message ?? r.error)
    }
    stdout(`rolled the lists back to ${version}: new central version ${r.version.term}.${r.version.seq} (the Bayes DB is not rolled back)\n`)
    return 0
  }
}
