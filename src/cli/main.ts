/**
 * The `spamsync` command line: finds the verb, parses its flags strictly, and turns errors into
 * one line and an exit code (2 for usage, 1 for any other failure).
 */
import { parseArgs } from 'node:util'
import { SpamsyncError, UsageError } from '../errors.js'
import { AGENT_VERSION } from '../constants.js'
import type { Command, CommandIo } from './command.js'
import { initCommand } from './commands/init.js'
import { keygenCommand } from './commands/keygen.js'
import { exportCommand } from './commands/export.js'
import { importCommand } from './commands/import.js'
import { startCommand } from './commands/start.js'
import { statusCommand } from './commands/status.js'
import { syncCommand } from './commands/sync.js'
import { historyCommand } from './commands/history.js'
import { rollbackCommand } from './commands/rollback.js'

/** Every verb, in the order `--help` lists them. */
export const COMMANDS: Command[] = [initCommand, startCommand, statusCommand, syncCommand, historyCommand, rollbackCommand, keygenCommand, exportCommand, importCommand]

function overview (): string {
  const lines = [`spamsync ${AGENT_VERSION}: keeps anti-spam settings identical across mail servers`, '', 'Usage: spamsync COMMAND [options]', '', 'Commands:']
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(10)}${c.summary}`)
  lines.push('', "Run 'spamsync COMMAND --help' for a command's options.")
  return lines.join('\n') + '\n'
}

/** Runs the CLI; resolves to the process exit code. Commands load their heavy modules when they run. */
export async function runCli (argv: string[], io: CommandIo): Promise<number> {
  const [verb, ...rest] = argv
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.stdout(overview())
    return 0
  }
  if (verb === '--version') {
    io.stdout(`${AGENT_VERSION}\n`)
    return 0
  }
  const command = COMMANDS.find(c => c.name === verb)
  try {
    if (command === undefined) throw new UsageError(`unknown command '${verb}'`)
    let parsed
    try {
      parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, allowNegative: true, strict: true })
    } catch (err: any) {
      throw new UsageError(err.message.replace(/\. To specify a positional argument.*$/, ''))
    }
    if (parsed.values.help === true) {
      io.stdout(command.help + '\n')
      return 0
    }
    const [min, max] = command.positionals
    if (parsed.positionals.length < min) throw new UsageError('missing argument')
    if (parsed.positionals.length > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`)
    return (await command.run({ ...io, values: parsed.values, positionals: parsed.positionals })) ?? 0
  } catch (err: any) {
    if (err instanceof UsageError) {
      io.stderr(`spamsync${command === undefined ? '' : ' ' + command.name}: ${err.message} (see 'spamsync ${command?.name ?? ''} --help')\n`.replace('  --help', ' --help'))
      return 2
    }
    if (err instanceof SpamsyncError && err.expected) {
      io.stderr(`spamsync: ${err.name}: ${err.message}\n`)
      return 1
    }
    io.stderr(`spamsync: unexpected error: ${err?.stack ?? err}\n`)
    return 1
  }
}
