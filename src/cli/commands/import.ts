import { readFile } from 'node:fs/promises'
import { loadConfig } from '../../config.js'
import { openLocalState } from '../../local-state.js'
import { readSettingsArchive } from '../../sync/settings-archive.js'
import { UsageError } from '../../errors.js'
import { configFlags, configHelp, configOptions, type Command } from '../command.js'
import { checkStoppedNode } from '../checks.js'
import { BayesFile } from '../../settings/bayes-file.js'

const KEYS = ['dataDir', 'settingsDir'] as const

/** `spamsync import FILE.zip`: merges an archive into the local settings. */
export const importCommand: Command = {
  name: 'import',
  help: `Usage: spamsync import [options] FILE.zip

Checks FILE.zip completely (paths, sizes, checksums, every entry) and then merges it into the
local settings: an entry wins where it is newer than the local one, so importing never loses a
newer local change, and importing twice changes nothing. Bayes contributions join the same way
and bayes.txt is rewritten when they grew (load it with sa-learn --restore afterwards). A bad archive is refused with the
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
      const report: string[] = []
      for (const [dataset, entries] of archive.lists) {
        const changed = await state.replica.merge(dataset, entries, { synced: false })
        if (changed.length > 0) await state.folder.write(dataset)
        report.push(`${dataset} ${changed.length} changed of ${entries.length}`)
      }
      if (archive.bayes !== null) {
        const bayesFile = new BayesFile(config.settingsDir, { exportCommand: '', importCommand: '', commandTimeoutMs: 0, maxFileBytes: config.maxSettingsFileBytes })
        const local = await bayesFile.read()
        if (local !== null) await state.bayes.applyScan(local)
        const grew = await state.bayes.merge(archive.bayes)
        if (grew > 0) {
          const merged = state.bayes.merged()
          // Write-ahead, as the agent does: a crash before the baseline is stored never counts the file as learned here.
          await state.bayes.beginMergedBaseline(merged, 0)
          await bayesFile.write(merged)
          await state.bayes.setMergedBaseline(merged, 0)
        }
        report.push(`bayes ${grew} tokens changed`)
      }
      stdout(`imported ${positionals[0]} from ${archive.manifest.origin}: ${report.join(', ')}\n`)
    } finally {
      await state.close()
    }
    return 0
  }
}
