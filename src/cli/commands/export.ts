import { LIST_DATASETS, type ListDataset } from '../../constants.js'
import { loadConfig } from '../../config.js'
import { openLocalState } from '../../local-state.js'
import { buildSettingsArchive } from '../../sync/settings-archive.js'
import { writeFileAtomic } from '../../settings/atomic-write.js'
import { configFlags, configHelp, configOptions, type Command } from '../command.js'
import type { Entry } from '../../crdt/lww-set.js'

const KEYS = ['dataDir', 'settingsDir'] as const

/** `spamsync export FILE.zip`: the node's current settings as a full archive. */
export const exportCommand: Command = {
  name: 'export',
  summary: "write this node's settings to a zip archive",
  help: `Usage: spamsync export [options] FILE.zip

Scans the settings folder, then writes every entry of every list (deleted ones as tombstones,
so an import elsewhere deletes them too) to FILE.zip. The agent must not be running on the
same data folder.

${configHelp([...KEYS])}`,
  options: configOptions([...KEYS]),
  positionals: [1, 1],
  async run ({ values, positionals, stdout }) {
    const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, [...KEYS]) })
    const state = await openLocalState(config)
    try {
      await state.folder.scan()
      const lists = new Map<ListDataset, Entry[]>()
      for (const ds of LIST_DATASETS) lists.set(ds, [...state.replica.entries(ds)])
      const zip = buildSettingsArchive({ kind: 'full', origin: state.identity.nodeId, base: null, version: null }, lists)
      await writeFileAtomic(positionals[0], zip)
      const counts = LIST_DATASETS.map(ds => `${ds} ${state.replica.presentCount(ds)}`).join(', ')
      stdout(`exported ${positionals[0]} (${zip.byteLength} bytes): ${counts}\n`)
    } finally {
      await state.close()
    }
    return 0
  }
}
