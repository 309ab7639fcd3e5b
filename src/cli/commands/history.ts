import { configHelp, configOptions, type Command } from '../command.js'
import { AGENT_KEYS, agentTarget, callAgent } from './status.js'
import type { HistoryDocument } from '../../http/status-document.js'

/** The `GET /history` list as a table, newest first. */
export function formatHistory (items: HistoryDocument): string {
  if (items.length === 0) return '(no versions kept here: history is kept by the master)\n'
  const datasets = [...new Set(items.flatMap(i => Object.keys(i.counts)))]
  const lines = [`${'VERSION'.padEnd(10)}${'TIME'.padEnd(26)}${datasets.map(d => d.toUpperCase().padStart(20)).join('  ')}  ORIGIN`]
  for (const i of items) {
    // Entries, then the snapshot's bytes where there is one.
    const cells = datasets.map(d => `${i.counts[d] ?? '-'}${i.sizes[d] === undefined ? '' : ` (${i.sizes[d]} B)`}`.padStart(20))
    lines.push(`${`${i.version.term}.${i.version.seq}`.padEnd(10)}${String(i.time).padEnd(26)}${cells.join('  ')}  ${i.origin}`)
  }
  return lines.join('\n') + '\n'
}

/** `spamsync history`: the central versions the master keeps. */
export const historyCommand: Command = {
  name: 'history',
  help: `Usage: spamsync history [--json] [options]

Lists the central versions the agent keeps, newest first: number, time, origin node, entries
per dataset and snapshot sizes. Only the master keeps history; ask the master's agent. The
agent is found like 'spamsync status' finds it (--config, SPAMSYNC_*, flags).

  --json                      print the raw JSON document
${configHelp([...AGENT_KEYS])}`,
  options: { json: { type: 'boolean' }, ...configOptions([...AGENT_KEYS]) },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const items = await callAgent<HistoryDocument>(await agentTarget(values), 'GET', '/history')
    stdout(values.json === true ? JSON.stringify(items, null, 2) + '\n' : formatHistory(items))
    return 0
  }
}
