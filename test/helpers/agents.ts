/**
 * Runs real `spamsync start` processes for end-to-end tests: each with its own folders and
 * ports on 127.0.0.1, mDNS off, bootstrapped to the first. Everything started is stopped and
 * every folder removed by `cleanup()`, which tests register with `t.after`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (tests run from dist/test/...). */
export const REPO = resolve(fileURLToPath(import.meta.url), '../../../..')

/** The CLI entry point. */
export const CLI = join(REPO, 'bin', 'spamsync.js')

/** A free TCP port on 127.0.0.1. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => { resolve(port) })
    })
  })
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function waitFor<T> (what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== null && v !== false) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? `: ${last instanceof Error ? String(last) : JSON.stringify(last)}` : ''}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

/** Runs the CLI to completion. */
export function runCli (args: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): { code: number, stdout: string, stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return { code: 0, stdout, stderr: '' }
  } catch (err: any) {
    return { code: err.status ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
  }
}

/** One agent process and its folders. */
export class AgentProcess {
  proc: ChildProcess | null = null
  output = ''
  nodeId = ''

  constructor (
    readonly dir: string,
    readonly port: number,
    readonly httpPort: number,
    readonly keyFile: string,
    public extraArgs: string[] = []
  ) {}

  get settingsDir (): string { return join(this.dir, 'settings') }
  get dataDir (): string { return join(this.dir, 'data') }
  get multiaddr (): string { return `/ip4/127.0.0.1/tcp/${this.port}/p2p/${this.nodeId}` }

  /** The CLI and its `start` arguments. */
  protected startArgs (listen: string, bootstrap: string[]): string[] {
    const args = [CLI, 'start', '--data-dir', this.dataDir, '--settings-dir', this.settingsDir, '--cluster-key', this.keyFile,
      '--listen', listen, '--http-port', String(this.httpPort), '--no-mdns', '--debounce-ms', '50', ...this.extraArgs]
    for (const b of bootstrap) args.push('--bootstrap', b)
    return args
  }

  /** The program to spawn and its arguments. */
  protected command (bootstrap: string[]): { file: string, args: string[] } {
    return { file: process.execPath, args: this.startArgs(`/ip4/127.0.0.1/tcp/${this.port}`, bootstrap) }
  }

  /** Starts the process and waits until its status answers. */
  async start (bootstrap: string[] = []): Promise<void> {
    // Like an operator's: a settings folder given to start must exist.
    await mkdir(this.settingsDir, { recursive: true })
    const { file, args } = this.command(bootstrap)
    const proc = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    proc.stdout?.on('data', (d) => { this.output += String(d) })
    proc.stderr?.on('data', (d) => { this.output += String(d) })
    // Generous: a start on a loaded machine (a LevelDB recovering from kill -9) can take long.
    const status = await waitFor(`agent in ${this.dir} to answer`, async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}: ${this.output}`)
      return await this.status()
    }, 60_000)
    this.nodeId = status.nodeId
  }

  /** GET /status. */
  async status (): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/status`, { signal: AbortSignal.timeout(2000) })
    return await res.json()
  }

  /** SIGTERM, then wait for the exit. */
  async stop (): Promise<number | null> {
    const proc = this.proc
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null
    const exited = new Promise<number | null>(resolve => proc.once('exit', (code) => { resolve(code) }))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
    const code = await exited
    clearTimeout(timer)
    return code
  }

  /** SIGKILL: no chance to clean up. */
  async kill9 (): Promise<void> {
    const proc = this.proc
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<void>(resolve => proc.once('exit', () => { resolve() }))
    proc.kill('SIGKILL')
    await exited
  }

  /** Reads a list file. */
  async readList (name: string): Promise<string> {
    try {
      return await readFile(join(this.settingsDir, `${name}.txt`), 'utf8')
    } catch {
      return ''
    }
  }

  /** Writes a list file (as an operator's editor would). */
  async writeList (name: string, text: string): Promise<void> {
    await writeFile(join(this.settingsDir, `${name}.txt`), text)
  }

  /** The keys of the entry lines of a list file. */
  async keys (name: string): Promise<string[]> {
    return (await this.readList(name)).split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(/\s+/)[0]).sort()
  }
}

/** A set of agents sharing one cluster key, in one temp folder. */
export class Cluster {
  readonly agents: AgentProcess[] = []

  private constructor (readonly root: string, readonly keyFile: string) {}

  /** Makes the folder and the key. */
  static async create (prefix = 'spamsync-e2e-'): Promise<Cluster> {
    const root = await mkdtemp(join(tmpdir(), prefix))
    try {
      const keyFile = join(root, 'cluster.key')
      const { code, stderr } = runCli(['keygen', '--out', keyFile])
      if (code !== 0) throw new Error(`keygen failed: ${stderr.trim()}`)
      return new Cluster(root, keyFile)
    } catch (err) {
      await rm(root, { recursive: true, force: true })
      throw err
    }
  }

  /** Adds an agent (not started) with its own folders and ports. */
  async add (extraArgs: string[] = [], keyFile = this.keyFile): Promise<AgentProcess> {
    const port = await freePort()
    const httpPort = await freePort()
    return await this.addWith(dir => new AgentProcess(dir, port, httpPort, keyFile, extraArgs))
  }

  /** Adds an agent (not started) that `make` builds for its folder; cleanup() stops it too. */
  async addWith<T extends AgentProcess> (make: (dir: string) => T): Promise<T> {
    const dir = join(this.root, `node${this.agents.length + 1}`)
    await mkdir(join(dir, 'settings'), { recursive: true })
    const agent = make(dir)
    this.agents.push(agent)
    return agent
  }

  /** Starts n agents, each bootstrapped to the first; `extraArgs` may differ per agent (its index given). */
  async startAll (n: number, extraArgs: string[] | ((i: number) => string[]) = []): Promise<AgentProcess[]> {
    const started: AgentProcess[] = []
    for (let i = 0; i < n; i++) {
      const a = await this.add(typeof extraArgs === 'function' ? extraArgs(i) : extraArgs)
      await a.start(started.length > 0 ? [started[0].multiaddr] : [])
      started.push(a)
    }
    return started
  }

  /** Waits until exactly one live agent is master and all others follow it. */
  async waitForOneMaster (agents = this.running(), timeoutMs = 20_000): Promise<AgentProcess> {
    return await waitFor('exactly one master followed by all', async () => {
      const statuses = await Promise.all(agents.map(async a => await a.status()))
      const masters = statuses.filter(s => s.role === 'master')
      if (masters.length !== 1) return null
      const following = statuses.every(s => s === masters[0] || (s.role === 'slave' && s.masterId === masters[0].nodeId))
      return following ? agents[statuses.indexOf(masters[0])] : null
    }, timeoutMs)
  }

  /** Agents whose process is running. */
  running (): AgentProcess[] {
    return this.agents.filter(a => a.proc !== null && a.proc.exitCode === null && a.proc.signalCode === null)
  }

  /** Stops every process and removes the folder. */
  async cleanup (): Promise<void> {
    await Promise.all(this.agents.map(async a => { await a.kill9() }))
    await rm(this.root, { recursive: true, force: true })
  }
}
