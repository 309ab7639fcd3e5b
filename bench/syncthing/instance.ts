/** One syncthing process of the comparison: its home and shared folder, ports, API key, start and stop. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { REPO, waitFor } from '../../test/helpers/agents.js'
import { sleep } from '../cluster/harness.js'
import { FILE, type Skipped } from './types.js'

/** One syncthing process with its home folder, shared folder, ports and API key. */
export class SyncthingInstance {
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
export function syncthingVersion (): { version: string } | Skipped {
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
