/**
 * Benchmark of an initial sync (issue 17): a 3-node cluster of real `spamsync start` processes
 * (127.0.0.1, mDNS off, as in bench/cluster.ts) is started with empty settings and left to
 * settle; then the blacklist (121,570 real domains or 1,000,000 generated ones, bench/lists.ts)
 * is dropped into the first node's settings folder (written elsewhere, renamed into place), and
 * timed until every other node's blacklist.txt holds every line (polled every 10 ms, the way
 * bench/syncthing.ts times Syncthing), and until every node's status counts every key. Each
 * agent's peak RSS (VmHWM from /proc: its peak since it started, which for an agent started
 * empty is the peak of the sync) and its RSS once idle again are read after the cluster settles.
 *
 * `--cpu-prof-dir=DIR` starts the agents with V8's CPU profiler (NODE_OPTIONS), which writes one
 * .cpuprofile per agent into DIR when it stops: where the time of the sync goes.
 * `--trace` has every agent write its trace points (src/trace.ts) and prints the timeline of each
 * run: when each node saw the file, scanned, uploaded, merged, cut, served, fetched, applied and wrote.
 * `--drop-on=slave|master` drops the list on a slave (it uploads it, the master passes it on) or on
 * the master (no upload) instead of on the first node started, whichever role it won.
 * Run: `npx tsc -p . && npx node dist/bench/initial.js [--lists=121k,1M] [--runs=3] [--drop-on=slave] [--cpu-prof-dir=DIR] [--trace]`.
 * Prints one JSON object, then a table of medians. Every process is stopped and every temp folder
 * removed, also on error or Ctrl-C.
 */
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import type { AgentProcess } from '../test/helpers/agents.js'
import { parseListFile } from '../src/settings/list-file.js'
import { blacklistPath, clusterCpu, emergencyCleanup, live, round, settleCounters, startCluster, statuses, waitStable, withCluster } from './cluster/harness.js'
import { dropFile, timeUntilAllLines } from './initial/drop.js'
import { timeline, timelineText, type TracePoint } from './initial/timeline.js'
import { benchList, type ListName } from './lists.js'

/** Nodes in the cluster. */
const NODES = 3
/** How often each copy of the file is looked at. */
const POLL_MS = 10
/** Issue 17's targets: the 1M list on every node within 10 s; peak RSS during the 121k list's sync. */
const TARGETS = { '1M': { ms: 10_000 }, '121k': { peakMB: 160 } } as const

/** One run: one cluster, one drop. */
export interface InitialRun {
  list: ListName
  /** Role of the node the file was dropped on. */
  droppedOn: string
  /** Time from the drop until each other node's file holds every line, the slowest. */
  filesMs: number | null
  /** Each other node's time. */
  perFileMs: Array<number | null>
  /** Time from the drop until every node's status counts every key. */
  statusMs: number | null
  /** Per agent, peak RSS since its start (VmHWM), MB. */
  peakMB: number[]
  /** Per agent, RSS once the cluster is quiet again, MB. */
  settledMB: number[]
  /** CPU seconds of all agents from the drop until quiet. */
  agentCpuSeconds: number | null
  /** Per agent, its election term before the drop and once quiet: a higher term after, a master was elected during the sync (a node held its event loop past the liveness window). */
  terms: { before: Array<number | null>, after: Array<number | null> }
  loadavg: [number, number]
  /** With --trace: every node's trace points after the drop (bench/initial/timeline.ts). */
  timeline?: TracePoint[]
}

const mb = (kb: number): number => Math.round(kb / 1024 * 10) / 10

async function procKb (a: AgentProcess, field: string): Promise<number> {
  const text = await readFile(`/proc/${a.proc?.pid ?? 0}/status`, 'utf8')
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
  if (m === null) throw new Error(`no ${field} for the agent in ${a.dir}`)
  return Number(m[1])
}

/** Runs one drop of `listName` into a fresh settled cluster. */
/** Which node the list is dropped on: a slave (it uploads, the master passes it on), the master, or the first node started, whichever it is. */
export type DropOn = 'slave' | 'master' | 'first'

