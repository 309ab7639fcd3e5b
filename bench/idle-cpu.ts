/**
 * Idle cost of real agents (issue 17: <= 0.3% of a core per agent in an idle 10-node cluster,
 * and real processes confirming the scale simulation at 10 and 20 nodes). For each size, n real
 * `spamsync start` processes on 127.0.0.1 (mDNS off, every node bootstrapped to the first, empty
 * settings) are started and left idle until one master is agreed on and stable, and then until
 * the beacon counters settle (start-up bursts of introductions, handovers and re-dials can come
 * many seconds after the master is agreed on: see {@link waitBeaconsSettled}); then, over a
 * window, per agent:
 * - CPU: time on a CPU, from /proc/PID/task/TID/schedstat (every thread), as a percentage of one
 *   core (nanoseconds: /proc/PID/stat counts 1/100 s ticks, and one is 0.033% of a core over a
 *   30 s window, the size of the differences this bench is read for);
 * - beacons: frames and bytes sent and received, from the status counters the beacon link keeps
 *   (length prefix and protobuf, the bytes bench/scale-sim.ts counts).
 * Prints one JSON object, then a table of medians (with min and max over the agents), the load
 * average at the start and end of each window, and the simulation's figure for the same size.
 *
 * Run: `npx tsc -p . && npx node dist/bench/idle-cpu.js [--sizes=10,20] [--window-s=30] [--runs=1]`.
 * Every process is stopped and every temp folder removed, also on error or Ctrl-C.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import type { AgentProcess } from '../test/helpers/agents.js'
import { emergencyCleanup, live, round, sleep, startCluster, statuses, waitStable, withCluster } from './cluster/harness.js'
import { simulate } from './scale-sim.js'

/** Target of issue 17: share of one core an idle agent of a 10-node cluster may use. */
export const IDLE_CPU_TARGET_PERCENT = 0.3

/** One window over one cluster. */
export interface IdleRun {
  nodes: number
  windowS: number
  loadStart: number
  loadEnd: number
  /** Seconds from a stable master until the beacon counters settled; null: they did not within SETTLE_MAX_MS (the window ran anyway). */
  settleS: number | null
  /** Distinct (term, master) pairs the agents reported at the window's start and end: 1 in a cluster that stayed stable. */
  termsSeen: number
  /** Per agent, in node order: its role at the window's end (master, slave, candidate; '?' for one that did not answer). */
  roles: string[]
  /** Per agent, in node order. */
  cpuPercent: number[]
  beaconFramesSentPerS: number[]
  beaconBytesSentPerS: number[]
  beaconBytesReceivedPerS: number[]
}

/** One size: its runs and their medians over every agent of every run. */
export interface IdleSize {
  nodes: number
  runs: IdleRun[]
  cpuPercent: { p50: number, min: number, max: number }
  /** The same CPU figures split by role: the master's work per beat (signing, the tree's first copies) is not a slave's. */
  cpuPercentByRole: Record<string, { p50: number, min: number, max: number }>
  beaconFramesSentPerS: { p50: number, min: number, max: number }
  beaconBytesSentPerS: { p50: number, min: number, max: number }
  beaconBytesReceivedPerS: { p50: number, min: number, max: number }
  /** bench/scale-sim.ts for the same size: beacon bytes one node sends per second. */
  simBeaconBytesPerNodePerS: number
  simBeaconFramesPerNodePerS: number
  /** The simulation's busiest node (beacon bytes sent per second): what the real max compares with. */
  simBeaconBytesMaxPerS: number
}

export interface IdleCpuResult {
  bench: 'idle-cpu'
  node: string
  sizes: IdleSize[]
}

/** Nanoseconds on a CPU of a process's threads (the first field of each thread's schedstat). */
function cpuNs (a: AgentProcess): number {
  const pid = a.proc?.pid
  if (pid === undefined) throw new Error(`agent in ${a.dir} has no process`)
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
  return ns
}

const spread = (xs: number[]): { p50: number, min: number, max: number } => {
  const s = [...xs].sort((a, b) => a - b)
  return { p50: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1] }
}

