/**
 * Benchmark of whole clusters of real `spamsync start` processes on 127.0.0.1 (mDNS off, every
 * node bootstrapped to the first, 50 ms debounce), driven through their settings folders and
 * status API as an operator would:
 *
 * 1. propagation: in clusters of 2, 5, 10 and 20 nodes, a line appended to one node's
 *    blacklist.txt, timed until it is in every other node's file (each file polled every 10 ms);
 * 2. bytes: sync-stream bytes per receiving node for a one-line change on a slave of a cluster
 *    whose blacklist holds 10k, 121k (the domains of `disposable-email-domains`) or 1M
 *    (generated) entries, next to the size of a full archive of the same list;
 * 3. failover: in a 3-node cluster, the master killed with SIGKILL, timed until the survivors
 *    agree on a new master, and until a change made on the surviving slave is on both
 *    (10 trials, every sample kept).
 *
 * Prints one JSON object, then a table with the targets next to the numbers.
 * Run: `npx tsc -p . && npx node dist/bench/cluster.js [propagation] [bytes] [failover]
 *   [--sizes=2,5,10,20] [--trials=20] [--lists=10k,121k,1M] [--failover-trials=10] [--seed=N]`.
 * Every process is stopped and every temp folder removed, also on error or Ctrl-C.
 */
import { readFileSync, rmSync } from 'node:fs'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { Cluster, runCli, type AgentProcess } from '../test/helpers/agents.js'
import { parseListFile } from '../src/settings/list-file.js'
import { benchList, LIST_NAMES, prng, type ListName } from './lists.js'
import { startPatiently } from '../test/helpers/join-at-once.js'

/** Targets on the reference machine. */
export const TARGETS = {
  propagationP50Ms: 1000,
  propagationP95Ms: 2000,
  bytesPerReceiver: 2048,
  failoverMs: 5000
} as const

/** What main() may be told; every field has a default (the brief's numbers). */
export interface ClusterBenchOptions {
  /** Phases to run (default all three). */
  phases?: Array<'propagation' | 'bytes' | 'failover'>
  /** Sizes of the propagation clusters, one cluster each (default 2, 5, 10, 20). */
  propagationSizes?: number[]
  /** Propagation trials per size (default 20). */
  propagationTrials?: number
  /** Pause between propagation trials (default 300 ms). */
  trialPauseMs?: number
  /** Nodes of the bytes cluster (default 3). */
  bytesNodes?: number
  /** Lists of the bytes phase, one cluster each (default 10k, 121k, 1M). */
  bytesLists?: ListName[]
  /** Failover trials (default 10). */
  failoverTrials?: number
  /** Seed of the random choice of origin nodes (default: from the clock; printed). */
  seed?: number
  /** Print JSON and table (default true). */
  print?: boolean
}

/** A timing summary. */
export interface Summary {
  n: number
  p50: number | null
  p95: number | null
  max: number | null
  min: number | null
}

/** Result of the propagation phase. */
export interface PropagationResult {
  nodes: number
  trials: number
  startMs: number
  stableMs: number
  /** Over every (trial, receiver) sample. */
  samples: Summary
  /** Per-trial maximum over receivers. */
  perTrialMax: Summary
  /** Samples split by the origin's role. */
  fromMaster: Summary
  fromSlave: Summary
  timeouts: number
  /** Lines that were not on every node at the end (should be empty). */
  missingAtEnd: string[]
  /** Elections that happened during the trials (master or term changed; should be 0). */
  masterChanges: number
  /** Origin write until the master's status shows the new central version (upload + merge + cut). */
  toMaster: Summary
  /** Load on the machine and CPU the agents used during the trials. */
  load: LoadReport
  trialDetail: Array<{ trial: number, origin: number, originRole: string, maxMs: number | null, toMasterMs: number | null, agentCpuMs: number | null, samplesMs: Array<number | null> }>
}

/** How busy the machine was: other processes share the CPUs with the agents. */
export interface LoadReport {
  /** 1-minute load average at the start and end of the measured part. */
  loadavgStart: number
  loadavgEnd: number
  /** CPU seconds all agents used in the measured part, and per wall second (cores). */
  agentCpuSeconds: number | null
  agentCores: number | null
  /** CPU seconds this benchmark process used meanwhile (its polling of files and status). */
  benchCpuSeconds: number
  wallSeconds: number
}

