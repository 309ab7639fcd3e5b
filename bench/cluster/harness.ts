/** Driving a cluster of real agent processes for the benchmarks: start, wait until stable, poll files and status, CPU and load, cleanup. */
import { readFileSync, rmSync } from 'node:fs'
import { appendFile, lstat, open, readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Cluster, type AgentProcess } from '../../test/helpers/agents.js'
import { startPatiently } from '../../test/helpers/join-at-once.js'
import type { LoadReport, Summary } from './types.js'

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export const round = (x: number): number => Math.round(x * 10) / 10

/** Nearest-rank percentile of sorted values. */
function percentile (sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)]
}

export function summarize (xs: Array<number | null>): Summary {
  const s = xs.filter((x): x is number => x !== null).sort((a, b) => a - b)
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), max: s.length > 0 ? s[s.length - 1] : null, min: s.length > 0 ? s[0] : null }
}

/** A summary with every figure rounded to 0.1 ms. */
export function roundSummary (s: Summary): Summary {
  const r = (x: number | null): number | null => x === null ? null : round(x)
  return { n: s.n, p50: r(s.p50), p95: r(s.p95), max: r(s.max), min: r(s.min) }
}

export const vkey = (v: any): string => v === undefined || v === null ? 'none' : `${v.term}.${v.seq}`

/** True when a list file's text has `line` as one of its lines. */
export function hasLine (text: string, line: string): boolean {
  return text.startsWith(line + '\n') || text.includes('\n' + line + '\n') || text === line || text.endsWith('\n' + line)
}

export function blacklistPath (a: AgentProcess): string {
  return join(a.settingsDir, 'blacklist.txt')
}

export async function readText (path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return ''
  }
}

/** Appends one line to a node's blacklist.txt, as `echo line >> blacklist.txt` would. */
export async function appendLine (a: AgentProcess, line: string): Promise<void> {
  await appendLineAt(blacklistPath(a), line)
}

/** Appends one line to a file, as `echo line >> file` would. */
export async function appendLineAt (path: string, line: string): Promise<void> {
  // Only the last byte decides the separator: reading a 1M-line file whole took the bench's own
  // 100-150 ms inside the measured time.
  let last = '\n'
  try {
    const fh = await open(path, 'r')
    try {
      const { size } = await fh.stat()
      if (size > 0) last = (await fh.read(Buffer.alloc(1), 0, 1, size - 1)).buffer.toString('latin1', 0, 1)
    } finally {
      await fh.close()
    }
  } catch {
    // A missing file: appendFile creates it.
  }
  await appendFile(path, (last === '\n' ? '' : '\n') + line + '\n')
}

/**
 * Polls `agent`'s blacklist.txt every `everyMs` until it has `line`; resolves to the time since
 * `t0` (performance.now()), or null after `timeoutMs`.
 */
export async function timeUntilLine (a: AgentProcess, line: string, t0: number, everyMs: number, timeoutMs: number): Promise<number | null> {
  return await timeUntilLineAt(blacklistPath(a), line, t0, everyMs, timeoutMs)
}

/**
 * {@link timeUntilLine} for any file. Only the file's end is read (its last TAIL_BYTES): the line
 * looked for is the one last added, which the agent appends after the file's last line (a new
 * key's line goes at the end, also when the file is replaced) and Syncthing copies with the file.
 * Reading and searching the whole 15 MB file on every change of its lstat (and every poll within
 * the racy window) put 110-190 ms between the agents' write and this poll's answer at 1M lines
 * (traces: the receivers' append at 361-419 ms, reported at 474-600 ms), against 4-20 ms at 10k.
 */
export async function timeUntilLineAt (path: string, line: string, t0: number, everyMs: number, timeoutMs: number): Promise<number | null> {
  // The file is read again only when its lstat differs from the last read one, or when that read
  // was within the mtime's resolution of a change (git's racy rule).
  let seen = ''
  for (;;) {
    const st = await lstat(path, { bigint: true }).catch(() => null)
    const readAt = BigInt(Date.now()) * 1_000_000n
    const sig = st === null ? '' : `${st.ino}/${st.size}/${st.mtimeNs}/${st.ctimeNs}`
    if (sig !== seen && hasLineAtEnd(await readTail(path), line)) return performance.now() - t0
    seen = st !== null && readAt - st.mtimeNs > RACY_NS ? sig : ''
    if (performance.now() - t0 > timeoutMs) return null
    await sleep(everyMs)
  }
}

