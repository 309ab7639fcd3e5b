/**
 * Configuration: built-in defaults, then the JSON config file, then `SPAMSYNC_*` environment
 * variables, then command-line flags; each later source overrides the earlier. Every value is
 * validated, and a bad one stops the agent with one line naming the key and what is allowed.
 * Keys are the camelCase names of the flags (`--data-dir` is `dataDir`).
 */
import type { LogLevel } from './log.js'
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { ConfigError } from './errors.js'
import { DEFAULT_MAX_SETTINGS_FILE_BYTES, MAX_SETTINGS_FILE_BYTES_LIMIT } from './settings/settings-file.js'
import { didYouMean } from './suggest.js'
import { DEFAULT_DATA_DIR, DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_SKEW_MS, DEFAULT_SETTINGS_DIR } from './constants.js'
import { parseOutputs, type OutputSpec } from './outputs/output-config.js'
import { isPrintable, printable } from './printable.js'
import { NAME_MAX } from './cluster/health.js'
import { DEFAULT_HISTORY_BOUND } from './sync/history-bound.js'

/** The validated configuration of an agent. */
export interface Config {
  /** This node's name in status, the page, metrics and logs, and in its beacons ('' = the host name). */
  name: string
  /** Folder of the LevelDB and other agent state. */
  dataDir: string
  /** Folder of the list files the mail server reads. */
  settingsDir: string
  /** A larger settings file (list or bayes.txt) is not read or written; status names it. */
  maxSettingsFileBytes: number
  /** Cluster key file; created on first start when it does not exist. */
  clusterKey: string
  /** libp2p listen addresses. */
  listen: string[]
  /** Peers to dial at start (other subnets, or tests without mDNS). */
  bootstrap: string[]
  /** LAN discovery by mDNS. */
  mdns: boolean
  /** Port of the HTTP status/control API; 0 picks a free one. */
  httpPort: number
  /** Address the HTTP API binds to. */
  httpHost: string
  /** DNS names requests may address the HTTP API by, besides localhost and IP addresses. */
  httpAllowedHosts: string[]
  /** Election priority: the live node with the highest is master. */
  priority: number
  /** Pinned role, or `auto` to take part in the election. */
  role: 'auto' | 'master' | 'slave'
  /** Refuse peers whose agent version differs at all (GFI's rule), not only the protocol major. */
  strictVersion: boolean
  /** Quiet time after a settings-file change before it is scanned. */
  debounceMs: number
  /** Safety-net rescan of the settings folder, in seconds (0 = off). */
  rescanIntervalSeconds: number
  /** Largest tolerated clock skew of a peer: later stamps are clamped. */
  maxSkewMs: number
  /** Log level. */
  logLevel: LogLevel
  /** Folder the Bayes commands and the hooks run in: relative paths in them are relative to it ('' = the working folder). */
  commandDir: string
  /** Command run before each scan of bayes.txt (e.g. `sa-learn --backup > settings/bayes.txt`); '' for none. */
  bayesExportCommand: string
  /** Command run after a sync rewrote bayes.txt (e.g. `sa-learn --restore settings/bayes.txt`); '' for none. */
  bayesImportCommand: string
  /** Interval of the Bayes scan (export + read), in seconds; 0 = only on `spamsync sync --upload`. */
  bayesScanIntervalSeconds: number
  /** Time limit of each Bayes command, in seconds. */
  bayesCommandTimeoutSeconds: number
  /** Keep only this many newest tokens (by atime) in the written DB; 0 keeps all. */
  bayesMaxTokens: number
  /** Shell command run after a sync changed settings files (their paths in `SPAMSYNC_CHANGED_FILES`); '' for none. */
  hooksAfterApply: string
  /** Time limit of the afterApply hook, in seconds. */
  hooksTimeoutSeconds: number
  /** Scheduled full scan and upload every this many hours (GFI's safety net); 0 = off. */
  uploadIntervalHours: number
  /** Scheduled download check every this many hours; 0 = off. */
  downloadIntervalHours: number
  /** Central versions the master keeps, with snapshots to roll back to. */
  historyVersions: number
  /** Bytes of list content the kept history may hold whatever the lists' size (sync/history-bound.ts). */
  historyFloorBytes: number
  /** The kept history may hold this many times the newest full snapshot when that is more than the floor; 0 = no byte bound. */
  historyFactor: number
  /** A member not heard for this many hours is no longer waited for before tombstones are dropped (sync-v1.md, "Tombstones"). */
  tombstoneKeepHours: number
  /** Full archives are passed on by the peers that hold them, not all sent by the master. */
  fanOut: boolean
  /** Files rendered from the lists for Postfix, SpamAssassin and rspamd (config file only). */
  outputs: OutputSpec[]
}

