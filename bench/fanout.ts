/**
 * Master bytes out with fan-out on and off: a master process whose blacklist holds the 121,570
 * domains of `disposable-email-domains`, and 9 fresh slave processes started at once (10 nodes,
 * 127.0.0.1, mDNS off, all bootstrapped to the master), timed until every node holds the list at
 * the master's version. The runs alternate on/off, so a change of the machine's load hits both.
 *
 * Prints one JSON object, then a table of medians. The machine's load average is in both: other
 * jobs on the same CPUs slow the times (not the bytes).
 * Run: `npx tsc -p . && npx node dist/bench/fanout.js [--reps N] [--nodes N]` (default 3 reps of each, 10 nodes).
 * Every process is stopped and every temp folder removed, also on error or Ctrl-C.
 */
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { Cluster } from '../test/helpers/agents.js'
import { emergencyCleanup, live } from './cluster/harness.js'
import { joinAtOnce, loadDomains, type JoinResult } from '../test/helpers/join-at-once.js'

/** The requirement: the master sends at most this many full archives to 9 joining slaves. */
export const TARGET_MASTER_ARCHIVES = 3

/** One run, with the load around it. */
export interface FanOutRun extends JoinResult {
  rep: number
  loadavgStart: number
  loadavgEnd: number
}

/** Medians of one setting. */
export interface FanOutSummary {
  fanOut: boolean
  runs: number
  masterServedBytes: number | null
  masterArchives: number | null
  allHaveMs: number | null
  startedMs: number | null
  fromSlaves: number | null
  allIdentical: boolean
}

/** Everything main() measured. */
export interface FanOutBenchResult {
  bench: 'fanout'
  node: string
  platform: string
  cpus: number
  nodes: number
  reps: number
  domains: number
  on: FanOutSummary
  off: FanOutSummary
  runs: FanOutRun[]
  errors: string[]
  wallMs: number
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function summarize (runs: FanOutRun[], fanOut: boolean): FanOutSummary {
  const mine = runs.filter(r => r.fanOut === fanOut)
  return {
    fanOut,
    runs: mine.length,
    masterServedBytes: median(mine.map(r => r.masterServedBytes)),
    masterArchives: median(mine.map(r => r.masterArchives)),
    allHaveMs: median(mine.map(r => r.allHaveMs)),
    startedMs: median(mine.map(r => r.startedMs)),
    fromSlaves: median(mine.map(r => r.downloads.filter(d => d.from === 'slave').length)),
    allIdentical: mine.every(r => r.identical)
  }
}


/** Runs the benchmark, prints JSON and a table, and returns the result. */
export async function main (opts: { reps?: number, nodes?: number, print?: boolean } = {}): Promise<FanOutBenchResult> {
  const reps = opts.reps ?? 3
  const nodes = opts.nodes ?? 10
  const print = opts.print ?? true
  const log = (s: string): void => { if (print) process.stderr.write(`[fanout] ${s}\n`) }
  const domains = await loadDomains()
  const runs: FanOutRun[] = []
  const errors: string[] = []
  const onSignal = (signal: NodeJS.Signals): void => {
    void Promise.allSettled([...live].map(async c => { await c.cleanup() })).finally(() => { process.exit(signal === 'SIGINT' ? 130 : 143) })
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', emergencyCleanup)
  const t0 = performance.now()
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const fanOut of [true, false]) {
        const cluster = await Cluster.create('spamsync-bench-fanout-')
        live.add(cluster)
        const loadavgStart = Math.round(loadavg()[0] * 10) / 10
        try {
          const r = await joinAtOnce(cluster, { nodes, fanOut, domains, log: (s) => { log(`rep ${rep} fan-out ${fanOut ? 'on' : 'off'}: ${s}`) } })
          runs.push({ ...r, rep, loadavgStart, loadavgEnd: Math.round(loadavg()[0] * 10) / 10 })
          log(`rep ${rep} fan-out ${fanOut ? 'on' : 'off'}: master sent ${r.masterServedBytes} B = ${r.masterArchives} archives of ${r.archiveBytes} B; all have it after ${r.allHaveMs} ms`)
        } catch (err: any) {
          errors.push(`rep ${rep} fan-out ${fanOut ? 'on' : 'off'}: ${String(err?.message ?? err)}`)
          log(errors[errors.length - 1])
        } finally {
          await cluster.cleanup()
          live.delete(cluster)
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', emergencyCleanup)
  }
  const result: FanOutBenchResult = {
    bench: 'fanout',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    nodes,
    reps,
    domains: domains.length,
    on: summarize(runs, true),
    off: summarize(runs, false),
    runs,
    errors,
    wallMs: Math.round(performance.now() - t0)
  }
  if (print) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n\n')
    process.stdout.write(table(result) + '\n')
  }
  return result
}

/** The medians side by side as an aligned text table. */
function table (r: FanOutBenchResult): string {
  const archive = median(r.runs.map(x => x.archiveBytes))
  const fmt = (x: number | null, unit = ''): string => x === null ? 'n/a' : `${Math.round(x * 100) / 100}${unit}`
  const rows: string[][] = [
    ['master bytes out (fetch answers)', fmt(r.on.masterServedBytes, ' B'), fmt(r.off.masterServedBytes, ' B'), `<= ${TARGET_MASTER_ARCHIVES} x archive`],
    ['= full archives', fmt(r.on.masterArchives), fmt(r.off.masterArchives), `<= ${TARGET_MASTER_ARCHIVES}`],
    ['slaves served by a slave', fmt(r.on.fromSlaves), fmt(r.off.fromSlaves), '-'],
    ['slaves started -> all have it', fmt(r.on.allHaveMs, ' ms'), fmt(r.off.allHaveMs, ' ms'), '-'],
    ['of which until all processes answer', fmt(r.on.startedMs, ' ms'), fmt(r.off.startedMs, ' ms'), '-'],
    ['every node identical', String(r.on.allIdentical), String(r.off.allIdentical), 'true'],
    ['runs', String(r.on.runs), String(r.off.runs), String(r.reps)]
  ]
  const head = ['median', 'fan-out on', 'fan-out off', 'target']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ')
  const loads = r.runs.map(x => `${x.loadavgStart}->${x.loadavgEnd}`).join(', ')
  return [
    `fanout bench: ${r.nodes} nodes, ${r.domains}-line blacklist, full archive ${fmt(archive, ' B')}; node ${r.node}, ${r.platform}, ${r.cpus} cpus, wall ${(r.wallMs / 1000).toFixed(1)} s`,
    `load average (1 min) per run: ${loads}`,
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line),
    ...r.errors.map(e => `FAILED ${e}`)
  ].join('\n')
}

/** What --help prints. */
const USAGE = `usage: node dist/bench/fanout.js [--reps=N] [--nodes=N] (defaults: 3 reps, 10 nodes)
  agents joining a master that holds the 121k-line list at once, fan-out on and off`

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (runAsScript && process.argv.includes('--help')) {
  process.stdout.write(USAGE + '\n')
} else if (runAsScript) {
  const { values } = parseArgs({ options: { reps: { type: 'string' }, nodes: { type: 'string' } } })
  main({ reps: values.reps === undefined ? undefined : Number(values.reps), nodes: values.nodes === undefined ? undefined : Number(values.nodes) }).then((r) => {
    if (r.errors.length > 0) process.exitCode = 1
  }, (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
