/**
 * What can be checked about a configuration before anything starts: `start` runs the checks
 * whose failure would otherwise surface half-way through a start (after files were written,
 * or as a stack), `validate` runs them all. One check per part of the setup, so a new part
 * (a new key, a new kind of output) is one more entry in CHECKS.
 */
import { access, constants, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { delimiter, dirname, join, resolve } from 'node:path'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { commandDirOf, type Config } from '../config.js'
import { DEFAULT_DATA_DIR, DEFAULT_SETTINGS_DIR } from '../constants.js'
import { ClusterKeyError, CommandNotFoundError, ConfigError, FileAccessError, PortInUseError } from '../errors.js'
import { readClusterKey } from '../net/cluster-key.js'

/** One check: throws a named error when the part is wrong, else says what it found. */
export interface Check {
  /** The part checked, as `validate` names it. */
  part: string
  /** Run by `start` before it writes anything. */
  atStart: boolean
  /** Run by `validate` (false for what a running agent would fail, such as its own ports). */
  inValidate: boolean
  run: (config: Config) => Promise<string>
}

/** The file's kind, or null when nothing is there. */
async function kindOf (path: string): Promise<'folder' | 'file' | null> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file'
  } catch (err: any) {
    if (err?.code === 'ENOENT') return null
    throw new FileAccessError(`cannot look at ${path}: ${err?.code ?? err}`, { cause: err })
  }
}

function parseAddresses (key: 'listen' | 'bootstrap', values: string[]): Multiaddr[] {
  return values.map((value) => {
    try {
      return multiaddr(value)
    } catch (err: any) {
      throw new ConfigError(`${key}: '${value}' is not a multiaddr (${err?.message ?? err}), e.g. /ip4/0.0.0.0/tcp/4737`, { cause: err })
    }
  })
}

/** Resolves when `port` on `host` can be listened on; PortInUseError when it is taken. */
async function probePort (what: string, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer()
    srv.once('error', (err: any) => {
      reject(err?.code === 'EADDRINUSE'
        ? new PortInUseError(`${what} port ${port} on ${host} is in use by another process (another agent?)`)
        : new ConfigError(`${what}: cannot listen on ${host}:${port}: ${err?.code ?? err}`, { cause: err }))
    })
    srv.listen({ port, host, exclusive: true }, () => { srv.close(() => { resolve() }) })
  })
}

/** Words a shell runs itself: a command starting with one has no program file to look for. */
const SHELL_WORDS = new Set(['cd', 'exec', 'exit', 'export', 'set', 'unset', 'eval', '.', 'source', ':', 'if', 'for', 'while', 'until', 'case', '{', '(', '!', '[', 'test', 'command', 'umask', 'trap', 'echo', 'printf', 'true', 'false', 'read', 'wait'])