/** Keys that may also come from flags and environment variables (all but the structured `outputs`). */
export type FlagKey = Exclude<keyof Config, 'outputs'>

/**
 * How a key is read from a string (environment, flag) and checked. A `path` given relative in a
 * config file is taken relative to that file's folder; an `optional` string may be '' (none).
 */
type Kind =
  | { type: 'string', path?: true, optional?: true, maxChars?: number }
  | { type: 'strings', each?: { pattern: RegExp, what: string } }
  | { type: 'boolean' }
  | { type: 'int', min: number, max: number }
  | { type: 'enum', values: readonly string[] }

/** Every config key, its kind and the help text `--help` shows. */
export const CONFIG_KEYS: Record<FlagKey, Kind & { help: string }> = {
  name: { type: 'string', optional: true, maxChars: NAME_MAX, help: `node name shown in status, the page, metrics and logs, up to ${NAME_MAX} characters (default: the host name)` },
  dataDir: { type: 'string', path: true, help: `data folder (default ${DEFAULT_DATA_DIR})` },
  settingsDir: { type: 'string', path: true, help: `settings folder with the list files (default ${DEFAULT_SETTINGS_DIR})` },
  maxSettingsFileBytes: { type: 'int', min: 1024, max: MAX_SETTINGS_FILE_BYTES_LIMIT, help: `largest settings file read, in bytes; a larger one is left alone and shown in status (default ${DEFAULT_MAX_SETTINGS_FILE_BYTES}, 256 MiB)` },
  clusterKey: { type: 'string', path: true, help: 'cluster key file (default <data-dir>/cluster.key, created on first start)' },
  listen: { type: 'strings', help: 'listen multiaddr, repeatable (default /ip4/0.0.0.0/tcp/4737)' },
  bootstrap: { type: 'strings', help: 'peer multiaddr to dial, repeatable' },
  mdns: { type: 'boolean', help: 'find peers on the LAN by mDNS (default on; --no-mdns turns it off)' },
  httpPort: { type: 'int', min: 0, max: 65535, help: 'HTTP status/control port (default 8737)' },
  httpHost: { type: 'string', help: 'HTTP bind address (default 127.0.0.1); POSTs need <data-dir>/http.token on any' },
  httpAllowedHosts: {
    type: 'strings',
    each: { pattern: /^(?=.{1,253}\.?$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i, what: 'DNS names' },
    help: 'DNS name the HTTP API may be addressed by besides localhost and IP addresses, repeatable'
  },
  priority: { type: 'int', min: -1000000, max: 1000000, help: 'election priority, higher wins (default 0)' },
  role: { type: 'enum', values: ['auto', 'master', 'slave'], help: 'auto (default) takes part in the election; master|slave pins the role' },
  strictVersion: { type: 'boolean', help: 'refuse peers running any other agent version (default off)' },
  debounceMs: { type: 'int', min: 0, max: 60000, help: `wait after a file change before scanning (default ${DEFAULT_DEBOUNCE_MS})` },
  rescanIntervalSeconds: { type: 'int', min: 0, max: 86400, help: 'periodic rescan of the settings folder, 0 = off (default 60)' },
  maxSkewMs: { type: 'int', min: 0, max: 86400000, help: `largest trusted clock skew of a peer (default ${DEFAULT_MAX_SKEW_MS})` },
  logLevel: { type: 'enum', values: ['debug', 'info', 'warn', 'error', 'silent'], help: 'log level (default info)' },
  commandDir: { type: 'string', path: true, optional: true, help: "folder the Bayes commands and hooks run in (default: the config file's folder, else the working folder)" },
  bayesExportCommand: { type: 'string', optional: true, help: 'run before each Bayes scan, e.g. "sa-learn --backup > settings/bayes.txt"' },
  bayesImportCommand: { type: 'string', optional: true, help: 'run after a sync rewrote bayes.txt, e.g. "sa-learn --restore settings/bayes.txt"' },
  bayesScanIntervalSeconds: { type: 'int', min: 0, max: 86400, help: 'Bayes scan interval, 0 = only on sync --upload (default 300)' },
  bayesCommandTimeoutSeconds: { type: 'int', min: 1, max: 86400, help: 'time limit of each Bayes command (default 120)' },
  bayesMaxTokens: { type: 'int', min: 0, max: 100000000, help: 'keep only the newest N tokens in the written DB, 0 = all (default 0)' },
  hooksAfterApply: { type: 'string', optional: true, help: 'run after a sync changed settings files (paths in $SPAMSYNC_CHANGED_FILES), e.g. "postmap ..."' },
  hooksTimeoutSeconds: { type: 'int', min: 1, max: 86400, help: 'time limit of the afterApply hook (default 60)' },
  uploadIntervalHours: { type: 'int', min: 0, max: 240, help: 'scheduled scan and upload every N hours, 1-240, 0 = off (default 0)' },
  downloadIntervalHours: { type: 'int', min: 0, max: 240, help: 'scheduled download check every N hours, 1-240, 0 = off (default 0)' },
  historyVersions: { type: 'int', min: 1, max: 10000, help: 'central versions the master keeps for history and rollback (default 50)' },
  historyFloorBytes: { type: 'int', min: 0, max: 2 ** 40, help: `bytes of snapshots the history keeps whatever the lists' size (default ${DEFAULT_HISTORY_BOUND.floorBytes}, 256 KiB)` },
  historyFactor: { type: 'int', min: 0, max: 1000, help: `past the floor, the history keeps at most N times the newest full snapshot, dropping the oldest versions' content first; 0 = no byte bound (default ${DEFAULT_HISTORY_BOUND.factor})` },
  tombstoneKeepHours: { type: 'int', min: 1, max: 8760, help: 'deleted entries wait this long for a silent member before they are forgotten; one away longer takes the master\'s state when it returns (default 24)' },
  fanOut: { type: 'boolean', help: 'peers that hold a full archive pass it on, so the master sends few (default on; --no-fan-out turns it off)' }
}

/** Defaults; `clusterKey` is derived from `dataDir` and `commandDir` from the config file's place when not given. */
export function defaultConfig (): Config {
  return {
    name: '',
    dataDir: DEFAULT_DATA_DIR,
    settingsDir: DEFAULT_SETTINGS_DIR,
    maxSettingsFileBytes: DEFAULT_MAX_SETTINGS_FILE_BYTES,
    clusterKey: '',
    listen: ['/ip4/0.0.0.0/tcp/4737'],
    bootstrap: [],
    mdns: true,
    httpPort: 8737,
    httpHost: '127.0.0.1',
    httpAllowedHosts: [],
    priority: 0,
    role: 'auto',
    strictVersion: false,
    debounceMs: DEFAULT_DEBOUNCE_MS,
    rescanIntervalSeconds: 60,
    maxSkewMs: DEFAULT_MAX_SKEW_MS,
    logLevel: 'info',
    commandDir: '',
    bayesExportCommand: '',
    bayesImportCommand: '',
    bayesScanIntervalSeconds: 300,
    bayesCommandTimeoutSeconds: 120,
    bayesMaxTokens: 0,
    hooksAfterApply: '',
    hooksTimeoutSeconds: 60,
    uploadIntervalHours: 0,
    downloadIntervalHours: 0,
    historyVersions: 50,
    historyFloorBytes: DEFAULT_HISTORY_BOUND.floorBytes,
    historyFactor: DEFAULT_HISTORY_BOUND.factor,
    tombstoneKeepHours: 24,
    fanOut: true,
    outputs: []
  }
}

/** The folder commands run in: `commandDir`, or the working folder for a Config not made by loadConfig. */
export function commandDirOf (config: Pick<Config, 'commandDir'>): string {
  return config.commandDir === '' ? process.cwd() : config.commandDir
}

/** `dataDir` -> `SPAMSYNC_DATA_DIR`. */
export function envName (key: string): string {
  return 'SPAMSYNC_' + key.replace(/[A-Z]/g, c => '_' + c).toUpperCase()
}

/** `dataDir` -> `data-dir`. */
export function flagName (key: string): string {
  return key.replace(/[A-Z]/g, c => '-' + c.toLowerCase())
}

function describe (kind: Kind): string {
  switch (kind.type) {
    case 'string': return kind.maxChars === undefined ? 'a string' : `a string of at most ${kind.maxChars} characters, without control characters`
    case 'strings': return `a list of ${kind.each?.what ?? 'strings'}`
    case 'boolean': return 'true or false'
    case 'int': return `a whole number from ${kind.min} to ${kind.max}`
    case 'enum': return `one of ${kind.values.join(', ')}`
  }
}

/** Checks one value from the JSON file (already typed) against its key's kind. */
function checkValue (key: string, kind: Kind, value: unknown, source: string): unknown {
  const bad = (): never => { throw new ConfigError(`${source}: ${key} must be ${describe(kind)}, got ${JSON.stringify(value)}`) }
  switch (kind.type) {
    case 'string':
      if (typeof value !== 'string' || (value === '' && kind.optional !== true)) bad()
      if (kind.maxChars !== undefined && ((value as string).length > kind.maxChars || !isPrintable(value as string))) bad()
      return value
    case 'strings':
      if (!Array.isArray(value) || !value.every(v => typeof v === 'string' && v !== '' && (kind.each?.pattern.test(v) ?? true))) bad()
      return value
    case 'boolean':
      if (typeof value !== 'boolean') bad()
      return value
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < kind.min || value > kind.max) bad()
      return value
    case 'enum':
      if (typeof value !== 'string' || !kind.values.includes(value)) bad()
      return value
  }
}

