/**
 * The shape every CLI command has, so `main.ts` can parse flags, print help and report errors
 * the same way for all of them.
 */
import type { ParseArgsOptionsConfig } from 'node:util'
import { CONFIG_KEYS, flagName, type FlagKey } from '../config.js'

/** Where a command writes. */
export interface CommandIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

/** What a command gets after its flags were parsed. */
export interface CommandContext extends CommandIo {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>
  positionals: string[]
}

/** One verb of the CLI. */
export interface Command {
  /** The verb. */
  name: string
  /** Full `--help` text (usage line first). */
  help: string
  /** Flags besides `--help`. */
  options: ParseArgsOptionsConfig
  /** Lowest and highest number of positional arguments. */
  positionals: [number, number]
  /** Runs the command; resolves to the exit code (0 when undefined). */
  run: (ctx: CommandContext) => Promise<number | undefined>
}

/** parseArgs options for the given config keys (`--no-X` comes from allowNegative). */
export function configOptions (keys: FlagKey[]): ParseArgsOptionsConfig {
  const out: ParseArgsOptionsConfig = { config: { type: 'string' } }
  for (const key of keys) {
    const kind = CONFIG_KEYS[key]
    out[flagName(key)] = kind.type === 'boolean'
      ? { type: 'boolean' }
      : { type: 'string', multiple: kind.type === 'strings' }
  }
  return out
}

/** Column where a help line's description starts, unless a flag is longer. */
export const HELP_COLUMN = 30

/**
 * Help lines (flag, description), the descriptions in one column: HELP_COLUMN, or further right
 * when a flag is longer, so two spaces always separate flag and text.
 */
export function helpTable (rows: Array<[string, string]>): string {
  const column = Math.max(HELP_COLUMN, ...rows.map(([flag]) => 2 + flag.length + 2))
  return rows.map(([flag, text]) => `  ${flag}`.padEnd(column) + text).join('\n')
}

/** Help rows for the given config keys. */
export function configHelpRows (keys: FlagKey[]): Array<[string, string]> {
  const rows: Array<[string, string]> = [['--config FILE', 'JSON config file (keys are the camelCase flag names)']]
  for (const key of keys) {
    const kind = CONFIG_KEYS[key]
    const arg = kind.type === 'boolean' ? '' : kind.type === 'int' ? ' N' : kind.type === 'enum' ? ` ${kind.values.join('|')}` : ' VALUE'
    rows.push([`--${flagName(key)}${arg}`, kind.help])
  }
  return rows
}

/** Help lines for the given config keys. */
export function configHelp (keys: FlagKey[]): string {
  return helpTable(configHelpRows(keys))
}

/** The flag values of config keys, keyed by config key, for `loadConfig`. */
export function configFlags (values: CommandContext['values'], keys: FlagKey[]): Partial<Record<FlagKey, unknown>> {
  const out: Partial<Record<FlagKey, unknown>> = {}
  for (const key of keys) out[key] = values[flagName(key)]
  return out
}