/** Result of the bytes phase for one list. */
export interface BytesResult {
  list: ListName
  /** Where the list's domains come from. */
  source: string
  /** Size of the blacklist.txt the first node starts with. */
  listBytes: number
  nodes: number
  domains: number
  keys: number
  startMs: number
  /** From the first start until every node holds every key and the versions agree. */
  convergeMs: number
  /** False when every attempt saw a term change (the numbers then include full re-syncs). */
  clean: boolean
  /** From the one-line change until every node's file has it. */
  changeMs: number
  /** Sum of bytesSent of all nodes for the change / (N-1). */
  totalSentPerReceiver: number
  /** Sum of bytesReceived of all nodes for the change / (N-1). */
  totalReceivedPerReceiver: number
  /** The master's bytesSent for the change / (N-1). */
  masterSentPerReceiver: number
  /** Per node, for the change. */
  perNode: Array<{ node: number, role: string, sentDelta: number, receivedDelta: number }>
  /** Every attempt of the one-line change (the reported one is the first without a term change). */
  attempts: Array<{
    attempt: number
    origin: number
    masterBefore: number
    masterAfter: number
    termBefore: number
    termAfter: number
    changeMs: number
    totalSentPerReceiver: number
    totalReceivedPerReceiver: number
    masterSentPerReceiver: number
    perNode: Array<{ node: number, role: string, sentDelta: number, receivedDelta: number }>
  }>
  /** Slaves' bytesReceived during the initial convergence / (N-1). */
  initialReceivedPerSlave: number
  /** Zip bytes of the full download the slaves last applied (status lastDownload), if full. */
  fullDownloadBytes: number[]
  /** `spamsync export` of a stopped node. */
  exportBytes: number | null
  /** Changes of the cluster's state while it converged: `ms node:role/term/entries/applied ...`. */
  convergeTimeline: string[]
  /** The master killed after the change: time until the survivors agree again, bytes they moved (121k list only). */
  failover?: { syncedMs: number, perNode: Array<{ node: number, role: string, sentDelta: number, receivedDelta: number }>, timeline: string[] }
}

/** Result of the failover phase. */
export interface FailoverResult {
  nodes: number
  trials: number
  startMs: number
  /** Kill until a survivor is master and the other follows it. */
  elected: Summary
  /** Kill until the change made on the surviving slave right after the election is on both survivors. */
  changeOnSurvivors: Summary
  /** From writing that change until it is on both survivors. */
  changeAfterWrite: Summary
  /** Restart of the killed node until one stable master and equal versions on all three. */
  rejoin: Summary
  load: LoadReport
  trialDetail: Array<{ trial: number, killed: string, newMaster: string, termBefore: number, termAfter: number, electedMs: number, changeOnSurvivorsMs: number, changeAfterWriteMs: number, rejoinMs: number, restartedHasChange: boolean }>
}

/** Everything main() measured. */
export interface ClusterBenchResult {
  bench: 'cluster'
  node: string
  platform: string
  cpus: number
  seed: number
  wallMs: number
  /** One per cluster size. */
  propagation?: PropagationResult[]
  /** One per list. */
  bytes?: BytesResult[]
  failover?: FailoverResult
  /** Steps (a cluster size, a list, failover) that failed, with their error. */
  errors: Record<string, string>
}

// ---------------------------------------------------------------------------------------------
// small helpers

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


const vkey = (v: any): string => v === undefined || v === null ? 'none' : `${v.term}.${v.seq}`

/** True when a list file's text has `line` as one of its lines. */
function hasLine (text: string, line: string): boolean {
  return text.startsWith(line + '\n') || text.includes('\n' + line + '\n') || text === line || text.endsWith('\n' + line)
}

export function blacklistPath (a: AgentProcess): string {
  return join(a.settingsDir, 'blacklist.txt')
}

async function readText (path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return ''
  }
}

/** Appends one line to a node's blacklist.txt, as `echo line >> blacklist.txt` would. */
async function appendLine (a: AgentProcess, line: string): Promise<void> {
  await appendLineAt(blacklistPath(a), line)
}

/** Appends one line to a file, as `echo line >> file` would. */
export async function appendLineAt (path: string, line: string): Promise<void> {
  const text = await readText(path)
  await appendFile(path, (text === '' || text.endsWith('\n') ? '' : '\n') + line + '\n')
}

/**
 * Polls `agent`'s blacklist.txt every `everyMs` until it has `line`; resolves to the time since
 * `t0` (performance.now()), or null after `timeoutMs`.
 */
async function timeUntilLine (a: AgentProcess, line: string, t0: number, everyMs: number, timeoutMs: number): Promise<number | null> {
  return await timeUntilLineAt(blacklistPath(a), line, t0, everyMs, timeoutMs)
}

/** {@link timeUntilLine} for any file. */
export async function timeUntilLineAt (path: string, line: string, t0: number, everyMs: number, timeoutMs: number): Promise<number | null> {
  for (;;) {
    if (hasLine(await readText(path), line)) return performance.now() - t0
    if (performance.now() - t0 > timeoutMs) return null
    await sleep(everyMs)
  }
}

/** Status of every agent; null for one that does not answer. */
export async function statuses (agents: AgentProcess[]): Promise<any[]> {
  return await Promise.all(agents.map(async a => await a.status().catch(() => null)))
}

