import { UnknownVersionError, UsageError } from '../../errors.js'
import { configHelp, configOptions, type Command } from '../command.js'
import { formatHistory, formatVersionDetail } from '../history-format.js'
import { AGENT_KEYS, agentTarget, callAgent } from './status.js'
import type { HistoryDocument, HistoryItemAnswer } from '../../http/status-document.js'

export { formatHistory } from '../history-format.js'

/** `spamsync history`: the central versions this node keeps, or one of them with the keys it changed. */
export const historyCommand: Command = {
  name: 'history',
  help: `Usage: spamsync history [--show VERSION] [--json] [options]

Lists the central versions the agent keeps, newest first: number, time (UTC), the node whose
change made it (by name) and what it changed: per dataset +added -removed ~changed keys, and the
Bayes DB's tokens and messages. Every node keeps the history (it travels with every sync), so it
outlives a master change and any node can be asked. A version marked ° came to this node inside
a larger update: listed, but its content is not kept here to roll back to. The agent is found
like 'spamsync status' finds it (--config, SPAMSYNC_*, flags).

  --show VERSION              one version (TERM.SEQ) with the keys it changed: up to 50 per
                              dataset, with old and new values, and how many more
  --json                      print the raw JSON document
${configHelp([...AGENT_KEYS])}`,
  options: { show: { type: 'string' }, json: { type: 'boolean' }, ...configOptions([...AGENT_KEYS]) },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const show = values.show
    if (typeof show === 'string' && !/^\d+\.\d+$/.test(show)) throw new UsageError(`--show VERSION must be TERM.SEQ, e.g. 3.17, got '${show}'`)
    const at = await agentTarget(values)
    if (typeof show === 'string') {
      const item = await callAgent<HistoryItemAnswer>(at, 'GET', `/history/${show}`)
      if ('error' in item) throw new UnknownVersionError(item.message)
      stdout(values.json === true ? JSON.stringify(item, null, 2) + '\n' : formatVersionDetail(item))
      return 0
    }
    const items = await callAgent<HistoryDocument>(at, 'GET', '/history')
    stdout(values.json === true ? JSON.stringify(items, null, 2) + '\n' : formatHistory(items))
    return 0
  }
}
