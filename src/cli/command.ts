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

/** Help lines for the given config keys. */
export function configHelp (keys: FlagKey[]): string {
  const lines = ['  --config FILE'.padEnd(30) + 'JSON config file (keys are the camelCase flag names)']
  for (const key of keys) {
    const kind = CONFIG_KEYS[key]
    const arg = kind.type === 'boolean' ? '' : kind.type === 'int' ? ' N' : kind.type === 'enum' ? ` ${kind.values.join('|')}` : ' VALUE'
    lines.push(`  --${flagName(key)}${arg}`.padEnd(30) + kind.help)
  }
  return lines.join('\n')
}

/** The flag values of config keys, keyed by config key, for `loadConfig`. */
export function configFlags (values: CommandContext['values'], keys: FlagKey[]): Partial<Record<FlagKey, unknown>> {
  const out: Partial<Record<FlagKey, unknown>> = {}
  for (const key of keys) out[key] = values[flagName(key)]
  return out
}
