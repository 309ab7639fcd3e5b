import { readFile } from 'node:fs/promises'
import { loadConfig } from '../../config.js'
import { openLocalState } from '../../local-state.js'
import { readSettingsArchive } from '../../sync/settings-archive.js'
import { UsageError } from '../../errors.js'
import { configFlags, configHelp, configOptions, type Command } from '../command.js'
import { checkStoppedNode } from '../checks.js'
import { BayesFile } from '../../settings/bayes-file.js'
import { SettingsWriter } from '../../sync/settings-writer.js'
import { applyArchive } from '../../sync/archive-apply.js'

const KEYS = ['dataDir', 'settingsDir', 'bayesMaxTokens'] as const

/** `spamsync import FILE.zip`: merges an archive into the local settings. */
export const importCommand: Command = {
  name: 'import',
  help: `Usage: spamsync import [options] FILE.zip

Checks FILE.zip completely (paths, sizes, checksums, every entry) and then merges it into the
local settings: an entry wins where it is newer than the local one, so importing never loses a
newer local change, and importing twice changes nothing. Bayes contributions join the same way
and bayes.txt is rewritten when they grew, keeping the newest bayes.maxTokens tokens as the agent
does (load it with sa-learn --restore afterwards). A bad archive is refused with the
reason and nothing changes. The agent must not be running on the same data folder. Without --config, --data-dir or
SPAMSYNC_DATA_DIR the data folder is ./spamsync-data, which must exist (no new node identity is
made in the working folder); a settings folder given must exist.

${configHelp([...KEYS])}`,
  options: configOptions([...KEYS]),
  positionals: [1, 1],
  async run ({ values, positionals, stdout }) {
    const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, [...KEYS]) })
    await checkStoppedNode(config, 'import')
    let zip: Uint8Array
    try {
      zip = await readFile(positionals[0])
    } catch (err: any) {
      throw new UsageError(`cannot read ${positionals[0]}: ${err?.code ?? err}`)
    }
    const archive = readSettingsArchive(zip)
    const state = await openLocalState(config)
    try {
      await state.folder.scan()
      const failed: unknown[] = []
      const writer = new SettingsWriter({
        folder: state.folder,
        bayes: { replica: state.bayes, file: new BayesFile(config.settingsDir, { exportCommand: '', importCommand: '', commandTimeoutMs: 0, maxFileBytes: config.maxSettingsFileBytes }), maxTokens: config.bayesMaxTokens },
        report: (_what, err) => { failed.push(err) },
        // The folder was scanned just before: an edit found by a write is in the replica, uploaded by the agent at its start.
        editsFoundByWrite: () => {}
      })
      // What bayes.txt gained since the last scan is this node's own, not the archive's.
      if (archive.bayes !== null) await writer.scanBayes()
      const applied = await applyArchive(archive, { replica: state.replica, bayes: state.bayes }, {
        synced: false,
        listChanged: async (dataset) => { await writer.writeList(dataset) }
      })
      if (applied.bayesChanged > 0) await writer.writeBayes()
      if (failed.length > 0) throw failed[0]
      const report = applied.lists.map(l => `${l.dataset} ${l.changed} changed of ${l.carried}`)
      if (archive.bayes !== null) report.push(`bayes ${applied.bayesChanged} tokens changed`)
      stdout(`imported ${positionals[0]} from ${archive.manifest.origin}: ${report.join(', ')}\n`)
    } finally {
      await state.close()
    }
    return 0
  }
}
