/**
 * spamsync next to plain file sync: Debian's `syncthing` as the reference, both measured the same
 * way on the same data in one run.
 *
 * Syncthing: 3 instances on 127.0.0.1, each with its own home folder under a temp folder; global
 * and local discovery, relays, NAT (and so STUN), usage and crash reporting and auto-upgrade off;
 * GUI/REST on 127.0.0.1 random ports with an API key; the devices know each other by static
 * tcp://127.0.0.1:PORT addresses; one shared folder, fsWatcher on with a 1 s delay (its minimum
 * here) and a 1 s rescan interval (the folder holds one file, so a rescan costs next to nothing).
 * While it runs, every socket of the syncthing processes is checked (from /proc every 200 ms)
 * for a peer outside 127.0.0.1: there must be none.
 * spamsync: 3 `spamsync start` processes as in bench/cluster.ts.
 *
 * Both: the first instance starts with the 121,570-line blacklist.txt; once all three hold it and
 * no byte moves for a second, `reps` times: one line appended to the first instance's file, timed
 * until each of the other two files has it (polled every 10 ms), and the bytes sent per receiving
 * node, counted two ways: the tool's own counters (syncthing: the BEP connection totals of
 * /rest/system/connections, i.e. its protocol messages before TLS; spamsync: bytesSent of
 * /status, the sync streams' bytes before Noise and yamux, without the beacons),
 * and the kernel's count of TCP payload bytes acknowledged on every socket of the processes
 * except their own HTTP port (`ss`; everything on the wire: encryption, muxing, control messages).
 *
 * When syncthing is not installed the bench runs scripts/install-syncthing.sh; when that or
 * syncthing itself fails, its side is skipped with the reason and spamsync is still measured.
 * Run: `npx tsc -p . && npx node dist/bench/syncthing.js [--reps=10] [--list=121k]`.
 * Every process is stopped and every temp folder removed, also on error or Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { freePort, REPO, waitFor } from '../test/helpers/agents.js'
import {
  appendLineAt, blacklistPath, emergencyCleanup, round, roundSummary, settleCounters, sleep, startCluster, statuses,
  summarize, timeUntilLineAt, waitStable, withCluster
} from './cluster/harness.js'
import type { Summary } from './cluster/types.js'
import { benchList, LIST_NAMES, type ListName } from './lists.js'
import { tcpDelta, tcpSnapshot, type TcpSnapshot } from './tcp-bytes.js'
import { parseListFile } from '../src/settings/list-file.js'

/** What main() may be told. */
export interface SyncthingBenchOptions {
  /** One-line changes timed per tool (default 10). */
  reps?: number
  /** The list both tools sync (default 121k). */
  list?: ListName
  /** Print JSON and table (default true). */
  print?: boolean
}

/** One tool's numbers. */
export interface ToolResult {
  tool: 'syncthing' | 'spamsync'
  version: string
  nodes: number
  /** From the first start until every node holds the list and no byte moves. */
  initialSyncMs: number
  /** Every receiver's time for every change. */
  propagation: Summary
  /** Per change, the slower of the two receivers. */
  perRepMax: Summary
  samplesMs: Array<number | null>
  timeouts: number
  /** Per change: the tool's own counters, sum over all nodes / receivers. */
  appBytesPerReceiver: Summary
  appBytesSamples: number[]
  appBytesMethod: string
  /** Per change: TCP payload bytes acknowledged (ss), sum over all nodes / receivers; null without ss. */
  tcpBytesPerReceiver: Summary | null
  tcpBytesSamples: number[]
  /** Sockets that closed during a change (their bytes are missing from the TCP count). */
  tcpSocketsClosed: number
}

/** A side that could not be measured, and why. */
export interface Skipped { skipped: string }

/** Everything main() measured. */
export interface SyncthingBenchResult {
  bench: 'syncthing'
  node: string
  cpus: number
  list: ListName
  listSource: string
  domains: number
  listBytes: number
  reps: number
  pollMs: number
  loadAvg: { start: number, end: number }
  wallMs: number
  syncthing: ToolResult | Skipped
  spamsync: ToolResult | Skipped
  /** Peers outside 127.0.0.1 seen on syncthing's sockets (must be empty), how often and how many sockets were looked at. */
  loopbackCheck: LoopbackCheck | null
}

/** The check that syncthing only talks to 127.0.0.1. */
export interface LoopbackCheck { samples: number, socketsSeen: number, foreignPeers: string[] }

