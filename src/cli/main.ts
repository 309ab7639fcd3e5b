/**
 * The `spamsync` command line: finds the verb, parses its flags strictly, and turns errors into
 * one line and an exit code (2 for usage, 1 for any other failure).
 */
import { parseArgs } from 'node:util'
import { SpamsyncError, UsageError } from '../errors.js'
import { AGENT_VERSION, PROTOCOL_VERSION } from '../constants.js'
import { didYouMean } from '../suggest.js'
import type { ParseArgsOptionsConfig } from 'node:util'
import type { Command, CommandContext, CommandIo } from './command.js'

/** A verb as the overview lists it; its module (and what that imports) loads only when it runs. */
interface CommandEntry {
  name: string
  /** One line for the command list. */
  summary: string
  load: () => Promise<Command>
}

/** Every verb, in the order `--help` lists them. */
export const COMMANDS: CommandEntry[] = [
  { name: 'init', summary: 'write a starting config, a cluster key and an empty settings folder', load: async () => (await import('./commands/init.js')).initCommand },
  { name: 'start', summary: 'run the agent (finds peers, elects a master, keeps the settings in sync)', load: async () => (await import('./commands/start.js')).startCommand },
  { name: 'status', summary: 'show the running agent: role, versions, peers, datasets, errors', load: async () => (await import('./commands/status.js')).statusCommand },
  { name: 'sync', summary: 'make the running agent sync now and wait until it is done', load: async () => (await import('./commands/sync.js')).syncCommand },
  { name: 'history', summary: 'list the central versions the master keeps (for rollback)', load: async () => (await import('./commands/history.js')).historyCommand },
  { name: 'rollback', summary: 'make a new central version whose lists equal a kept version', load: async () => (await import('./commands/rollback.js')).rollbackCommand },
  { name: 'render', summary: 'print the lists as a Postfix, SpamAssassin or rspamd map (a dry run of an output)', load: async () => (await import('./commands/render.js')).renderCommand },
  { name: 'keygen', summary: 'write a new random cluster key', load: async () => (await import('./commands/keygen.js')).keygenCommand },
  { name: 'export', summary: "write this node's settings to a zip archive", load: async () => (await import('./commands/export.js')).exportCommand },
  { name: 'import', summary: 'merge a settings archive into this node', load: async () => (await import('./commands/import.js')).importCommand },
  { name: 'validate', summary: 'check a config, its key, folders and commands without starting', load: async () => (await import('./commands/validate.js')).validateCommand }
]

function overview (): string {
  const lines = [`spamsync ${AGENT_VERSION}: keeps anti-spam settings identical across mail servers`, '', 'Usage: spamsync COMMAND [options]', '', 'Commands:']
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(10)}${c.summary}`)
  lines.push('', "Run 'spamsync COMMAND --help' for a command's options, 'spamsync --version' for the agent,", 'protocol and Node.js versions.')
  return lines.join('\n') + '\n'
}

/**
 * `--priority -5` as `--priority=-5`: parseArgs takes a value that starts with a dash for an
 * option of its own and refuses it, but a negative number after a flag that takes a value is
 * that value.
 */
function joinNegativeValues (args: string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const name = /^--([^=]+)$/.exec(args[i])?.[1]
    if (name !== undefined && options[name]?.type === 'string' && /^-\d+$/.test(args[i + 1] ?? '')) {
      out.push(`${args[i]}=${args[++i]}`)
    } else {
      out.push(args[i])
    }
  }
  return out
}

/** parseArgs' complaint as one line, an unknown flag with the nearest known one. */
function parseError (err: any, options: ParseArgsOptionsConfig): UsageError {
  const unknown = /^Unknown option '(--?[^']+)'/.exec(err.message)?.[1]
  if (unknown !== undefined) {
    const flags = Object.entries(options).flatMap(([name, o]) => o.type === 'boolean' ? [`--${name}`, `--no-${name}`] : [`--${name}`])
    return new UsageError(`unknown option '${unknown}'${didYouMean(unknown, flags)}`)
  }
  return new UsageError(String(err.message).replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' '))
}

/** Runs the CLI; resolves to the process exit code. Commands load their heavy modules when they run. */
export async function runCli (argv: string[], io: CommandIo): Promise<number> {
  const [verb, ...rest] = argv
  if (verb === '--help' || verb === '-h' || verb === 'help') {
    io.stdout(overview())
    return 0
  }
  if (verb === undefined) {
    // No command is a usage error: the overview goes where errors go, and the exit code says so.
    io.stderr(overview())
    return 2
  }
  if (verb === '--version') {
    // The Node.js version too: a packaged agent brings its own, which `node --version` does not show.
    io.stdout(`spamsync ${AGENT_VERSION} (protocol ${PROTOCOL_VERSION}, Node.js ${process.versions.node})\n`)
    return 0
  }
  const entry = COMMANDS.find(c => c.name === verb)
  let command: Command | undefined
  try {
    if (entry === undefined) throw new UsageError(`unknown command '${verb}'${didYouMean(verb, COMMANDS.map(c => c.name))}`)
    command = await entry.load()
    const options: ParseArgsOptionsConfig = { ...command.options, help: { type: 'boolean', short: 'h' } }
    let parsed
    try {
      parsed = parseArgs({ args: joinNegativeValues(rest, options), options, allowPositionals: true, allowNegative: true, strict: true })
    } catch (err: any) {
      throw parseError(err, options)
    }
    if (parsed.values.help === true) {
      io.stdout(command.help + '\n')
      return 0
    }
    const [min, max] = command.positionals
    if (parsed.positionals.length < min) throw new UsageError('missing argument')
    if (parsed.positionals.length > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`)
    return (await command.run({ ...io, values: parsed.values as CommandContext['values'], positionals: parsed.positionals })) ?? 0
  } catch (err: any) {
    if (err instanceof UsageError) {
      io.stderr(`spamsync${entry === undefined ? '' : ' ' + entry.name}: ${err.message} (see 'spamsync ${entry?.name ?? ''} --help')\n`.replace('  --help', ' --help'))
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
