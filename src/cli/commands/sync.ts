import { configHelp, configOptions, type Command } from '../command.js'
import { callAgent, controlTokenOf, httpPortOf } from './status.js'
import { ProgressPrinter, PROGRESS_POLL_MS } from '../progress.js'

/** `spamsync sync`: sync now and wait until done. */
export const syncCommand: Command = {
  name: 'sync',
  help: `Usage: spamsync sync [--upload] [--download] [--http-port N] [--data-dir DIR | --config FILE]

Asks the running agent to scan the settings folder and upload its changes to the master
(--upload), to fetch the master's newest version (--download), or both (the default), and
waits until that is done. A transfer that takes longer than a second shows its progress
(bytes done of total) every half second. The request carries the control token from the
agent's data folder (http.token), which the agent requires on any bind address; point
--data-dir or --config at the agent's data folder when it is not the default (./spamsync-data).
Run it as a user who may read that folder (the agent keeps it mode 0700).

  --upload                    only upload
  --download                  only download
  --http-port N               the agent's HTTP port (default 8737)
${configHelp(['dataDir'])}`,
  options: { upload: { type: 'boolean' }, download: { type: 'boolean' }, 'http-port': { type: 'string' }, ...configOptions(['dataDir']) },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const both = values.upload !== true && values.download !== true
    const upload = both || values.upload === true
    const download = both || values.download === true
    const port = httpPortOf(values['http-port'])
    const token = await controlTokenOf(values)
    // The agent serves status while the sync request is open, so a second request polls progress.
    const progress = new ProgressPrinter(stdout)
    const poll = setInterval(() => {
      callAgent(port, 'GET', '/status', PROGRESS_POLL_MS * 4).then((s) => { progress.report(s.transfer) }, () => {})
    }, PROGRESS_POLL_MS)
    let r: any
    try {
      r = await callAgent(port, 'POST', `/sync?upload=${upload ? 1 : 0}&download=${download ? 1 : 0}`, 10 * 60_000, token)
    } finally {
      clearInterval(poll)
    }
    stdout(`synced in ${r.ms} ms: ${r.role}, applied version ${r.appliedVersion.term}.${r.appliedVersion.seq}\n`)
    for (const e of r.errors ?? []) stdout(`  recent error: ${e.what}: ${e.message}\n`)
    return 0
  }
}
