import { configHelp, configOptions, type Command } from '../command.js'
import { AGENT_KEYS, agentTarget, callAgent, controlTokenOf } from './status.js'
import { ProgressPrinter, PROGRESS_POLL_MS } from '../progress.js'
import type { ReceivedStatus } from '../../http/status-document.js'
import type { SyncNowResult } from '../../sync/sync-now.js'

/** `spamsync sync`: sync now and wait until done. */
export const syncCommand: Command = {
  name: 'sync',
  help: `Usage: spamsync sync [--upload] [--download] [options]

Asks the running agent to scan the settings folder and upload its changes to the master
(--upload), to fetch the master's newest version (--download), or both (the default), and
waits until that is done. A transfer that takes longer than a second shows its progress
(bytes done of total) every half second. The request carries the control token from the
agent's data folder (http.token), which the agent requires on any bind address. The agent and
its data folder are found like 'start' reads them: --config, SPAMSYNC_* environment, flags
(default ./spamsync-data, 127.0.0.1:8737). Run it as a user who may read that folder (the
agent keeps it mode 0700).

  --upload                    only upload
  --download                  only download
${configHelp([...AGENT_KEYS])}`,
  options: { upload: { type: 'boolean' }, download: { type: 'boolean' }, ...configOptions([...AGENT_KEYS]) },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const both = values.upload !== true && values.download !== true
    const upload = both || values.upload === true
    const download = both || values.download === true
    const agent = await agentTarget(values)
    const token = await controlTokenOf(agent)
    // The agent serves status while the sync request is open, so a second request polls progress.
    const progress = new ProgressPrinter(stdout)
    const poll = setInterval(() => {
      // Progress is a courtesy: a poll that fails shows no line, and the sync request itself reports what failed.
      callAgent<ReceivedStatus>(agent, 'GET', '/status', PROGRESS_POLL_MS * 4).then((s) => { progress.report(s.transfer) }, () => { progress.report(null) })
    }, PROGRESS_POLL_MS)
    let r: SyncNowResult
    try {
      r = await callAgent<SyncNowResult>(agent, 'POST', `/sync?upload=${upload ? 1 : 0}&download=${download ? 1 : 0}`, 10 * 60_000, token)
    } finally {
      clearInterval(poll)
    }
    stdout(`synced in ${r.ms} ms: ${r.role}, applied version ${r.appliedVersion.term}.${r.appliedVersion.seq}\n`)
    for (const e of r.errors) stdout(`  recent error: ${e.what}: ${e.message}\n`)
    return 0
  }
}