export async function initialRun (listName: ListName, log: (s: string) => void, dropOn: DropOn = 'first'): Promise<InitialRun> {
  const { domains } = await benchList(listName)
  const list = domains.join('\n') + '\n'
  const keys = parseListFile(list, 'blacklist.txt').entries.size
  const scale = Math.max(1, domains.length / 121_570)
  return await withCluster(async (cluster) => {
    const { agents } = await startCluster(cluster, NODES)
    const settled = await waitStable(agents, `${NODES} agents to agree on a master`, { stableMs: 2000, timeoutMs: 90_000 })
    await settleCounters(agents)
    const origin = dropOn === 'master' ? settled.masterIndex : dropOn === 'slave' ? (settled.masterIndex === 0 ? 1 : 0) : 0
    const others = agents.filter((_, i) => i !== origin)
    const droppedOn = settled.masterIndex === origin ? 'master' : 'slave'
    const termsBefore = await terms(agents)
    const l0 = loadavg()[0]
    const c0 = clusterCpu(agents)
    const t0 = performance.now()
    const dropEpochMs = performance.timeOrigin + t0
    await dropFile(blacklistPath(agents[origin]), join(cluster.root, 'blacklist.txt.drop'), list)
    let statusMs: number | null = null
    const watchStatus = (async () => {
      while (statusMs === null && performance.now() - t0 < 300_000 * scale) {
        const all = await statuses(agents)
        if (all.every(s => s?.datasets?.blacklist?.entries === keys)) statusMs = performance.now() - t0
        else await new Promise(resolve => setTimeout(resolve, 50))
      }
    })()
    // A few domains are listed twice (Unicode and punycode): the other nodes' files list each key once.
    const perFile = await timeUntilAllLines(others.map(blacklistPath), keys, t0, POLL_MS, 300_000 * scale)
    await watchStatus
    const filesMs = perFile.includes(null) ? null : Math.max(...(perFile as number[]))
    log(`${listName}: dropped on the ${droppedOn}; files ${perFile.map(t => t === null ? 'TIMEOUT' : Math.round(t)).join(' / ')} ms, status ${statusMs === null ? 'TIMEOUT' : Math.round(statusMs)} ms`)
    await settleCounters(agents)
    const c1 = clusterCpu(agents)
    const termsAfter = await terms(agents)
    log(`${listName}: terms before ${termsBefore.join(' / ')}, after ${termsAfter.join(' / ')}`)
    const names = agents.map((a, i) => `node${i + 1}${i === origin ? '(origin)' : ''}${i === settled.masterIndex ? 'M' : ''}`)
    const peakMB = await Promise.all(agents.map(async a => mb(await procKb(a, 'VmHWM'))))
    const settledMB = await Promise.all(agents.map(async a => mb(await procKb(a, 'VmRSS'))))
    log(`${listName}: peak RSS ${peakMB.join(' / ')} MB, settled ${settledMB.join(' / ')} MB (${names.join(' / ')})`)
    // Stopped, not killed: a profiled agent writes its profile as it exits (a 1M one takes longer than stop()'s 10 s).
    await Promise.all(agents.map(async a => { await stopPatiently(a, 120_000) }))
    const points = process.env.SPAMSYNC_TRACE === '1' ? timeline(new Map(agents.map((a, i) => [names[i], a.output])), dropEpochMs) : undefined
    if (points !== undefined) log(`${listName} timeline (ms since the drop; cpu: the node's CPU since its previous point):\n${timelineText(points)}`)
    return {
      list: listName,
      droppedOn,
      filesMs: filesMs === null ? null : round(filesMs),
      perFileMs: perFile.map(t => t === null ? null : round(t)),
      statusMs: statusMs === null ? null : round(statusMs),
      peakMB,
      settledMB,
      agentCpuSeconds: c0 === null || c1 === null ? null : round(c1 - c0),
      terms: { before: termsBefore, after: termsAfter },
      loadavg: [round(l0), round(loadavg()[0])],
      timeline: points
    }
  })
}

/** Each agent's election term from its status (null: no answer). */
async function terms (agents: AgentProcess[]): Promise<Array<number | null>> {
  return (await statuses(agents)).map(s => typeof s?.term === 'number' ? s.term : null)
}

/** SIGTERM, then SIGKILL only after `ms`. */
async function stopPatiently (a: AgentProcess, ms: number): Promise<void> {
  const proc = a.proc
  if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>(resolve => proc.once('exit', () => { resolve() }))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms)
  await exited
  clearTimeout(timer)
}

function median (xs: number[]): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : round((s[mid - 1] + s[mid]) / 2)
}

/** The medians per list, with the targets. */
function table (runs: InitialRun[]): string {
  const rows = [['list', 'runs', 'files on all (median)', 'status on all', 'peak RSS (max agent)', 'settled RSS (max agent)', 'agent CPU s', 'load', 'target']]
  for (const list of [...new Set(runs.map(r => r.list))]) {
    const rs = runs.filter(r => r.list === list)
    const med = (f: (r: InitialRun) => number | null): string => String(median(rs.map(f).filter((x): x is number => x !== null)) ?? '-')
    const target = list === '1M' ? `<= ${TARGETS['1M'].ms} ms` : list === '121k' ? `peak <= ${TARGETS['121k'].peakMB} MB` : '-'
    rows.push([list, String(rs.length), `${med(r => r.filesMs)} ms`, `${med(r => r.statusMs)} ms`, `${med(r => Math.max(...r.peakMB))} MB`,
      `${med(r => Math.max(...r.settledMB))} MB`, med(r => r.agentCpuSeconds), rs.map(r => r.loadavg.join('-')).join(' '), target])
  }
  return rows.map(r => r.join(' | ')).join('\n')
}

export async function main (argv: string[]): Promise<InitialRun[]> {
  const arg = (name: string): string | undefined => argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const lists = (arg('lists') ?? '121k').split(',') as ListName[]
  const runs = Number(arg('runs') ?? 3)
  const profDir = arg('cpu-prof-dir')
  const dropOn = (arg('drop-on') ?? 'first') as DropOn
  // The agents inherit the environment: each writes its trace points (src/trace.ts).
  if (argv.includes('--trace')) process.env.SPAMSYNC_TRACE = '1'
  if (profDir !== undefined) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${resolve(profDir)}`.trim()
  const log = (s: string): void => { process.stderr.write(`[initial] ${s}\n`) }
  const onSignal = (): void => { emergencyCleanup(); process.exit(130) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', emergencyCleanup)
  const out: InitialRun[] = []
  for (const list of lists) {
    for (let i = 0; i < runs; i++) {
      try {
        out.push(await initialRun(list, log, dropOn))
      } catch (err: any) {
        log(`${list} run ${i + 1} failed: ${String(err?.stack ?? err)}`)
      }
    }
  }
  process.stdout.write(JSON.stringify({ bench: 'initial', node: process.version, runs: out }, null, 2) + '\n')
  process.stdout.write(table(out) + '\n')
  if (live.size > 0) emergencyCleanup()
  return out
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2))
