/**
 * Network namespaces for tests that need real interfaces (mDNS, link cuts, packet loss): every
 * namespace, veth pair and bridge lives inside namespaces this helper creates, so no traffic
 * reaches the machine's own network. Names start with a per-run prefix; `cleanup()` kills every
 * process inside them and deletes them, and `removeLeftovers()` does the same for a run that
 * crashed before its cleanup (its pid no longer lives).
 */
import { execFileSync, execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { AgentProcess, CLI } from './agents.js'

const execFileAsync = promisify(execFile)

function ip (...args: string[]): string {
  return execFileSync('ip', args, { stdio: 'pipe', encoding: 'utf8' })
}

function errorText (err: any): string {
  return String(err?.stderr ?? err?.message ?? err).trim()
}

/** Namespace names of the machine. */
function namespaces (): string[] {
  try {
    return ip('netns', 'list').split('\n').map(l => l.split(' ')[0]).filter(n => n !== '')
  } catch {
    return []
  }
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}

/** Kills every process in a namespace, then deletes it. */
function removeNamespace (ns: string): void {
  try {
    for (const pid of ip('netns', 'pids', ns).split('\n').filter(p => p !== '')) {
      try { process.kill(Number(pid), 'SIGKILL') } catch {}
    }
  } catch {}
  try { ip('netns', 'del', ns) } catch {}
}

/** A set of namespaces named `<family>-<pid>-<name>`, removed together. */
export class NetnsLab {
  readonly made: string[] = []
  readonly prefix: string

  /** `family` names the test (e.g. `sslan`); the run's pid makes the names unique. */
  constructor (readonly family: string) {
    this.prefix = `${family}-${process.pid}-`
  }

  /** Why namespaces cannot be made here (not root, no iproute2), or null when they can. */
  static unavailable (family: string): string | null {
    const probe = `${family}-${process.pid}-probe`
    try {
      ip('netns', 'add', probe)
    } catch (err) {
      return `cannot create a network namespace (needs root and iproute2): ${errorText(err)}`
    }
    removeNamespace(probe)
    return null
  }

  /** Why `tc netem` cannot be used here (the sch_netem kernel module is missing), or null. */
  static netemUnavailable (family: string): string | null {
    const probe = `${family}-${process.pid}-netem`
    try {
      ip('netns', 'add', probe)
      execFileSync('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { stdio: 'pipe' })
      return null
    } catch (err) {
      return `tc netem is not available (the kernel has no sch_netem module): ${errorText(err)}`
    } finally {
      removeNamespace(probe)
    }
  }

  /** Why `command` cannot run here (Debian package `pkg` missing), or null when it can. */
  static commandUnavailable (command: string, versionFlag: string, pkg: string): string | null {
    try {
      execFileSync(command, [versionFlag], { stdio: 'pipe' })
      return null
    } catch (err) {
      return `${command} is not available (Debian package ${pkg}): ${errorText(err)}`
    }
  }

  /** Removes the namespaces of earlier runs of this family whose process is gone. */
  removeLeftovers (): void {
    for (const ns of namespaces()) {
      const m = ns.match(/^(.+)-(\d+)-[^-]+$/)
      if (m === null || m[1] !== this.family || Number(m[2]) === process.pid || pidAlive(Number(m[2]))) continue
      removeNamespace(ns)
    }
  }

  /** The full name of one of this run's namespaces. */
  ns (name: string): string {
    return this.prefix + name
  }

  /** Adds a namespace with its loopback up; with `loopbackMulticast`, multicast goes to lo. */
  addNamespace (name: string, opts: { loopbackMulticast?: boolean } = {}): string {
    const ns = this.ns(name)
    ip('netns', 'add', ns)
    this.made.push(ns)
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    if (opts.loopbackMulticast === true) {
      ip('-n', ns, 'link', 'set', 'lo', 'multicast', 'on')
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lo')
    }
    return ns
  }

  /** Adds a namespace holding one bridge, `br0`, for hosts to plug into. */
  addSwitch (name: string): string {
    const ns = this.addNamespace(name)
    ip('-n', ns, 'link', 'add', 'br0', 'type', 'bridge')
    ip('-n', ns, 'link', 'set', 'br0', 'up')
    return ns
  }

  /**
   * Adds a host namespace with `eth0` at `cidr`, plugged into the switch by a veth pair whose
   * switch end is named `port`; multicast (mDNS) is routed out of eth0.
   */
  addHost (name: string, switchNs: string, port: string, cidr: string): string {
    const ns = this.addNamespace(name)
    ip('-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    ip('-n', switchNs, 'link', 'set', port, 'master', 'br0')
    ip('-n', switchNs, 'link', 'set', port, 'up')
    ip('-n', ns, 'addr', 'add', cidr, 'dev', 'eth0')
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
    return ns
  }

  /** Sets a link of a namespace up or down. */
  setLink (ns: string, dev: string, up: boolean): void {
    ip('-n', ns, 'link', 'set', dev, up ? 'up' : 'down')
  }

  /**
   * Drops `percent`% of the packets arriving on `dev` in `ns`, each chosen at random, with an
   * nftables netdev ingress hook. Ingress, because there the sender never learns of the drop, as
   * on a lossy wire or with netem; a drop on egress fails the sender's own transmit call, and TCP
   * and ping then resend at once, so almost nothing is lost.
   */
  addIngressLoss (ns: string, dev: string, percent: number): void {
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      input: `table netdev lossy {
  chain ingress {
    type filter hook ingress device "${dev}" priority 0; policy accept;
    numgen random mod 100 < ${percent} drop
  }
}
`
    })
  }

  /** Pings `address` `count` times from `ns` (100 a second) and returns the share of pings without a reply. */
  pingLoss (ns: string, address: string, count: number): number {
    const run = spawnSync('ip', ['netns', 'exec', ns, 'ping', '-q', '-c', String(count), '-i', '0.01', '-W', '1', address], { encoding: 'utf8' })
    const m = run.stdout.match(/(\d+) packets transmitted, (\d+) received/)
    if (m === null) throw new Error(`ping from ${ns} to ${address} printed no summary: ${run.stdout}${run.stderr}`)
    return 1 - Number(m[2]) / Number(m[1])
  }

  /** Runs a command inside a namespace and returns its stdout. */
  exec (ns: string, cmd: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', encoding: 'utf8' })
  }

  /** Kills every process in this run's namespaces and deletes them. */
  cleanup (): void {
    for (const ns of this.made.splice(0).reverse()) removeNamespace(ns)
  }
}

/**
 * An agent process inside a namespace: mDNS on, listening on the namespace's own address, its
 * HTTP status asked through `ip netns exec` (127.0.0.1 of the namespace is not the test's).
 */
export class NetnsAgent extends AgentProcess {
  constructor (readonly netns: string, readonly address: string, dir: string, keyFile: string, ports = { p2p: 4737, http: 8737 }) {
    super(dir, ports.p2p, ports.http, keyFile)
  }

  override get multiaddr (): string { return `/ip4/${this.address}/tcp/${this.port}/p2p/${this.nodeId}` }

  protected override command (bootstrap: string[]): { file: string, args: string[] } {
    const start = this.startArgs(`/ip4/${this.address}/tcp/${this.port}`, bootstrap).filter(a => a !== '--no-mdns')
    return { file: 'ip', args: ['netns', 'exec', this.netns, process.execPath, ...start] }
  }

  override async status (): Promise<any> {
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', this.netns, process.execPath, CLI, 'status', '--json', '--http-port', String(this.httpPort)], { timeout: 30_000 })
    return JSON.parse(stdout)
  }
}