const NODES = 3
const POLL_MS = 10
const FILE = 'blacklist.txt'

// ---------------------------------------------------------------------------------------------
// syncthing instances

/** One syncthing process with its home folder, shared folder, ports and API key. */
class SyncthingInstance {
  proc: ChildProcess | null = null
  deviceId = ''
  output = ''
  readonly apiKey = randomBytes(16).toString('hex')

  constructor (readonly home: string, readonly folder: string, readonly listenPort: number, readonly guiPort: number) {}

  get file (): string { return join(this.folder, FILE) }

  /** Creates the keys (the device id) with `syncthing generate`. */
  async generate (): Promise<void> {
    await mkdir(this.home, { recursive: true })
    const out = spawnSync('syncthing', ['generate', `--home=${this.home}`, '--no-default-folder', '--skip-port-probing'], { encoding: 'utf8', env: syncthingEnv(this.home) })
    if (out.status !== 0) throw new Error(`syncthing generate failed (${out.status ?? out.signal}): ${out.stderr || out.error?.message}`)
    const m = /<device id="([A-Z0-9-]+)"/.exec(await readFile(join(this.home, 'config.xml'), 'utf8'))
    if (m === null) throw new Error(`no device id in ${this.home}/config.xml`)
    this.deviceId = m[1]
  }

  /** Replaces the generated config with the benchmark's (see the file comment). */
  async writeConfig (all: SyncthingInstance[]): Promise<void> {
    await mkdir(join(this.folder, '.stfolder'), { recursive: true })
    const devices = all.map((d, i) => `    <device id="${d.deviceId}" name="st${i + 1}" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
        <address>tcp://127.0.0.1:${d.listenPort}</address>
        <paused>false</paused>
        <autoAcceptFolders>false</autoAcceptFolders>
    </device>`).join('\n')
    const folderDevices = all.map(d => `        <device id="${d.deviceId}" introducedBy=""></device>`).join('\n')
    const xml = `<configuration version="36">
    <folder id="bench" label="bench" path="${this.folder}" type="sendreceive" rescanIntervalS="1" fsWatcherEnabled="true" fsWatcherDelayS="1" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
${folderDevices}
        <minDiskFree unit="%">0</minDiskFree>
        <paused>false</paused>
        <markerName>.stfolder</markerName>
    </folder>
${devices}
    <gui enabled="true" tls="false" debugging="false">
        <address>127.0.0.1:${this.guiPort}</address>
        <apikey>${this.apiKey}</apikey>
        <theme>default</theme>
    </gui>
    <options>
        <listenAddress>tcp://127.0.0.1:${this.listenPort}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <stunKeepaliveStartS>0</stunKeepaliveStartS>
        <stunKeepaliveMinS>0</stunKeepaliveMinS>
        <urAccepted>-1</urAccepted>
        <urSeen>3</urSeen>
        <crashReportingEnabled>false</crashReportingEnabled>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <startBrowser>false</startBrowser>
        <announceLANAddresses>false</announceLANAddresses>
        <reconnectionIntervalS>1</reconnectionIntervalS>
        <setLowPriority>false</setLowPriority>
        <minHomeDiskFree unit="%">0</minHomeDiskFree>
    </options>
</configuration>
`
    await writeFile(join(this.home, 'config.xml'), xml)
  }

  /**
   * Starts syncthing in a process group of its own: even with --no-restart it forks a monitor
   * parent and a child that does the work and holds the sockets.
   */
  async start (): Promise<void> {
    const proc = spawn('syncthing', ['serve', `--home=${this.home}`, '--no-browser', '--no-restart', '--no-upgrade', '--no-default-folder', '--logflags=0'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: syncthingEnv(this.home), detached: true
    })
    this.proc = proc
    proc.stdout?.on('data', (d) => { this.output = (this.output + String(d)).slice(-20_000) })
    proc.stderr?.on('data', (d) => { this.output = (this.output + String(d)).slice(-20_000) })
    await waitFor(`syncthing in ${this.home} to answer`, async () => {
      if (proc.exitCode !== null) throw new Error(`syncthing exited with ${proc.exitCode}: ${this.output.slice(-2000)}`)
      const r = await this.api('/rest/system/ping')
      return r.ping === 'pong'
    }, 60_000)
  }

