import { LIST_DATASETS } from '../../constants.js'
import { loadConfig } from '../../config.js'
import { openLocalState } from '../../local-state.js'
import { buildArchive } from '../../sync/archive-build.js'
import { writeFileAtomic } from '../../settings/atomic-write.js'
import { configFlags, configHelp, configOptions, type Command } from '../command.js'
import { checkStoppedNode } from '../checks.js'
import { FileAccessError } from '../../errors.js'
import { BayesFile } from '../../settings/bayes-file.js'

const KEYS = ['dataDir', 'settingsDir'] as const

/** `spamsync export FILE.zip`: the node's current settings as a full archive. */
export const exportCommand: Command = {
  name: 'export',
  help: `Usage: spamsync export [options] FILE.zip

Scans the settings folder, then writes every entry of every list (deleted ones as tombstones,
so an import elsewhere deletes them too) and every node's Bayes contribution (with what
bayes.txt gained since the last scan) to FILE.zip. The agent must not be running on the
same data folder. Without --config, --data-dir or SPAMSYNC_DATA_DIR the data folder is
./spamsync-data, which must exist (no new node identity is made in the working folder); a
settings folder given must exist.

${configHelp([...KEYS])}`,
  options: configOptions([...KEYS]),
  positionals: [1, 1],
  async run ({ values, positionals, stdout }) {
    const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, [...KEYS]) })
    await checkStoppedNode(config, 'export')
    // Entries on demand: a list whose file has not changed since the last scan is read straight
    // from the store as columns, never as objects.
    const state = await openLocalState(config, Date.now, { entries: 'onDemand' })
    try {
      await state.folder.scan()
      const bayesFile = new BayesFile(config.settingsDir, { exportCommand: '', importCommand: '', commandTimeoutMs: 0, maxFileBytes: config.maxSettingsFileBytes })
      const local = await bayesFile.read()
      if (local !== null) await state.bayes.applyScan(local)
      const { zip, lists } = await buildArchive({ kind: 'full', origin: state.identity.nodeId, base: null, version: null }, state.replica, {
        lists: { kind: 'all' },
        bayes: state.bayes.contributions()
      })
      try {
        await writeFileAtomic(positionals[0], zip)
      } catch (err: any) {
        throw new FileAccessError(`cannot write ${positionals[0]}: ${err?.code ?? err}`, { cause: err })
      }
      const counts = [...LIST_DATASETS.map(ds => `${ds} ${lists.get(ds)?.present ?? 0}`), `bayes ${state.bayes.tokenCount} tokens`].join(', ')
      stdout(`exported ${positionals[0]} (${zip.byteLength} bytes): ${counts}\n`)
    } finally {
      await state.close()
    }
    return 0
  }
}