/** Turns a string (environment variable, flag) into a value of the key's kind, then checks it. */
export function parseValue (key: string, raw: string | string[] | boolean, source: string): unknown {
  if (!Object.hasOwn(CONFIG_KEYS, key)) throw new ConfigError(`${source}: unknown key ${key}`)
  const kind = CONFIG_KEYS[key as FlagKey]
  let value: unknown = raw
  if (typeof raw === 'string') {
    if (kind.type === 'int' && /^-?\d+$/.test(raw.trim())) value = Number(raw.trim())
    else if (kind.type === 'boolean' && /^(true|false|1|0|yes|no|on|off)$/i.test(raw.trim())) value = /^(true|1|yes|on)$/i.test(raw.trim())
    else if (kind.type === 'strings') value = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  }
  return checkValue(key, kind, value, source)
}

/** Sections a config file may group keys in: `{"bayes": {"exportCommand": ...}}` is `bayesExportCommand`. */
const SECTIONS = ['bayes', 'hooks'] as const

function flattenSections (json: Record<string, unknown>, source: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(json)) {
    if (!(SECTIONS as readonly string[]).includes(key)) {
      out[key] = value
      continue
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${source}: ${key} must be an object`)
    for (const [inner, v] of Object.entries(value)) out[key + inner[0].toUpperCase() + inner.slice(1)] = v
  }
  return out
}

/** The inverse of flattenSections: `bayesExportCommand` goes to `{"bayes": {"exportCommand": ...}}` (for writing a config file). */
export function groupSections (config: Partial<Config>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(config)) {
    const section = SECTIONS.find(s => key.startsWith(s) && /^[A-Z]/.test(key.slice(s.length)))
    if (section === undefined) {
      out[key] = value
      continue
    }
    const inner = key.slice(section.length)
    const group = (out[section] ??= {}) as Record<string, unknown>
    group[inner[0].toLowerCase() + inner.slice(1)] = value
  }
  return out
}

/** A key as a config file may write it: `bayesExportCommand` is `bayes.exportCommand`. */
function fileKeyName (key: string): string {
  const section = SECTIONS.find(s => key.startsWith(s) && /^[A-Z]/.test(key.slice(s.length)))
  return section === undefined ? key : `${section}.${key[section.length].toLowerCase()}${key.slice(section.length + 1)}`
}

/**
 * The text without `//` comments (to the end of the line, outside strings), so a config file
 * can explain itself; `spamsync init` writes one that does.
 */
export function stripLineComments (text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      out += c
      if (c === '\\') out += text[++i] ?? ''
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
      out += c
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else {
      out += c
    }
  }
  return out
}

/** Sources of a configuration besides the defaults. */
export interface ConfigSources {
  /** Path of the JSON config file, if any. */
  file?: string
  /** Environment (only `SPAMSYNC_*` is read). */
  env?: NodeJS.ProcessEnv
  /** Values from flags, keyed by config key (already typed by the flag parser). */
  flags?: Partial<Record<FlagKey, unknown>>
}

/** Resolves and validates a configuration. */
export async function loadConfig (sources: ConfigSources): Promise<Config> {
  const config: Record<string, unknown> = { ...defaultConfig() }
  if (sources.file !== undefined) {
    let json: unknown
    try {
      json = JSON.parse(stripLineComments(await readFile(sources.file, 'utf8')))
    } catch (err: any) {
      throw new ConfigError(`cannot read config ${sources.file}: ${err?.code ?? err?.message ?? err}`, { cause: err })
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`${sources.file}: must be a JSON object`)
    for (const [key, value] of Object.entries(flattenSections(json as Record<string, unknown>, sources.file))) {
      if (key === 'outputs') {
        config.outputs = parseOutputs(value, sources.file, dirname(resolve(sources.file)))
        continue
      }
      if (!Object.hasOwn(CONFIG_KEYS, key)) throw new ConfigError(`${sources.file}: unknown key ${fileKeyName(key)}${didYouMean(key, [...Object.keys(CONFIG_KEYS), 'outputs'], fileKeyName)}`)
      const kind = CONFIG_KEYS[key as FlagKey]
      const checked = checkValue(key, kind, value, sources.file)
      // A config file names its folders relative to itself, so it works from any working folder.
      config[key] = kind.type === 'string' && kind.path === true ? resolve(dirname(sources.file), checked as string) : checked
    }
  }
  for (const key of Object.keys(CONFIG_KEYS)) {
    const raw = sources.env?.[envName(key)]
    if (raw !== undefined && raw !== '') config[key] = parseValue(key, raw, envName(key))
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue
    config[key] = parseValue(key, value as string | string[] | boolean, `--${flagName(key)}`)
  }
  const result = config as unknown as Config
  if (result.uploadIntervalHours > 0 && result.uploadIntervalHours === result.downloadIntervalHours) {
    // GFI's rule, kept so a GFI schedule carries over: equal intervals fire upload and download on the same beat.
    throw new ConfigError(`uploadIntervalHours and downloadIntervalHours must differ when both are set (both are ${result.uploadIntervalHours})`)
  }
  if (result.clusterKey === '') result.clusterKey = join(result.dataDir, 'cluster.key')
  result.name = nodeName(result)
  // The commands run where the config file is, so its relative paths and theirs agree.
  if (result.commandDir === '') result.commandDir = sources.file === undefined ? process.cwd() : dirname(resolve(sources.file))
  return result
}

/** The node's name: `name` when set, else the host name (cut and escaped: a host name is not checked like a setting). */
export function nodeName (config: Pick<Config, 'name'>): string {
  return config.name !== '' ? config.name : printable(hostname(), NAME_MAX)
}