// An lstat whose mtime is this close to the read may not show a write made in the same tick.
const RACY_NS = 100_000_000n

/** How much of a file's end {@link timeUntilLineAt} reads. */
export const TAIL_BYTES = 64 * 1024

/** The file's last TAIL_BYTES (all of it when shorter; empty when missing) and whether that is the whole file. */
async function readTail (path: string): Promise<{ bytes: Buffer, whole: boolean }> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch {
    return { bytes: Buffer.alloc(0), whole: true }
  }
  try {
    const { size } = await fh.stat()
    const length = Math.min(size, TAIL_BYTES)
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(length), 0, length, size - length)
    return { bytes: buffer.subarray(0, bytesRead), whole: length === size }
  } finally {
    await fh.close()
  }
}

/** Whether the end of a file read by {@link readTail} has `line` as a whole line (bytes, not decoded). */
export function hasLineAtEnd (tail: { bytes: Buffer, whole: boolean }, line: string): boolean {
  const { bytes, whole } = tail
  const l = Buffer.from(line)
  const nl = Buffer.from('\n')
  // Cut from a longer file, the first bytes may be the end of a line: not a line start.
  const startsLine = whole && bytes.length >= l.length && bytes.subarray(0, l.length).equals(l) && (bytes.length === l.length || bytes[l.length] === 0x0a)
  return startsLine || bytes.includes(Buffer.concat([nl, l, nl])) ||
    (bytes.length > l.length && bytes[bytes.length - l.length - 1] === 0x0a && bytes.subarray(bytes.length - l.length).equals(l))
}

/** Status of every agent; null for one that does not answer. */
export async function statuses (agents: AgentProcess[]): Promise<any[]> {
  return await Promise.all(agents.map(async a => await a.status().catch(() => null)))
}

/** One line per agent, for error messages. */
export async function describe (agents: AgentProcess[]): Promise<string> {
  const all = await statuses(agents)
  return all.map((s, i) => s === null
    ? `  node${i + 1}: no answer`
    : `  node${i + 1} ${String(s.nodeId).slice(-8)} ${s.role} term=${s.term} master=${String(s.masterId ?? '').slice(-8)} version=${vkey(s.version)} applied=${vkey(s.appliedVersion)} ` +
      `blacklist=${s.datasets?.blacklist?.entries} errors=${JSON.stringify((s.errors ?? []).slice(-2))}`).join('\n')
}

/** A cluster state where exactly one node is master, all follow it, and all applied its version. */
export function agreed (all: any[]): { masterIndex: number, key: string } | null {
  if (all.some(s => s === null)) return null
  const masters = all.map((s, i) => s.role === 'master' ? i : -1).filter(i => i >= 0)
  if (masters.length !== 1) return null
  const m = all[masters[0]]
  if (!all.every(s => s.masterId === m.nodeId && vkey(s.appliedVersion) === vkey(m.version))) return null
  return { masterIndex: masters[0], key: `${m.nodeId}/${m.term}/${vkey(m.version)}` }
}

/**
 * Waits until {@link agreed} holds and has not changed for `stableMs` (longer than the election's
 * handover window, so a better-ranked node that just joined cannot take over right after), and
 * `extra` holds too. Returns the master and the time from the call until that state began.
 */