/** CPU percentages of every agent of every run, grouped by the agent's role in its run. */
export function cpuByRole (runs: ReadonlyArray<Pick<IdleRun, 'roles' | 'cpuPercent'>>): Record<string, { p50: number, min: number, max: number }> {
  const groups = new Map<string, number[]>()
  for (const r of runs) {
    r.cpuPercent.forEach((cpu, i) => {
      const role = r.roles[i] ?? '?'
      groups.set(role, [...(groups.get(role) ?? []), cpu])
    })
  }
  return Object.fromEntries([...groups].sort(([a], [b]) => a.localeCompare(b)).map(([role, xs]) => [role, spread(xs)]))
}

/** The beacon counters of every agent's status, in node order (NaN from an agent before them, to compare with one). */
async function beaconCounters (agents: AgentProcess[]): Promise<Array<{ framesSent: number, bytesSent: number, bytesReceived: number }>> {
  return (await statuses(agents)).map(s => ({ framesSent: s?.beacons?.framesSent ?? NaN, bytesSent: s?.beacons?.bytesSent ?? NaN, bytesReceived: s?.beacons?.bytesReceived ?? NaN }))
}

/** Interval at which the beacon counters are sampled while they settle. */
const SETTLE_STEP_MS = 5000
/** Longest wait for the counters to settle before the window runs anyway (and says so). */
const SETTLE_MAX_MS = 90_000
/** Two consecutive steps count as settled when the cluster's frames sent differ by at most this share. */
const SETTLE_TOLERANCE = 0.2

/** Frames sent by the whole cluster; NaN (an agent without counters, or one that did not answer) stays NaN. */
async function clusterFrames (agents: AgentProcess[]): Promise<number> {
  return (await beaconCounters(agents)).reduce((sum, b) => sum + b.framesSent, 0)
}

/**
 * Waits until the cluster's beacon frames sent per step are steady: two consecutive
 * SETTLE_STEP_MS steps within SETTLE_TOLERANCE of each other. Returns the seconds waited, or null
 * when they did not settle within SETTLE_MAX_MS or the agents have no counters (0.4.0).
 */
export async function waitBeaconsSettled (agents: AgentProcess[]): Promise<number | null> {
  const t0 = performance.now()
  let last = await clusterFrames(agents)
  let lastStep: number | null = null
  while (performance.now() - t0 < SETTLE_MAX_MS) {
    await sleep(SETTLE_STEP_MS)
    const now = await clusterFrames(agents)
    if (Number.isNaN(now)) return null
    const step = now - last
    last = now
    if (lastStep !== null && Math.abs(step - lastStep) <= SETTLE_TOLERANCE * Math.max(step, lastStep)) return round((performance.now() - t0) / 1000)
    lastStep = step
  }
  return null
}

/** The (term, master) pairs the agents report. */
async function termKeys (agents: AgentProcess[]): Promise<{ keys: string[], roles: string[] }> {
  const all = await statuses(agents)
  return { keys: all.map(s => `${s?.term}/${s?.masterId}`), roles: all.map(s => String(s?.role ?? '?')) }
}

/** Starts `nodes` agents, waits until they are stable and their beacon traffic settled, and measures one idle window. */
async function idleRun (nodes: number, windowS: number, log: (s: string) => void): Promise<IdleRun> {
  return await withCluster(async (cluster) => {
    const { agents } = await startCluster(cluster, nodes)
    await waitStable(agents, `${nodes} agents to agree on a master`, { stableMs: 5000, timeoutMs: 120_000 })
    // Start-up work (identify, the first full upload, LevelDB compaction, introductions) is over before the window.
    const settleS = await waitBeaconsSettled(agents)
    const terms0 = await termKeys(agents)
    const loadStart = loadavg()[0]
    const t0 = performance.now()
    const ns0 = agents.map(cpuNs)
    const b0 = await beaconCounters(agents)
    await sleep(windowS * 1000)
    const ns1 = agents.map(cpuNs)
    const b1 = await beaconCounters(agents)
    const s = (performance.now() - t0) / 1000
    const terms1 = await termKeys(agents)
    const termsSeen = new Set([...terms0.keys, ...terms1.keys]).size
    const run: IdleRun = {
      nodes,
      windowS: round(s),
      loadStart: round(loadStart),
      loadEnd: round(loadavg()[0]),
      settleS,
      termsSeen,
      roles: terms1.roles,
      cpuPercent: ns1.map((t, i) => Math.round((t - ns0[i]) / s / 1e4) / 1000),
      beaconFramesSentPerS: b1.map((b, i) => round((b.framesSent - b0[i].framesSent) / s)),
      beaconBytesSentPerS: b1.map((b, i) => Math.round((b.bytesSent - b0[i].bytesSent) / s)),
      beaconBytesReceivedPerS: b1.map((b, i) => Math.round((b.bytesReceived - b0[i].bytesReceived) / s))
    }
    log(`${nodes} agents: CPU ${JSON.stringify(run.cpuPercent)} % of a core (roles ${run.roles.map(r => r[0]).join('')}), load ${run.loadStart}-${run.loadEnd}, settled after ${settleS ?? 'no'} s, terms seen ${termsSeen}`)
    return run
  })
}

