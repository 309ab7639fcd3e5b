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
 *   [--sizes=2,5,10,20] [--trials=20] [--lists=10k,121k,1M] [--changes=1] [--change-pause-s=3] [--failover-trials=10] [--seed=N]`.
 * --changes=N: one-line changes timed per list in the bytes phase (for a median).
 * --change-pause-s=N: seconds between those changes (default 3). The nodes let go of a large
 * file view's text 30 s after its last use (replica/file-views.ts), so with the default every
 * change after the first finds the views held; 35 or more times the first change after an idle
 * spell, which reads them back on every node.
 * With SPAMSYNC_TRACE=1 in the environment (the agents inherit it) the bytes phase prints the
 * timeline of every extra change's trace points (src/trace.ts) on every node.
 * Every process is stopped and every temp folder removed, also on error or Ctrl-C.
 * This file runs the phases and reads the command line; the harness, each phase and the table
 * are in bench/cluster/.
 */
import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { LIST_NAMES, prng, type ListName } from './lists.js'
import { bytes } from './cluster/bytes.js'
import { failover } from './cluster/failover.js'
import { emergencyCleanup, live } from './cluster/harness.js'
import { propagation } from './cluster/propagation.js'
import { missedTargets, table } from './cluster/table.js'
import type { ClusterBenchOptions, ClusterBenchResult } from './cluster/types.js'

/** Cluster sizes of the propagation phase. */
export const DEFAULT_SIZES: readonly number[] = [2, 5, 10, 20]

/** Runs the benchmark, prints JSON and a table, and returns the result. */
// eslint-disable-next-line max-lines-per-function -- the phases in order between the signal handlers and the per-step error capture
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
    void Promise.allSettled([...live].map(async c => { await c.cleanup() })).finally(() => { process.exit(signal === 'SIGINT' ? 130 : 143) })
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
          await step(`bytes[${list}]`, async () => { (result.bytes ??= []).push(await bytes(opts.bytesNodes ?? 3, list, log, opts.bytesChanges ?? 1, opts.changePauseS)) })
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
    else if (k === 'changes') o.bytesChanges = nums(k, v)[0]
    else if (k === 'change-pause-s') o.changePauseS = nums(k, v)[0]
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
  [--lists=${LIST_NAMES.join(',')}] [--changes=1] [--change-pause-s=3] [--failover-trials=10] [--seed=N]
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
