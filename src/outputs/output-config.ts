/**
 * The `outputs` config key: a list of `{format, datasets, path, command?, enabled?}`.
 * Validated whole when the config is read; a bad entry stops the agent with one line naming
 * `outputs[i].field` and what is allowed.
 */
import { isAbsolute, resolve } from 'node:path'
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { ConfigError } from '../errors.js'
import { OUTPUT_FORMATS, SINGLE_VERDICT, type OutputFormat } from './formats.js'
import { VERDICT } from './lists.js'

/** One configured output. */
export interface OutputSpec {
  /** What the file is for. */
  format: OutputFormat
  /** The lists that go in, in config order, no repeats. */
  datasets: ListDataset[]
  /** Absolute path of the file. */
  path: string
  /** Shell command run after the file changed ('' for none), with SPAMSYNC_OUTPUT=<path>. */
  command: string
}

const FIELDS = new Set(['format', 'datasets', 'path', 'command', 'enabled'])

/**
 * Checks the `outputs` value of `source`; relative paths are resolved against `baseDir` (the
 * config file's folder). Entries with `"enabled": false` are kept out (`spamsync init` writes
 * its examples that way).
 */
export function parseOutputs (value: unknown, source: string, baseDir: string): OutputSpec[] {
  if (!Array.isArray(value)) throw new ConfigError(`${source}: outputs must be a list of {format, datasets, path, command}`)
  const out: OutputSpec[] = []
  const paths = new Map<string, number>()
  value.forEach((raw: unknown, i) => {
    const where = `${source}: outputs[${i}]`
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where} must be an object {format, datasets, path, command}`)
    const o = raw as Record<string, unknown>
    for (const key of Object.keys(o)) if (!FIELDS.has(key)) throw new ConfigError(`${where}: unknown field ${key} (known: ${[...FIELDS].join(', ')})`)
    if (!(OUTPUT_FORMATS as readonly unknown[]).includes(o.format)) throw new ConfigError(`${where}.format must be one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(o.format)}`)
    const format = o.format as OutputFormat
    const ds = o.datasets
    if (!Array.isArray(ds) || ds.length === 0 || !ds.every(d => (LIST_DATASETS as readonly unknown[]).includes(d))) {
      throw new ConfigError(`${where}.datasets must be a non-empty list of ${LIST_DATASETS.join(', ')}, got ${JSON.stringify(ds)}`)
    }
    const datasets = [...new Set(ds as ListDataset[])]
    if (SINGLE_VERDICT.has(format) && new Set(datasets.map(d => VERDICT[d])).size > 1) {
      throw new ConfigError(`${where}: a ${format} map holds one verdict; put blacklist in its own output, apart from whitelist/autowhitelist`)
    }
    if (typeof o.path !== 'string' || o.path === '') throw new ConfigError(`${where}.path must be a file path, got ${JSON.stringify(o.path)}`)
    if (o.command !== undefined && typeof o.command !== 'string') throw new ConfigError(`${where}.command must be a string, got ${JSON.stringify(o.command)}`)
    if (o.enabled !== undefined && typeof o.enabled !== 'boolean') throw new ConfigError(`${where}.enabled must be true or false, got ${JSON.stringify(o.enabled)}`)
    if (o.enabled === false) return
    const path = isAbsolute(o.path) ? o.path : resolve(baseDir, o.path)
    const other = paths.get(path)
    if (other !== undefined) throw new ConfigError(`${where}.path ${path} is also outputs[${other}].path`)
    paths.set(path, i)
    out.push({ format, datasets, path, command: o.command ?? '' })
  })
  return out
}