/** Runs every size, `runs` windows each. */
export async function main (opts: { sizes?: number[], windowS?: number, runs?: number, log?: (s: string) => void } = {}): Promise<IdleCpuResult> {
  const log = opts.log ?? (() => {})
  const sizes: IdleSize[] = []
  for (const nodes of opts.sizes ?? [10, 20]) {
    const runs: IdleRun[] = []
    for (let r = 0; r < (opts.runs ?? 1); r++) runs.push(await idleRun(nodes, opts.windowS ?? 30, log))
    const sim = await simulate(nodes, { trials: 1 })
    sizes.push({
      nodes,
      runs,
      cpuPercent: spread(runs.flatMap(r => r.cpuPercent)),
      cpuPercentByRole: cpuByRole(runs),
      beaconFramesSentPerS: spread(runs.flatMap(r => r.beaconFramesSentPerS)),
      beaconBytesSentPerS: spread(runs.flatMap(r => r.beaconBytesSentPerS)),
      beaconBytesReceivedPerS: spread(runs.flatMap(r => r.beaconBytesReceivedPerS)),
      simBeaconBytesPerNodePerS: sim.beacon.bytesPerNodePerS,
      simBeaconFramesPerNodePerS: sim.beacon.framesPerNodePerS,
      simBeaconBytesMaxPerS: sim.beacon.maxBytesPerS
    })
  }
  return { bench: 'idle-cpu', node: process.version, sizes }
}

/** The result as a Markdown table. */
export function idleTable (r: IdleCpuResult): string {
  const f = (s: { p50: number, min: number, max: number }): string => `${s.p50} (${s.min}-${s.max})`
  const roles = (s: IdleSize): string => Object.entries(s.cpuPercentByRole).map(([role, x]) => `${role} ${f(x)}`).join('; ')
  const rows = r.sizes.map(s => `| ${s.nodes} | ${s.runs.length} | ${f(s.cpuPercent)} | ${roles(s)} | ${f(s.beaconFramesSentPerS)} | ${f(s.beaconBytesSentPerS)} | ${f(s.beaconBytesReceivedPerS)} | ${s.simBeaconFramesPerNodePerS} / ${s.simBeaconBytesPerNodePerS} (busiest ${s.simBeaconBytesMaxPerS}) | ${s.runs.map(x => `${x.loadStart}-${x.loadEnd}`).join(', ')} | ${s.runs.map(x => `${x.settleS ?? 'no'} / ${x.termsSeen}`).join(', ')} |`)
  return [
    `| agents | runs | CPU % of a core, p50 (min-max) [target <= ${IDLE_CPU_TARGET_PERCENT} at 10] | CPU by role, p50 (min-max) | beacon frames sent / s | beacon B sent / s | beacon B received / s | simulation: frames / B sent per node per s (busiest node) | load (1 min) start-end | settled after s / (term, master) pairs seen |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows
  ].join('\n')
}

function parseArgs (argv: string[]): { sizes?: number[], windowS?: number, runs?: number } {
  const opts: { sizes?: number[], windowS?: number, runs?: number } = {}
  for (const arg of argv) {
    const [k, v] = arg.split('=')
    if (k === '--sizes') opts.sizes = v.split(',').map(Number)
    else if (k === '--window-s') opts.windowS = Number(v)
    else if (k === '--runs') opts.runs = Number(v)
    else throw new Error(`unknown option ${arg} (--sizes=10,20 --window-s=30 --runs=1)`)
  }
  return opts
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const onSignal = (): void => {
    void Promise.allSettled([...live].map(async c => { await c.cleanup() })).finally(() => { process.exit(130) })
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', emergencyCleanup)
  main({ ...parseArgs(process.argv.slice(2)), log: (s) => { process.stderr.write(`[idle-cpu] ${s}\n`) } }).then((r) => {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n\n' + idleTable(r) + '\n')
  }, (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