export async function waitStable (agents: AgentProcess[], what: string, opts: { stableMs?: number, timeoutMs?: number, extra?: (all: any[]) => boolean, onPoll?: (all: any[], ms: number) => void } = {}): Promise<{ master: AgentProcess, masterIndex: number, ms: number }> {
  const stableMs = opts.stableMs ?? 4000
  const timeoutMs = opts.timeoutMs ?? 60_000
  const t0 = performance.now()
  let lastKey = ''
  let since = 0
  for (;;) {
    const all = await statuses(agents)
    const a = agreed(all)
    const now = performance.now()
    opts.onPoll?.(all, now - t0)
    if (a !== null && (opts.extra?.(all) ?? true)) {
      if (a.key !== lastKey) {
        lastKey = a.key
        since = now
      }
      if (now - since >= stableMs) return { master: agents[a.masterIndex], masterIndex: a.masterIndex, ms: since - t0 }
    } else {
      lastKey = ''
    }
    if (now - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${await describe(agents)}`)
    await sleep(100)
  }
}

/**
 * Starts n agents, each bootstrapped to the first, each given `startTimeoutMs` to answer (an agent
 * scans its settings before it answers: long for a 1M-line list); returns them and the time taken.
 */
export async function startCluster (cluster: Cluster, n: number, beforeFirst?: (a: AgentProcess) => Promise<void>, startTimeoutMs = 90_000): Promise<{ agents: AgentProcess[], ms: number }> {
  const t0 = performance.now()
  const agents: AgentProcess[] = []
  for (let i = 0; i < n; i++) {
    const a = await cluster.add()
    if (i === 0 && beforeFirst !== undefined) await beforeFirst(a)
    await startPatiently(a, i === 0 ? [] : [agents[0].multiaddr], startTimeoutMs)
    agents.push(a)
  }
  return { agents, ms: performance.now() - t0 }
}

/** CPU seconds (user + system) a process used so far, from /proc; null where there is none. */
function cpuSeconds (a: AgentProcess): number | null {
  const pid = a.proc?.pid
  if (pid === undefined || a.proc?.exitCode !== null || a.proc?.signalCode !== null) return null
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

/** Sum of {@link cpuSeconds} over agents (null when /proc is not there). */
export function clusterCpu (agents: AgentProcess[]): number | null {
  let sum = 0
  for (const a of agents) {
    const c = cpuSeconds(a)
    if (c === null) return null
    sum += c
  }
  return sum
}

/** Starts a {@link LoadReport}; call the result to finish it. */
export function loadMeter (agents: AgentProcess[] | null): () => LoadReport {
  const l0 = loadavg()[0]
  const c0 = agents === null ? null : clusterCpu(agents)
  const b0 = process.cpuUsage()
  const t0 = performance.now()
  return () => {
    const c1 = agents === null ? null : clusterCpu(agents)
    const wallSeconds = (performance.now() - t0) / 1000
    const cpu = c0 === null || c1 === null ? null : c1 - c0
    return {
      loadavgStart: round(l0),
      loadavgEnd: round(loadavg()[0]),
      agentCpuSeconds: cpu === null ? null : round(cpu),
      agentCores: cpu === null ? null : Math.round(cpu / wallSeconds * 100) / 100,
      benchCpuSeconds: (() => { const b = process.cpuUsage(b0); return round((b.user + b.system) / 1e6) })(),
      wallSeconds: round(wallSeconds)
    }
  }
}

/** Polls `a`'s status every `everyMs` until its version differs from `from`; time since t0, or null. */
export async function timeUntilVersionChange (a: AgentProcess, from: string, t0: number, everyMs: number, until: () => boolean): Promise<number | null> {
  for (;;) {
    const s = await a.status().catch(() => null)
    if (s !== null && vkey(s.version) !== from) return performance.now() - t0
    if (until()) return null
    await sleep(everyMs)
  }
}

/** Clusters alive right now, so a signal can still clean them up (bench/fanout.ts adds its own). */
export const live = new Set<Cluster>()

/**
 * Last resort when the process dies without running finally blocks (an uncaught error, a closed
 * stdout): kill the agents and remove the folders synchronously.
 */
export function emergencyCleanup (): void {
  for (const c of live) {
    for (const a of c.agents) {
      try { a.proc?.kill('SIGKILL') } catch {}
    }
    try { rmSync(c.root, { recursive: true, force: true }) } catch {}
  }
  live.clear()
}

export async function withCluster<T> (fn: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await Cluster.create('spamsync-bench-cluster-')
  live.add(cluster)
  try {
    return await fn(cluster)
  } finally {
    await cluster.cleanup()
    live.delete(cluster)
  }
}

/** Waits until no node's byte counters move for 1 s (nothing in flight). */
export async function settleCounters (agents: AgentProcess[]): Promise<void> {
  let last = ''
  for (let i = 0; i < 30; i++) {
    const key = JSON.stringify((await statuses(agents)).map(s => [s?.bytesSent, s?.bytesReceived]))
    if (key === last) return
    last = key
    await sleep(1000)
  }
}
