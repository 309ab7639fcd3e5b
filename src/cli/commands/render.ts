import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '../../config.js'
import { LIST_DATASETS, listFileName, type ListDataset } from '../../constants.js'
import { FileAccessError, UsageError } from '../../errors.js'
import { parseListFile } from '../../settings/list-file.js'
import { writeFileAtomic } from '../../settings/atomic-write.js'
import { OUTPUT_FORMATS, renderOutput, SINGLE_VERDICT, type OutputFormat } from '../../outputs/formats.js'
import { resolveLists, VERDICT, type ListItem } from '../../outputs/lists.js'
import { configFlags, configHelp, configOptions, type Command } from '../command.js'

const KEYS = ['settingsDir'] as const

/** The valid entries of a list file; a missing file is an empty list. */
async function readList (dir: string, dataset: ListDataset): Promise<ListItem[]> {
  const path = join(dir, listFileName(dataset))
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    if (err?.code === 'ENOENT') return []
    throw new FileAccessError(`cannot read ${path}: ${err?.code ?? err}`, { cause: err })
  }
  return [...parseListFile(text, path).entries].map(([key, value]) => ({ key, value }))
}

/** `spamsync render`: one output rendered from the list files, for dry runs and scripts. */
export const renderCommand: Command = {
  name: 'render',
  help: `Usage: spamsync render --format FORMAT --datasets LIST[,LIST...] [options]

Renders the list files of the settings folder as one output would (see "outputs" in the
README) and prints it, or writes it atomically to --out FILE. A summary (entries written,
entries left out and why, keys in lists with opposite verdicts) goes to stderr. Reads the
list files only, so it works while the agent runs.

  --format FORMAT             ${OUTPUT_FORMATS.join(', ')}
  --datasets LISTS            comma-separated: ${LIST_DATASETS.join(', ')}
  --out FILE                  write FILE instead of printing
${configHelp([...KEYS])}`,
  options: { ...configOptions([...KEYS]), format: { type: 'string' }, datasets: { type: 'string' }, out: { type: 'string' } },
  positionals: [0, 0],
  async run ({ values, stdout, stderr }) {
    const format = values.format
    if (typeof format !== 'string' || !(OUTPUT_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`)
    }
    const names = typeof values.datasets === 'string' ? values.datasets.split(',').map(s => s.trim()).filter(s => s !== '') : []
    const bad = names.find(n => !(LIST_DATASETS as readonly string[]).includes(n))
    if (names.length === 0 || bad !== undefined) throw new UsageError(`--datasets must list some of ${LIST_DATASETS.join(', ')}${bad === undefined ? '' : `, got '${bad}'`}`)
    const datasets = [...new Set(names as ListDataset[])]
    if (SINGLE_VERDICT.has(format as OutputFormat) && new Set(datasets.map(d => VERDICT[d])).size > 1) {
      throw new UsageError(`a ${format} map holds one verdict: render blacklist apart from whitelist/autowhitelist`)
    }
    const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, [...KEYS]) })
    // Every list is read: a key's precedence depends on the lists it is in, not only the rendered ones.
    const lists: Partial<Record<ListDataset, ListItem[]>> = {}
    for (const ds of LIST_DATASETS) lists[ds] = await readList(config.settingsDir, ds)
    const r = renderOutput(format as OutputFormat, resolveLists(lists), datasets)
    const out = values.out
    if (typeof out === 'string' && out !== '') {
      try {
        await writeFileAtomic(out, r.text)
      } catch (err: any) {
        throw new FileAccessError(`cannot write ${out}: ${err?.code ?? err}`, { cause: err })
      }
    } else {
      stdout(r.text)
    }
    const left = Object.entries(r.leftOut).map(([why, n]) => `${n} ${why}`)
    stderr(`${format}: ${r.written} entries written${typeof out === 'string' && out !== '' ? ` to ${out}` : ''}; ${left.length === 0 ? 'none left out' : `left out: ${left.join('; ')}`}; ${r.conflicts} keys in lists with opposite verdicts\n`)
    return 0
  }
}