/** One line per agent, for error messages. */
async function describe (agents: AgentProcess[]): Promise<string> {
  const all = await statuses(agents)
  return all.map((s, i) => s === null
    ? `  node${i + 1}: no answer`
    : `  node${i + 1} ${String(s.nodeId).slice(-8)} ${s.role} term=${s.term} master=${String(s.masterId ?? '').slice(-8)} version=${vkey(s.version)} applied=${vkey(s.appliedVersion)} ` +
      `blacklist=${s.datasets?.blacklist?.entries} errors=${JSON.stringify((s.errors ?? []).slice(-2))}`).join('\n')
}

/** A cluster state where exactly one node is master, all follow it, and all applied its version. */
function agreed (all: any[]): { masterIndex: number, key: string } | null {
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
function clusterCpu (agents: AgentProcess[]): number | null {
  let sum = 0
  for (const a of agents) {
    const c = cpuSeconds(a)
    if (c === null) return null
    sum += c
  }
  return sum
}

/** Starts a {@link LoadReport}; call the result to finish it. */
function loadMeter (agents: AgentProcess[] | null): () => LoadReport {
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
async function timeUntilVersionChange (a: AgentProcess, from: string, t0: number, everyMs: number, until: () => boolean): Promise<number | null> {
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

// ---------------------------------------------------------------------------------------------
// 1. propagation

async function propagation (opts: { propagationNodes: number, propagationTrials: number, trialPauseMs: number }, random: () => number, log: (s: string) => void): Promise<PropagationResult> {
  return await withCluster(async (cluster) => {
    const n = opts.propagationNodes
    const { agents, ms: startMs } = await startCluster(cluster, n)
    log(`propagation: ${n} agents started in ${Math.round(startMs)} ms`)
    const stable = await waitStable(agents, `one master of ${n} agents`, { timeoutMs: 90_000 })
    log(`propagation: stable master node${stable.masterIndex + 1} after ${Math.round(stable.ms)} ms more`)
    const before = agreed(await statuses(agents))

    const timeoutMs = 15_000
    const all: Array<number | null> = []
    const fromMaster: Array<number | null> = []
    const fromSlave: Array<number | null> = []
    const trialDetail: PropagationResult['trialDetail'] = []
    const toMaster: Array<number | null> = []
    const meter = loadMeter(agents)
    let masterChanges = 0
    let lastMasterKey = before?.key.split('/').slice(0, 2).join('/') ?? ''
    for (let trial = 1; trial <= opts.propagationTrials; trial++) {
      const origin = Math.floor(random() * n)
      const state = await statuses(agents)
      const a = agreed(state)
      const masterKey = a === null ? 'none' : a.key.split('/').slice(0, 2).join('/')
      if (masterKey !== lastMasterKey) masterChanges++
      lastMasterKey = masterKey
      const originRole = state[origin]?.role ?? 'unknown'
      const line = `bench-${trial}.example.com`
      const receivers = agents.filter((_, i) => i !== origin)
      const master = a === null ? null : agents[a.masterIndex]
      const masterVersion = a === null ? '' : vkey(state[a.masterIndex].version)
      const cpu0 = clusterCpu(agents)
      const t0 = performance.now()
      await appendLine(agents[origin], line)
      let done = false
      const [samples, toMasterMs] = await Promise.all([
        Promise.all(receivers.map(async r => await timeUntilLine(r, line, t0, 10, timeoutMs))).finally(() => { done = true }),
        master === null ? null : timeUntilVersionChange(master, masterVersion, t0, 25, () => done)
      ])
      const cpu1 = clusterCpu(agents)
      toMaster.push(toMasterMs)
      all.push(...samples)
      ;(originRole === 'master' ? fromMaster : fromSlave).push(...samples)
      const got = samples.filter((x): x is number => x !== null)
      const maxMs = samples.includes(null) ? null : Math.max(...got)
      trialDetail.push({
        trial,
        origin: origin + 1,
        originRole,
        maxMs: maxMs === null ? null : round(maxMs),
        toMasterMs: toMasterMs === null ? null : round(toMasterMs),
        agentCpuMs: cpu0 === null || cpu1 === null ? null : Math.round((cpu1 - cpu0) * 1000),
        samplesMs: samples.map(x => x === null ? null : round(x)) })
      log(`propagation: trial ${trial} from node${origin + 1} (${originRole}): max ${maxMs === null ? 'TIMEOUT' : Math.round(maxMs)} ms, at master after ${toMasterMs === null ? '?' : Math.round(toMasterMs)} ms, load ${loadavg()[0].toFixed(1)}`)
      await sleep(opts.trialPauseMs)
    }

    const load = meter()
    // Every bench line must be on every node (the origin's own edit included).
    const missingAtEnd: string[] = []
    for (let trial = 1; trial <= opts.propagationTrials; trial++) {
      const line = `bench-${trial}.example.com`
      for (const [i, a] of agents.entries()) if (!hasLine(await readText(blacklistPath(a)), line)) missingAtEnd.push(`${line}@node${i + 1}`)
    }
    const maxes = trialDetail.map(t => t.maxMs)
    return {
      nodes: n,
      trials: opts.propagationTrials,
      startMs: round(startMs),
      stableMs: round(stable.ms),
      samples: roundSummary(summarize(all)),
      perTrialMax: roundSummary(summarize(maxes)),
      fromMaster: roundSummary(summarize(fromMaster)),
      fromSlave: roundSummary(summarize(fromSlave)),
      toMaster: roundSummary(summarize(toMaster)),
      load,
      timeouts: all.filter(x => x === null).length,
      missingAtEnd,
      masterChanges,
      trialDetail
    }
  })
}

export function roundSummary (s: Summary): Summary {
  const r = (x: number | null): number | null => x === null ? null : round(x)
  return { n: s.n, p50: r(s.p50), p95: r(s.p95), max: r(s.max), min: r(s.min) }
}

// ---------------------------------------------------------------------------------------------
// 2. bytes

/** One-line changes tried in the bytes phase before giving up on one without a term change. */
const CHANGE_ATTEMPTS = 3

async function bytes (nodes: number, listName: ListName, log: (s: string) => void): Promise<BytesResult> {
  const { domains, source } = await benchList(listName)
  const list = domains.join('\n') + '\n'
  // Waits grow with the list: the first sync of 1M entries takes minutes on a loaded machine.
  const scale = Math.max(1, domains.length / 121_570)
  const withFailover = listName === '121k'
  // A few domains are listed twice (Unicode and punycode): one key, the second line is reported
  // as a duplicate and not synced. So convergence is "every node holds every key".
  const keys = parseListFile(list, 'blacklist.txt').entries.size
  const added = 'spamsync-bench-bytes.example.com'
  if (domains.includes(added)) throw new Error(`${added} is already in the domain list`)

  return await withCluster(async (cluster) => {
    const t0 = performance.now()
    const { agents, ms: startMs } = await startCluster(cluster, nodes, async (a) => { await writeFile(blacklistPath(a), list) }, 90_000 * scale)
    log(`bytes[${listName}]: ${nodes} agents started in ${Math.round(startMs)} ms (node1 holds ${domains.length} lines)`)
    const hasAll = (all: any[]): boolean => all.every(s => s?.datasets?.blacklist?.entries === keys)
    const timeline: string[] = []
    const tw = performance.now()
    const stable = await waitStable(agents, `${keys} blacklist keys on all ${nodes} agents`, {
      timeoutMs: 180_000 * scale,
      stableMs: 4000,
      extra: hasAll,
      onPoll: (all, ms) => { recordTimeline(timeline, all, tw - t0 + ms) }
    })
    const convergeMs = tw - t0 + stable.ms
    log(`bytes[${listName}]: converged ${Math.round(convergeMs)} ms after the first start`)
    await settleCounters(agents)

    const initial = await statuses(agents)
    const initialSlaves = agents.map((_, i) => i).filter(i => i !== stable.masterIndex)
    const initialReceivedPerSlave = initialSlaves.reduce((sum, i) => sum + initial[i].bytesReceived, 0) / (nodes - 1)
    const fullDownloadBytes = initialSlaves.map(i => initial[i].lastDownload).filter(d => d?.kind === 'full').map(d => d.bytes as number)

    // The change: one domain added on a slave (not node1, whose file has the operator's duplicates).
    // A term change in the middle (a spurious election on a loaded machine) makes every slave
    // re-sync in full, so such an attempt is reported but repeated, up to CHANGE_ATTEMPTS times.
    let masterIndex = stable.masterIndex
    let entries = keys
    const attempts: BytesResult['attempts'] = []
    let chosen: BytesResult['attempts'][number] | undefined
    for (let attempt = 1; attempt <= CHANGE_ATTEMPTS && chosen === undefined; attempt++) {
      const before = await statuses(agents)
      const slaveIndexes = agents.map((_, i) => i).filter(i => i !== masterIndex)
      const origin = slaveIndexes.find(i => i !== 0) ?? slaveIndexes[0]
      const domain = attempt === 1 ? added : `spamsync-bench-bytes-${attempt}.example.com`
      const tc = performance.now()
      await appendLine(agents[origin], domain)
      const times = await Promise.all(agents.filter((_, i) => i !== origin).map(async a => await timeUntilLine(a, domain, tc, 100, 60_000 * scale)))
      if (times.includes(null)) throw new Error(`the one-line change did not reach every node in ${Math.round(60 * scale)} s:\n${await describe(agents)}`)
      const changeMs = Math.max(...(times as number[]))
      entries++
      const want = entries
      const after0 = await waitStable(agents, 'versions to agree after the change', { stableMs: 1000, timeoutMs: 120_000 * scale, extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === want) })
      await settleCounters(agents)
      const after = await statuses(agents)
      const perNode = agents.map((_, i) => ({
        node: i + 1,
        role: i === origin ? 'slave (origin)' : after[i].role as string,
        sentDelta: after[i].bytesSent - before[i].bytesSent,
        receivedDelta: after[i].bytesReceived - before[i].bytesReceived
      }))
      const totalSent = perNode.reduce((x, p) => x + p.sentDelta, 0)
      const totalReceived = perNode.reduce((x, p) => x + p.receivedDelta, 0)
      const termBefore = before[masterIndex].term as number
      const termAfter = after[after0.masterIndex].term as number
      const result = {
        attempt,
        origin: origin + 1,
        masterBefore: masterIndex + 1,
        masterAfter: after0.masterIndex + 1,
        termBefore,
        termAfter,
        changeMs: round(changeMs),
        totalSentPerReceiver: round(totalSent / (nodes - 1)),
        totalReceivedPerReceiver: round(totalReceived / (nodes - 1)),
        masterSentPerReceiver: round(perNode[masterIndex].sentDelta / (nodes - 1)),
        perNode
      }
      attempts.push(result)
      log(`bytes[${listName}]: attempt ${attempt}: change on node${origin + 1} reached all in ${Math.round(changeMs)} ms; ${totalSent} bytes sent in all; term ${termBefore} -> ${termAfter}`)
      if (termBefore === termAfter && masterIndex === after0.masterIndex) chosen = result
      masterIndex = after0.masterIndex
    }
    const clean = chosen !== undefined
    chosen ??= attempts[attempts.length - 1]

    // What a failover costs with this list: the master killed, the survivors elect, re-sync.
    // Measured on one list only; the export below then comes from a survivor that is not master.
    const failover = withFailover ? await killMasterAndResync(agents, masterIndex, entries, listName, log) : undefined
    const exporter = failover?.exporter ?? agents.find((_, i) => i !== masterIndex) ?? agents[0]

    // Reference: a full archive of one node's state, from the CLI on the stopped node.
    let exportBytes: number | null = null
    await exporter.stop()
    const zipPath = join(cluster.root, 'export.zip')
    const out = runCli(['export', '--data-dir', exporter.dataDir, '--settings-dir', exporter.settingsDir, zipPath])
    const m = /\((\d+) bytes\)/.exec(out.stdout)
    if (out.code === 0 && m !== null) exportBytes = Number(m[1])
    else log(`bytes[${listName}]: export failed (${out.code}): ${out.stderr.trim()}`)

    return {
      list: listName,
      source,
      listBytes: Buffer.byteLength(list),
      nodes,
      domains: domains.length,
      keys,
      startMs: round(startMs),
      convergeMs: round(convergeMs),
      clean,
      changeMs: chosen.changeMs,
      totalSentPerReceiver: chosen.totalSentPerReceiver,
      totalReceivedPerReceiver: chosen.totalReceivedPerReceiver,
      masterSentPerReceiver: chosen.masterSentPerReceiver,
      perNode: chosen.perNode,
      attempts,
      initialReceivedPerSlave: Math.round(initialReceivedPerSlave),
      fullDownloadBytes,
      exportBytes,
      convergeTimeline: timeline,
      failover: failover === undefined ? undefined : { syncedMs: failover.syncedMs, perNode: failover.perNode, timeline: failover.timeline }
    }
  })
}

/** Kills the master with SIGKILL and waits until the survivors agree on every entry again. */
async function killMasterAndResync (agents: AgentProcess[], masterIndex: number, entries: number, listName: ListName, log: (s: string) => void):
Promise<NonNullable<BytesResult['failover']> & { exporter: AgentProcess }> {
  const survivors = agents.filter((_, i) => i !== masterIndex)
  const fb = await statuses(survivors)
  const tk = performance.now()
  await agents[masterIndex].kill9()
  const failoverTimeline: string[] = []
  const tws = performance.now()
  const settled = await waitStable(survivors, 'the survivors to agree after killing the master', {
    timeoutMs: 120_000,
    stableMs: 2000,
    extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === entries),
    onPoll: (all, ms) => { recordTimeline(failoverTimeline, all, ms) }
  })
  const failoverSyncedMs = tws - tk + settled.ms
  await settleCounters(survivors)
  const fa = await statuses(survivors)
  const failoverPerNode = survivors.map((a, i) => ({
    node: agents.indexOf(a) + 1,
    role: fa[i].role as string,
    sentDelta: fa[i].bytesSent - fb[i].bytesSent,
    receivedDelta: fa[i].bytesReceived - fb[i].bytesReceived
  }))
  log(`bytes[${listName}]: after killing the master, survivors agreed in ${Math.round(failoverSyncedMs)} ms and moved ${failoverPerNode.reduce((x, p) => x + p.sentDelta, 0)} bytes`)
  return {
    syncedMs: round(failoverSyncedMs),
    perNode: failoverPerNode,
    timeline: failoverTimeline,
    exporter: survivors.find(a => a !== settled.master) ?? survivors[0]
  }
}

/** Appends the cluster's state to `timeline` when it differs from the last one recorded. */
function recordTimeline (timeline: string[], all: any[], ms: number): void {
  const state = all.map((s, i) => s === null
    ? `n${i + 1}:down`
    : `n${i + 1}:${String(s.role).slice(0, 1)}/t${s.term}/${s.datasets?.blacklist?.entries}/${vkey(s.appliedVersion)}/rx${s.bytesReceived}/tx${s.bytesSent}`).join(' ')
  const last = timeline[timeline.length - 1]
  if (last === undefined || last.slice(last.indexOf(' ') + 1) !== state) timeline.push(`${Math.round(ms)} ${state}`)
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

// ---------------------------------------------------------------------------------------------
// 3. failover

async function failover (trials: number, log: (s: string) => void): Promise<FailoverResult> {
  return await withCluster(async (cluster) => {
    const { agents, ms: startMs } = await startCluster(cluster, 3)
    let stable = await waitStable(agents, 'one master of 3 agents')
    // Killed agents come back as new processes: their CPU time is not comparable, only the load is.
    const meter = loadMeter(null)
    const trialDetail: FailoverResult['trialDetail'] = []
    for (let trial = 1; trial <= trials; trial++) {
      const victim = stable.master
      const survivors = agents.filter(a => a !== victim)
      const termBefore = (await victim.status()).term as number
      const t0 = performance.now()
      await victim.kill9()

      // A survivor is master and the other follows it.
      let master: AgentProcess | undefined
      let slave: AgentProcess | undefined
      let termAfter = 0
      for (;;) {
        const [s0, s1] = await statuses(survivors)
        if (s0 !== null && s1 !== null) {
          if (s0.role === 'master' && s1.role === 'slave' && s1.masterId === s0.nodeId) { master = survivors[0]; slave = survivors[1]; termAfter = s0.term }
          if (s1.role === 'master' && s0.role === 'slave' && s0.masterId === s1.nodeId) { master = survivors[1]; slave = survivors[0]; termAfter = s1.term }
        }
        if (master !== undefined) break
        if (performance.now() - t0 > 30_000) throw new Error(`failover trial ${trial}: no new master 30 s after the kill:\n${await describe(survivors)}`)
        await sleep(50)
      }
      const electedMs = performance.now() - t0
      if (slave === undefined) throw new Error('unreachable')

      // A change on the surviving slave right after the election.
      const line = `failover-${trial}.example.com`
      const tw = performance.now()
      await appendLine(slave, line)
      const [onMaster] = await Promise.all([timeUntilLine(master, line, t0, 10, 30_000), timeUntilLine(slave, line, t0, 10, 30_000)])
      if (onMaster === null) throw new Error(`failover trial ${trial}: the change on the surviving slave did not reach the new master in 30 s:\n${await describe(survivors)}`)
      const changeOnSurvivorsMs = onMaster
      const changeAfterWriteMs = performance.now() - tw

      // The killed node comes back and catches up.
      const tr = performance.now()
      await startPatiently(victim, [survivors[0].multiaddr])
      const tw2 = performance.now()
      stable = await waitStable(agents, `one master after restarting the killed node (trial ${trial})`)
      const rejoinMs = (tw2 - tr) + stable.ms
      // Stable means equal applied versions, so the restarted node must have the change.
      const restartedHasChange = hasLine(await readText(blacklistPath(victim)), line)
      trialDetail.push({
        trial,
        killed: victim.nodeId.slice(-8),
        newMaster: master.nodeId.slice(-8),
        termBefore,
        termAfter,
        electedMs: round(electedMs),
        changeOnSurvivorsMs: round(changeOnSurvivorsMs),
        changeAfterWriteMs: round(changeAfterWriteMs),
        rejoinMs: round(rejoinMs),
        restartedHasChange
      })
      log(`failover: trial ${trial}: elected after ${Math.round(electedMs)} ms, change on both survivors ${Math.round(changeOnSurvivorsMs)} ms after the kill`)
    }
    return {
      nodes: 3,
      trials,
      startMs: round(startMs),
      elected: roundSummary(summarize(trialDetail.map(t => t.electedMs))),
      changeOnSurvivors: roundSummary(summarize(trialDetail.map(t => t.changeOnSurvivorsMs))),
      changeAfterWrite: roundSummary(summarize(trialDetail.map(t => t.changeAfterWriteMs))),
      rejoin: roundSummary(summarize(trialDetail.map(t => t.rejoinMs))),
      load: meter(),
      trialDetail
    }
  })
}

// ---------------------------------------------------------------------------------------------
// main

/** Cluster sizes of the propagation phase. */
export const DEFAULT_SIZES: readonly number[] = [2, 5, 10, 20]

/** Runs the benchmark, prints JSON and a table, and returns the result. */
export async function main (opts: ClusterBenchOptions = {}): Promise<ClusterBenchResult> {
  const phases = opts.phases ?? ['propagation', 'bytes', 'failover']
  const seed = opts.seed ?? (Date.now() % 1_000_000)
  const print = opts.print ?? true
  const log = (s: string): void => { if (print) process.stderr.write(`[cluster] ${s}\n`) }
  const result: ClusterBenchResult = {
    bench: 'cluster',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    seed,
    wallMs: 0,
    errors: {}
  }
  // Ctrl-C or a kill still stops every agent and removes every folder.
  const onSignal = (signal: NodeJS.Signals): void => {
    Promise.allSettled([...live].map(async c => { await c.cleanup() })).finally(() => { process.exit(signal === 'SIGINT' ? 130 : 143) })
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', emergencyCleanup)
  // One failing step (a cluster size, a list) is reported and the others still run.
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn()
    } catch (err: any) {
      result.errors[name] = String(err?.stack ?? err)
      log(`${name} failed: ${err?.message ?? err}`)
    }
  }
  const t0 = performance.now()
  try {
    for (const phase of phases) {
      if (phase === 'propagation') {
        const random = prng(seed)
        for (const size of opts.propagationSizes ?? DEFAULT_SIZES) {
          await step(`propagation[${size}]`, async () => {
            const r = await propagation({ propagationNodes: size, propagationTrials: opts.propagationTrials ?? 20, trialPauseMs: opts.trialPauseMs ?? 300 }, random, log)
            ;(result.propagation ??= []).push(r)
          })
        }
      } else if (phase === 'bytes') {
        for (const list of opts.bytesLists ?? LIST_NAMES) {
          await step(`bytes[${list}]`, async () => { (result.bytes ??= []).push(await bytes(opts.bytesNodes ?? 3, list, log)) })
        }
      } else if (phase === 'failover') {
        await step('failover', async () => { result.failover = await failover(opts.failoverTrials ?? 10, log) })
      }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', emergencyCleanup)
  }
  result.wallMs = Math.round(performance.now() - t0)
  if (print) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n\n')
    process.stdout.write(table(result) + '\n')
  }
  return result
}

/** Targets a result missed (or could not measure). */
export function missedTargets (r: ClusterBenchResult): string[] {
  return tableRows(r).filter(row => row[3] === 'NO').map(row => row[0])
}

function tableRows (r: ClusterBenchResult): string[][] {
  const rows: string[][] = []
  const ms = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} ms`
  const row = (name: string, value: string, target: string, ok: boolean | null, note = ''): void => {
    rows.push([name, value, target, ok === null ? '' : ok ? 'yes' : 'NO', note])
  }
  for (const p of r.propagation ?? []) {
    const note = `${p.samples.n} samples, ${p.timeouts} timeouts, ${p.missingAtEnd.length} missing, ${p.masterChanges} master changes`
    row(`propagation p50 (${p.nodes} nodes)`, ms(p.samples.p50), `<= ${TARGETS.propagationP50Ms} ms`, p.samples.p50 !== null && p.timeouts === 0 && p.samples.p50 <= TARGETS.propagationP50Ms, note)
    row(`propagation p95 (${p.nodes} nodes)`, ms(p.samples.p95), `<= ${TARGETS.propagationP95Ms} ms`, p.samples.p95 !== null && p.timeouts === 0 && p.samples.p95 <= TARGETS.propagationP95Ms)
    row(`propagation max (${p.nodes} nodes)`, ms(p.samples.max), '-', null)
    row('per-trial max p50 / p95', `${ms(p.perTrialMax.p50)} / ${ms(p.perTrialMax.p95)}`, '-', null)
    row('p50 from master / slave', `${ms(p.fromMaster.p50)} / ${ms(p.fromSlave.p50)}`, '-', null, `n=${p.fromMaster.n}/${p.fromSlave.n}`)
    row('origin write -> master cut p50/p95', `${ms(p.toMaster.p50)} / ${ms(p.toMaster.p95)}`, '-', null)
    row('cluster start + stable', `${ms(p.startMs)} + ${ms(p.stableMs)}`, '-', null)
    row('machine load during trials', `${p.load.loadavgStart} -> ${p.load.loadavgEnd}`, `< ${r.cpus}`, null, `agents used ${p.load.agentCores ?? '?'} cores (${p.load.agentCpuSeconds ?? '?'} cpu-s in ${p.load.wallSeconds} s), bench ${p.load.benchCpuSeconds} cpu-s`)
  }
  for (const b of r.bytes ?? []) {
    row(`[${b.list}] bytes/receiver, all sent (${b.nodes} nodes)`, `${b.totalSentPerReceiver} B`, `<= ${TARGETS.bytesPerReceiver} B`, b.totalSentPerReceiver <= TARGETS.bytesPerReceiver,
      `one line on a ${b.domains}-line list (${b.source}); attempt ${b.attempts.length} of ${CHANGE_ATTEMPTS}${b.clean ? '' : ', every attempt had a TERM CHANGE (full re-syncs)'}`)
    row(`[${b.list}] bytes/receiver, master sent`, `${b.masterSentPerReceiver} B`, `<= ${TARGETS.bytesPerReceiver} B`, b.masterSentPerReceiver <= TARGETS.bytesPerReceiver)
    row(`[${b.list}] full archive (export)`, b.exportBytes === null ? 'n/a' : `${b.exportBytes} B`, '-', null, `list file ${b.listBytes} B; slaves received ${b.initialReceivedPerSlave} B each at first sync`)
    row(`[${b.list}] initial convergence`, ms(b.convergeMs), '-', null, `${b.keys} keys`)
    row(`[${b.list}] one-line change on all`, ms(b.changeMs), '-', null)
    if (b.failover !== undefined) {
      const fsent = b.failover.perNode.reduce((x, p) => x + p.sentDelta, 0)
      row(`[${b.list}] kill master -> survivors agree`, ms(b.failover.syncedMs), '-', null, `${fsent} bytes sent by the ${b.failover.perNode.length} survivors`)
    }
  }
  const f = r.failover
  if (f !== undefined) {
    row(`failover elected p50 (${f.trials} trials)`, ms(f.elected.p50), `<= ${TARGETS.failoverMs} ms`, f.elected.p50 !== null && f.elected.p50 <= TARGETS.failoverMs)
    row('failover elected max', ms(f.elected.max), `<= ${TARGETS.failoverMs} ms`, f.elected.max !== null && f.elected.max <= TARGETS.failoverMs)
    row('kill -> change on survivors p50/max', `${ms(f.changeOnSurvivors.p50)} / ${ms(f.changeOnSurvivors.max)}`, '-', null, `write -> both: p50 ${ms(f.changeAfterWrite.p50)}`)
    row('kill -> change on survivors samples', f.trialDetail.map(t => Math.round(t.changeOnSurvivorsMs)).join(' '), '-', null, 'ms, one per trial')
    row('machine load during failover', `${f.load.loadavgStart} -> ${f.load.loadavgEnd}`, `< ${r.cpus}`, null)
    const lost = f.trialDetail.filter(t => !t.restartedHasChange).length
    row('restart -> stable p50/max', `${ms(f.rejoin.p50)} / ${ms(f.rejoin.max)}`, '-', lost === 0 ? null : false, lost === 0 ? '' : `${lost} restarted nodes lack the change`)
  }
  for (const phase of Object.keys(r.errors)) row(`${phase}`, 'FAILED', '-', false, r.errors[phase].split('\n')[0])
  return rows
}

/** The result as an aligned text table. */
function table (r: ClusterBenchResult): string {
  const head = ['measure', 'value', 'target', 'ok', 'notes']
  const rows = tableRows(r)
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
  const right = [false, true, true, false, false]
  const line = (cells: string[]): string => cells.map((c, i) => right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])).join('  ').trimEnd()
  return [
    `cluster bench: node ${r.node}, ${r.platform}, ${r.cpus} cpus, seed ${r.seed}, wall ${(r.wallMs / 1000).toFixed(1)} s`,
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line)
  ].join('\n')
}

/** Options from the command line (see the file comment); throws on an unknown or bad one. */
export function parseClusterArgs (argv: string[]): ClusterBenchOptions {
  const o: ClusterBenchOptions = {}
  const phases: NonNullable<ClusterBenchOptions['phases']> = []
  const nums = (k: string, v: string): number[] => v.split(',').map((x) => {
    const n = Number(x)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} needs positive integers, got ${JSON.stringify(v)}`)
    return n
  })
  for (const arg of argv) {
    if (arg === 'propagation' || arg === 'bytes' || arg === 'failover') { phases.push(arg); continue }
    const [k, v = ''] = arg.replace(/^--/, '').split('=')
    if (k === 'sizes') o.propagationSizes = nums(k, v)
    else if (k === 'trials') o.propagationTrials = nums(k, v)[0]
    else if (k === 'failover-trials') o.failoverTrials = nums(k, v)[0]
    else if (k === 'seed') o.seed = nums(k, v)[0]
    else if (k === 'lists') {
      const lists = v.split(',')
      const bad = lists.filter(l => !(LIST_NAMES as readonly string[]).includes(l))
      if (bad.length > 0) throw new Error(`--lists takes ${LIST_NAMES.join(',')}, not ${bad.join(',')}`)
      o.bytesLists = lists as ListName[]
    } else throw new Error(`unknown option ${arg}`)
  }
  if (phases.length > 0) o.phases = phases
  return o
}

/** What --help prints. */
const USAGE = `usage: node dist/bench/cluster.js [propagation] [bytes] [failover] [--sizes=2,5,10,20] [--trials=20]
  [--lists=${LIST_NAMES.join(',')}] [--failover-trials=10] [--seed=N]
  phases default to all three; each option's default is in brackets`

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (runAsScript && process.argv.includes('--help')) {
  process.stdout.write(USAGE + '\n')
} else if (runAsScript) {
  main(parseClusterArgs(process.argv.slice(2))).then((r) => {
    const missed = missedTargets(r)
    if (missed.length > 0) process.stderr.write(`targets missed: ${missed.join(', ')}\n`)
    if (Object.keys(r.errors).length > 0) process.exitCode = 1
  }, (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