  async api (path: string): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${this.guiPort}${path}`, { headers: { 'X-API-Key': this.apiKey }, signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
    return await res.json()
  }

  /** BEP bytes this instance sent over all its connections. */
  async bytesSent (): Promise<number> {
    return (await this.api('/rest/system/connections')).total.outBytesTotal as number
  }

  /** Every process of this instance (the monitor and its child). */
  pids (): number[] {
    const pid = this.proc?.pid
    return pid === undefined ? [] : groupPids(pid)
  }

  /** Sends `signal` to the instance's process group; false when it is gone. */
  signal (signal: NodeJS.Signals): boolean {
    const pid = this.proc?.pid
    if (pid === undefined) return false
    try {
      process.kill(-pid, signal)
      return true
    } catch {
      return false
    }
  }

  /** SIGTERM to the group, SIGKILL after 10 s, and wait until no process of the group is left. */
  async stop (): Promise<void> {
    const proc = this.proc
    if (proc === null) return
    this.signal('SIGTERM')
    const t0 = Date.now()
    while (this.pids().length > 0 || (proc.exitCode === null && proc.signalCode === null)) {
      if (Date.now() - t0 > 10_000) this.signal('SIGKILL')
      await sleep(50)
    }
  }
}

/** Processes whose process group is `pgid` (from /proc). */
function groupPids (pgid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1].split(' ')
      // After the name: state, ppid, pgrp.
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(name))
    } catch {}
  }
  return out
}

/** Syncthing's environment: its own HOME, no upgrade or restart monitor. */
function syncthingEnv (home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, STNOUPGRADE: '1', STNORESTART: '1' }
}

/** Syncthing's version, or the reason it is not usable (after trying the install script). */
function syncthingVersion (): { version: string } | Skipped {
  const probe = (): string | null => {
    const r = spawnSync('syncthing', ['--version'], { encoding: 'utf8' })
    if (r.status !== 0) return null
    const line = r.stdout.trim().split('\n')[0]
    return /^syncthing v\S+/.exec(line)?.[0] ?? line
  }
  const before = probe()
  if (before !== null) return { version: before }
  const script = join(REPO, 'scripts', 'install-syncthing.sh')
  const r = spawnSync('sh', [script], { encoding: 'utf8' })
  if (r.status !== 0) return { skipped: `syncthing is not installed and ${script} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-1)[0]}` }
  const after = probe()
  return after === null ? { skipped: 'syncthing --version fails after installing it' } : { version: after }
}

// ---------------------------------------------------------------------------------------------
// the loopback check

/** Hex address of /proc/net/tcp{,6} to dotted/colon form. */
function procAddr (hex: string): string {
  const [addr, port] = hex.split(':')
  const p = parseInt(port, 16)
  if (addr.length === 8) {
    const b = Buffer.from(addr, 'hex').reverse()
    return `${b.join('.')}:${p}`
  }
  const words = addr.match(/.{8}/g) ?? []
  const bytes = Buffer.concat(words.map(w => Buffer.from(w, 'hex').reverse()))
  if (bytes.subarray(0, 10).every(x => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `${[...bytes.subarray(12)].join('.')}:${p}`
  return `[${bytes.toString('hex').match(/.{4}/g)?.join(':')}]:${p}`
}

function isLocal (addr: string): boolean {
  return addr.startsWith('127.') || addr.startsWith('0.0.0.0:') || addr.startsWith('[0000:0000:0000:0000:0000:0000:0000:000') // :: and ::1
}

/** Remote addresses outside 127.0.0.1 of every TCP/UDP socket the processes hold right now, and how many sockets were looked at. */
function foreignPeers (pids: number[]): { found: string[], sockets: number } {
  const found: string[] = []
  let sockets = 0
  for (const pid of pids) {
    let inodes: Set<string>
    try {
      inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try { return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '' } catch { return '' }
      }).filter(x => x !== ''))
    } catch {
      continue
    }
    for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
      let text = ''
      try { text = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8') } catch { continue }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/)
        if (cols.length < 10 || !inodes.has(cols[9])) continue
        sockets++
        const local = procAddr(cols[1])
        const remote = procAddr(cols[2])
        if (!isLocal(remote)) found.push(`${proto} ${local} -> ${remote}`)
        else if (!isLocal(local)) found.push(`${proto} bound to ${local}`)
      }
    }
  }
  return { found, sockets }
}

// ---------------------------------------------------------------------------------------------
// the measure both tools share

/** How one tool is driven: the files, the counters, the processes. */
interface Driver {
  files: string[]
  /** Sum over all nodes of the tool's own sent-bytes counter. */
  appBytesSent: () => Promise<number>
  pids: () => number[]
  httpPorts: number[]
  /** Resolves when no counter moved for a second. */
  settle: () => Promise<void>
}

async function measureChanges (d: Driver, tag: string, reps: number, log: (s: string) => void): Promise<Omit<ToolResult, 'tool' | 'version' | 'nodes' | 'initialSyncMs' | 'appBytesMethod'>> {
  const samples: Array<number | null> = []
  const perRep: Array<number | null> = []
  const app: number[] = []
  const tcp: number[] = []
  let closed = 0
  let haveTcp = true
  for (let rep = 1; rep <= reps; rep++) {
    const line = `${tag}-bench-${rep}.example.com`
    const a0 = await d.appBytesSent()
    const s0: TcpSnapshot | null = tcpSnapshot(d.pids(), d.httpPorts)
    const t0 = performance.now()
    await appendLineAt(d.files[0], line)
    const times = await Promise.all(d.files.slice(1).map(async f => await timeUntilLineAt(f, line, t0, POLL_MS, 60_000)))
    samples.push(...times)
    perRep.push(times.includes(null) ? null : Math.max(...(times as number[])))
    await d.settle()
    app.push(round((await d.appBytesSent() - a0) / (NODES - 1)))
    const s1 = tcpSnapshot(d.pids(), d.httpPorts)
    if (s0 === null || s1 === null) {
      haveTcp = false
    } else {
      const delta = tcpDelta(s0, s1)
      tcp.push(round(delta.bytes / (NODES - 1)))
      closed += delta.closed
    }
    log(`${tag}: change ${rep}: ${times.map(t => t === null ? 'TIMEOUT' : Math.round(t)).join(' / ')} ms, ${app[app.length - 1]} B (own counters) / ${tcp[tcp.length - 1] ?? '?'} B (TCP) per receiver`)
  }
  return {
    propagation: roundSummary(summarize(samples)),
    perRepMax: roundSummary(summarize(perRep)),
    samplesMs: samples.map(x => x === null ? null : round(x)),
    timeouts: samples.filter(x => x === null).length,
    appBytesPerReceiver: summarize(app),
    appBytesSamples: app,
    tcpBytesPerReceiver: haveTcp ? summarize(tcp) : null,
    tcpBytesSamples: tcp,
    tcpSocketsClosed: closed
  }
}

/** Polls `read` every second until it returns the same value twice in a row (at most 30 s). */
async function settleOn (read: () => Promise<string>): Promise<void> {
  let last = ''
  for (let i = 0; i < 30; i++) {
    const now = await read()
    if (now === last) return
    last = now
    await sleep(1000)
  }
}

// ---------------------------------------------------------------------------------------------
// the two sides

const liveSyncthing = new Set<SyncthingInstance>()
const liveRoots = new Set<string>()

async function syncthingSide (list: string, reps: number, version: string, loopback: LoopbackCheck, log: (s: string) => void): Promise<ToolResult> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-bench-syncthing-'))
  liveRoots.add(root)
  const instances: SyncthingInstance[] = []
  const pids = (): number[] => instances.flatMap(i => i.pids())
  const watch = setInterval(() => {
    const seen = foreignPeers(pids())
    loopback.samples++
    loopback.socketsSeen += seen.sockets
    for (const p of seen.found) if (!loopback.foreignPeers.includes(p)) loopback.foreignPeers.push(p)
  }, 200)
  try {
    for (let i = 0; i < NODES; i++) {
      const inst = new SyncthingInstance(join(root, `st${i + 1}`, 'home'), join(root, `st${i + 1}`, 'folder'), await freePort(), await freePort())
      await inst.generate()
      instances.push(inst)
    }
    for (const inst of instances) await inst.writeConfig(instances)
    await writeFile(instances[0].file, list)
    const t0 = performance.now()
    for (const inst of instances) {
      liveSyncthing.add(inst)
      await inst.start()
    }
    log(`syncthing: ${NODES} instances started in ${Math.round(performance.now() - t0)} ms`)
    await waitFor('syncthing to copy the list to every instance', async () => {
      for (const inst of instances.slice(1)) {
        let text: string
        try { text = await readFile(inst.file, 'utf8') } catch { return false }
        if (text !== list) return false
      }
      return true
    }, 300_000, 50)
    const settle = async (): Promise<void> => { await settleOn(async () => JSON.stringify(await Promise.all(instances.map(async i => await i.bytesSent())))) }
    await settle()
    const initialSyncMs = round(performance.now() - t0)
    log(`syncthing: list on all instances, quiet after ${Math.round(initialSyncMs)} ms`)
    const measured = await measureChanges({
      files: instances.map(i => i.file),
      appBytesSent: async () => (await Promise.all(instances.map(async i => await i.bytesSent()))).reduce((a, b) => a + b, 0),
      pids,
      httpPorts: instances.map(i => i.guiPort),
      settle
    }, 'syncthing', reps, log)
    return {
      tool: 'syncthing',
      version,
      nodes: NODES,
      initialSyncMs,
      appBytesMethod: 'sum over instances of /rest/system/connections total.outBytesTotal (BEP messages before TLS)',
      ...measured
    }
  } finally {
    clearInterval(watch)
    for (const inst of instances) { await inst.stop(); liveSyncthing.delete(inst) }
    await rm(root, { recursive: true, force: true })
    liveRoots.delete(root)
  }
}

async function spamsyncSide (list: string, keys: number, reps: number, log: (s: string) => void): Promise<ToolResult> {
  return await withCluster(async (cluster) => {
    const t0 = performance.now()
    const { agents } = await startCluster(cluster, NODES, async (a) => { await writeFile(blacklistPath(a), list) })
    await waitStable(agents, `${keys} blacklist keys on all ${NODES} agents`, {
      timeoutMs: 300_000,
      stableMs: 2000,
      extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === keys)
    })
    await settleCounters(agents)
    const initialSyncMs = round(performance.now() - t0)
    log(`spamsync: list on all agents, quiet after ${Math.round(initialSyncMs)} ms`)
    const version = String((await statuses(agents))[0]?.agentVersion ?? (await statuses(agents))[0]?.version?.agent ?? '?')
    const measured = await measureChanges({
      files: agents.map(a => blacklistPath(a)),
      appBytesSent: async () => (await statuses(agents)).reduce((sum, s) => sum + (s?.bytesSent ?? 0), 0),
      pids: () => agents.map(a => a.proc?.pid).filter((p): p is number => p !== undefined),
      httpPorts: agents.map(a => a.httpPort),
      settle: async () => { await settleCounters(agents) }
    }, 'spamsync', reps, log)
    return {
      tool: 'spamsync',
      version,
      nodes: NODES,
      initialSyncMs,
      appBytesMethod: 'sum over agents of /status bytesSent (sync streams before Noise/yamux; beacons not counted)',
      ...measured
    }
  })
}

// ---------------------------------------------------------------------------------------------
// main

/** Runs both sides, prints JSON and a table, and returns the result. */
export async function main (opts: SyncthingBenchOptions = {}): Promise<SyncthingBenchResult> {
  const reps = opts.reps ?? 10
  const listName = opts.list ?? '121k'
  const print = opts.print ?? true
  const log = (s: string): void => { if (print) process.stderr.write(`[syncthing] ${s}\n`) }
  const { domains, source } = await benchList(listName)
  const list = domains.join('\n') + '\n'
  const keys = parseListFile(list, FILE).entries.size
  const loadStart = loadavg()[0]
  const t0 = performance.now()
  const cleanupSync = (): void => {
    for (const inst of liveSyncthing) inst.signal('SIGKILL')
    for (const r of liveRoots) { try { rmSync(r, { recursive: true, force: true }) } catch {} }
    emergencyCleanup()
  }
  const onSignal = (signal: NodeJS.Signals): void => { cleanupSync(); process.exit(signal === 'SIGINT' ? 130 : 143) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', cleanupSync)
  let syncthing: ToolResult | Skipped
  let spamsync: ToolResult | Skipped
  let loopbackCheck: SyncthingBenchResult['loopbackCheck'] = null
  try {
    const v = syncthingVersion()
    if ('skipped' in v) {
      syncthing = v
    } else {
      loopbackCheck = { samples: 0, socketsSeen: 0, foreignPeers: [] }
      try {
        syncthing = await syncthingSide(list, reps, v.version, loopbackCheck, log)
      } catch (err: any) {
        syncthing = { skipped: `syncthing failed: ${String(err?.message ?? err).split('\n')[0]}` }
      }
    }
    if ('skipped' in syncthing) log(`skipped: ${syncthing.skipped}`)
    try {
      spamsync = await spamsyncSide(list, keys, reps, log)
    } catch (err: any) {
      spamsync = { skipped: `spamsync failed: ${String(err?.message ?? err).split('\n')[0]}` }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', cleanupSync)
  }
  const result: SyncthingBenchResult = {
    bench: 'syncthing',
    node: process.version,
    cpus: availableParallelism(),
    list: listName,
    listSource: source,
    domains: domains.length,
    listBytes: Buffer.byteLength(list),
    reps,
    pollMs: POLL_MS,
    loadAvg: { start: round(loadStart), end: round(loadavg()[0]) },
    wallMs: Math.round(performance.now() - t0),
    syncthing,
    spamsync,
    loopbackCheck
  }
  if (print) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n\n')
    process.stdout.write(comparisonTable(result) + '\n')
  }
  return result
}

/** The two tools side by side: one row per measure, one column per tool. */
export function comparisonRows (r: SyncthingBenchResult): string[][] {
  const ms = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} ms`
  const b = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} B`
  const cell = (side: ToolResult | Skipped, f: (t: ToolResult) => string): string => 'skipped' in side ? 'skipped' : f(side)
  const measures: Array<[string, (t: ToolResult) => string]> = [
    ['version', t => t.version],
    ['initial sync of the list', t => ms(t.initialSyncMs)],
    ['one-line change p50', t => ms(t.propagation.p50)],
    ['one-line change p95', t => ms(t.propagation.p95)],
    ['one-line change max', t => `${ms(t.propagation.max)}${t.timeouts > 0 ? ` (${t.timeouts} timeouts)` : ''}`],
    ['bytes/receiver p50, own counters', t => b(t.appBytesPerReceiver.p50)],
    ['bytes/receiver p50, TCP (ss)', t => t.tcpBytesPerReceiver === null ? 'n/a' : `${b(t.tcpBytesPerReceiver.p50)}${t.tcpSocketsClosed > 0 ? ` (${t.tcpSocketsClosed} sockets closed)` : ''}`]
  ]
  return measures.map(([name, f]) => [name, cell(r.syncthing, f), cell(r.spamsync, f)])
}

/** The result as an aligned text table. */
export function comparisonTable (r: SyncthingBenchResult): string {
  const head = ['measure', 'syncthing', 'spamsync']
  const rows = comparisonRows(r)
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ').trimEnd()
  const notes: string[] = []
  for (const side of [r.syncthing, r.spamsync]) if ('skipped' in side) notes.push(`skipped: ${side.skipped}`)
  if (r.loopbackCheck !== null) {
    notes.push(r.loopbackCheck.foreignPeers.length === 0
      ? `syncthing's sockets checked ${r.loopbackCheck.samples} times (${r.loopbackCheck.socketsSeen} socket looks): only 127.0.0.1 peers`
      : `SYNCTHING TALKED OUTSIDE 127.0.0.1: ${r.loopbackCheck.foreignPeers.join(', ')}`)
  }
  return [
    `syncthing comparison: ${NODES} nodes, ${r.domains}-line ${r.list} list (${r.listSource}, ${r.listBytes} B), ${r.reps} one-line changes each, files polled every ${r.pollMs} ms, ` +
      `node ${r.node}, ${r.cpus} cpus, load ${r.loadAvg.start} -> ${r.loadAvg.end}`,
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line),
    ...notes
  ].join('\n')
}

function parseArgs (argv: string[]): SyncthingBenchOptions {
  const o: SyncthingBenchOptions = {}
  for (const arg of argv) {
    const [k, v = ''] = arg.replace(/^--/, '').split('=')
    if (k === 'reps' && Number.isInteger(Number(v)) && Number(v) > 0) o.reps = Number(v)
    else if (k === 'list' && (LIST_NAMES as readonly string[]).includes(v)) o.list = v as ListName
    else throw new Error(`unknown or bad option ${arg} (--reps=N, --list=${LIST_NAMES.join('|')})`)
  }
  return o
}

/** What --help prints. */
const USAGE = `usage: node dist/bench/syncthing.js [--reps=N] [--list=${LIST_NAMES.join('|')}]
  3 syncthing instances and 3 spamsync agents on 127.0.0.1, the same list, one-line changes timed side by side`

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (runAsScript && process.argv.includes('--help')) {
  process.stdout.write(USAGE + '\n')
} else if (runAsScript) {
  main(parseArgs(process.argv.slice(2))).catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