/** The program a shell command line starts with (after `VAR=value` words), or null for a shell word. */
export function programOf (command: string): string | null {
  // Words, a quoted one as one word; `VAR=value` words before the program set its environment.
  const words = [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(m => m[1] ?? m[2] ?? m[3])
  const word = words.find(w => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) ?? ''
  return word === '' || SHELL_WORDS.has(word) ? null : word
}

/** Where the program of `command` is, run in `dir`; CommandNotFoundError when it is not found or not executable. */
async function findProgram (key: string, command: string, dir: string): Promise<string> {
  const program = programOf(command)
  if (program === null) return `${key}: starts with a shell word, not checked`
  const candidates = program.includes('/') ? [resolve(dir, program)] : (process.env.PATH ?? '').split(delimiter).filter(p => p !== '').map(p => join(p, program))
  for (const file of candidates) {
    if (await kindOf(file) !== 'file') continue
    try {
      await access(file, constants.X_OK)
      return `${key}: ${file}`
    } catch {
      throw new CommandNotFoundError(`${key}: ${file} is not executable`)
    }
  }
  throw new CommandNotFoundError(`${key}: program '${program}' not found ${program.includes('/') ? `(relative paths are taken from commandDir ${dir})` : 'on PATH'}`)
}

/** Every check, in the order `validate` prints them. */
export const CHECKS: Check[] = [
  {
    part: 'addresses',
    atStart: true,
    inValidate: true,
    run: async (config) => {
      const listen = parseAddresses('listen', config.listen)
      parseAddresses('bootstrap', config.bootstrap)
      return listen.map(String).join(' ')
    }
  },
  {
    part: 'ports',
    atStart: true,
    inValidate: false,
    run: async (config) => {
      for (const ma of parseAddresses('listen', config.listen)) {
        const parts = ma.getComponents()
        const host = parts.find(c => c.name === 'ip4' || c.name === 'ip6')?.value
        const port = Number(parts.find(c => c.name === 'tcp')?.value ?? 0)
        if (host !== undefined && port !== 0) await probePort('libp2p listen', host, port)
      }
      if (config.httpPort !== 0) await probePort('HTTP', config.httpHost, config.httpPort)
      return 'free'
    }
  },
  {
    part: 'dataDir',
    atStart: true,
    inValidate: true,
    run: async (config) => {
      const kind = await kindOf(config.dataDir)
      if (kind === 'file') throw new FileAccessError(`dataDir ${config.dataDir} is a file, not a folder`)
      return kind === null ? `${config.dataDir} (made on first start)` : config.dataDir
    }
  },
  {
    part: 'settingsDir',
    atStart: true,
    inValidate: true,
    run: async (config) => {
      const kind = await kindOf(config.settingsDir)
      if (kind === 'file') throw new FileAccessError(`settingsDir ${config.settingsDir} is a file, not a folder`)
      if (kind === null) {
        // Only the default is made on first start: a given folder that is not there is a typo or a missing mount.
        if (resolve(config.settingsDir) !== resolve(DEFAULT_SETTINGS_DIR)) throw new FileAccessError(`settingsDir ${config.settingsDir} does not exist (make it, or leave settingsDir unset for ${DEFAULT_SETTINGS_DIR})`)
        return `${config.settingsDir} (made on first start)`
      }
      return config.settingsDir
    }
  },
  {
    part: 'clusterKey',
    atStart: true,
    inValidate: true,
    run: async (config) => {
      if (await kindOf(config.clusterKey) === null) {
        // Only the default place gets a new key: a given path that is not there would make a one-node cluster.
        if (resolve(config.clusterKey) !== resolve(join(config.dataDir, 'cluster.key'))) {
          throw new ClusterKeyError(`cluster key ${config.clusterKey} does not exist (copy the cluster's key there, or make a new one with: spamsync keygen --out ${config.clusterKey})`)
        }
        return `${config.clusterKey} (a new key is made on first start)`
      }
      await readClusterKey(config.clusterKey)
      return config.clusterKey
    }
  },
  {
    part: 'commands',
    atStart: false,
    inValidate: true,
    run: async (config) => {
      const dir = commandDirOf(config)
      if (await kindOf(dir) !== 'folder') throw new FileAccessError(`commandDir ${dir} is not a folder`)
      const found = [`commandDir ${dir}`]
      const commands = { bayesExportCommand: config.bayesExportCommand, bayesImportCommand: config.bayesImportCommand, hooksAfterApply: config.hooksAfterApply }
      for (const [key, command] of Object.entries(commands)) {
        if (command !== '') found.push(await findProgram(key, command, dir))
      }
      return found.join('; ')
    }
  },
  {
    part: 'outputs',
    atStart: false,
    inValidate: true,
    run: async (config) => {
      if (config.outputs.length === 0) return 'none'
      const dir = commandDirOf(config)
      const found: string[] = []
      for (const output of config.outputs) {
        found.push(`${output.format} ${output.path} (${await writableFolderFor(output.path)})`)
        if (output.command !== undefined && output.command !== '') found.push(await findProgram(`command of ${output.path}`, output.command, dir))
      }
      return found.join('; ')
    }
  }
]

/**
 * Whether the agent can write `file`: its folder is writable, or (the runner makes missing
 * folders) the nearest folder above it that exists is. Says which; FileAccessError otherwise.
 */
async function writableFolderFor (file: string): Promise<string> {
  let dir = dirname(resolve(file))
  let made = false
  for (;;) {
    const kind = await kindOf(dir)
    if (kind === 'file') throw new FileAccessError(`${dir}, on the way to ${file}, is a file, not a folder`)
    if (kind === 'folder') break
    made = true
    dir = dirname(dir)
  }
  try {
    await access(dir, constants.W_OK)
  } catch (err: any) {
    throw new FileAccessError(`folder ${dir} is not writable for ${file} (${err?.code ?? err})`, { cause: err })
  }
  return made ? `folder made under ${dir}` : 'folder writable'
}

/** Runs the checks `start` needs; the first failure is thrown. */
export async function checkBeforeStart (config: Config): Promise<void> {
  for (const check of CHECKS) if (check.atStart) await check.run(config)
}

/**
 * For `export` and `import`, which work on a stopped node's data folder: the default one
 * (./spamsync-data) must exist, or the command would make a new node identity in whatever
 * folder it was run from. A data folder given by --data-dir, --config or SPAMSYNC_DATA_DIR may
 * be new (importing into a node before its first start). The settings folder is checked as
 * `start` checks it.
 */
export async function checkStoppedNode (config: Config, command: 'export' | 'import'): Promise<void> {
  if (resolve(config.dataDir) === resolve(DEFAULT_DATA_DIR) && await kindOf(config.dataDir) === null) {
    throw new FileAccessError(`no data folder ${DEFAULT_DATA_DIR} here: point --config (or --data-dir) at the node's (no new node is made here), e.g. spamsync ${command} --config /etc/spamsync/spamsync.json`)
  }
  for (const check of CHECKS) if (check.part === 'dataDir' || check.part === 'settingsDir') await check.run(config)
}
