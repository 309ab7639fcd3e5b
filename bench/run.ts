/**
 * Runs every benchmark in turn (`npm run bench`), collects their results in bench/results.json
 * and renders bench/RESULTS.md (machine and date, then one table per benchmark). Each benchmark
 * still prints its own JSON and table as it goes; one that fails is reported and the rest run.
 *
 * Options: --quick (smaller sizes and fewer repetitions, for a smoke run),
 *   --only=local,cluster,bayes,fanout,syncthing,churn,footprint,sim (a subset; the file then holds only those;
 *   sim, the scale simulation of bench/scale-sim.ts, runs only when named),
 *   --render-only (no benchmark: RESULTS.md again from the results.json there is).
 * Bayes runs in this process and needs a large V8 heap, so without one this script re-runs itself
 * with --max-old-space-size (--heap-mb=N, default 10240), as bench/bayes.ts does.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, hostname, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { getHeapStatistics } from 'node:v8'
import { main as bayes } from './bayes.js'
import { main as churn } from './churn.js'
import { main as cluster } from './cluster.js'
import { main as fanout } from './fanout.js'
import { main as footprint } from './footprint.js'
import { main as local } from './local.js'
import { renderResults, type BenchResults } from './report.js'
import { main as syncthing } from './syncthing.js'
import { main as scaleSim } from './scale-sim.js'

/** Sizes and repetitions of a full and a `--quick` run. */
export const PLANS = {
  full: {
    cluster: { propagationSizes: [2, 5, 10, 20], propagationTrials: 20, bytesLists: ['10k', '121k', '1M'] as const, failoverTrials: 10 },
    /** Tokens per node; each size is one call of bench/bayes.ts main({ tokens }). */
    bayesTokens: [100_000, 1_000_000, 5_000_000],
    /** Repetitions of the 10-node fan-out on/off measure. */
    fanoutReps: 3,
    syncthing: { reps: 10, list: '121k' as const },
    /** Idle agents started per footprint case (empty settings, the 121k blacklist). */
    footprintRuns: 5,
    simSizes: [10, 50, 200, 1000]
  },
  quick: {
    cluster: { propagationSizes: [2, 5], propagationTrials: 5, bytesLists: ['10k'] as const, failoverTrials: 3 },
    bayesTokens: [100_000],
    fanoutReps: 1,
    syncthing: { reps: 3, list: '10k' as const },
    footprintRuns: 2,
    simSizes: [10, 50]
  }
}

const BENCHES = ['local', 'cluster', 'bayes', 'fanout', 'syncthing', 'churn', 'footprint', 'sim'] as const
/** Run only when named in --only: the scale simulation is a model, not a measurement of this machine. */
const OPTIONAL: readonly string[] = ['sim']
type BenchName = typeof BENCHES[number]

/** The repository root (this file runs from dist/bench/). */
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Above this size the results go to scratch/ (not committed) instead of bench/. */
const MAX_RESULTS_BYTES = 2 * 1024 * 1024

function parseArgs (argv: string[]): { quick: boolean, only: BenchName[], renderOnly: boolean } {
  let quick = false
  let renderOnly = false
  let only: BenchName[] = BENCHES.filter(b => !OPTIONAL.includes(b))
  for (const arg of argv) {
    if (arg === '--quick') quick = true
    else if (arg === '--render-only') renderOnly = true
    else if (arg.startsWith('--only=')) {
      const names = arg.slice(7).split(',')
      const bad = names.filter(n => !(BENCHES as readonly string[]).includes(n))
      if (bad.length > 0) throw new Error(`--only takes ${BENCHES.join(',')}, not ${bad.join(',')}`)
      only = names as BenchName[]
    } else if (!arg.startsWith('--heap-mb=')) throw new Error(`unknown option ${arg} (--quick, --only=${BENCHES.join(',')}, --render-only, --heap-mb=N)`)
  }
  return { quick, only, renderOnly }
}

const JSON_PATHS = [join(REPO, 'bench', 'results.json'), join(REPO, 'scratch', 'results.json')]
const MD_PATH = join(REPO, 'bench', 'RESULTS.md')

/** Writes RESULTS.md from the results.json there is. */
function renderOnly (): void {
  const path = JSON_PATHS.find(p => existsSync(p))
  if (path === undefined) throw new Error(`no results to render: neither ${JSON_PATHS.join(' nor ')} exists (run the benchmarks first)`)
  writeFileSync(MD_PATH, renderResults(JSON.parse(readFileSync(path, 'utf8')) as BenchResults))
  process.stderr.write(`wrote ${MD_PATH} from ${path}\n`)
}

async function run (argv: string[]): Promise<void> {
  const { quick, only, renderOnly: render } = parseArgs(argv)
  if (render) {
    renderOnly()
    return
  }
  const plan = quick ? PLANS.quick : PLANS.full
  const t0 = performance.now()
  const results: BenchResults = {
    machine: {
      date: new Date().toISOString(),
      hostname: hostname(),
      platform: `${process.platform}-${process.arch}`,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      totalMemMB: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
      loadBefore: loadavg().map(x => Math.round(x * 100) / 100),
      loadAfter: []
    },
    quick,
    wallSeconds: 0,
    plan: { only, ...plan },
    errors: {}
  }
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    process.stderr.write(`\n=== ${name} ===\n`)
    try {
      await fn()
    } catch (err: any) {
      results.errors[name] = String(err?.stack ?? err)
      process.stderr.write(`${name} failed: ${err?.stack ?? err}\n`)
    }
  }

  if (only.includes('local')) await step('local', async () => { results.local = await local() })
  if (only.includes('cluster')) await step('cluster', async () => { results.cluster = await cluster({ ...plan.cluster, bytesLists: [...plan.cluster.bytesLists] }) })
  if (only.includes('bayes')) {
    for (const tokens of plan.bayesTokens) {
      await step(`bayes ${tokens} tokens`, async () => { (results.bayes ??= []).push(await bayes({ tokens })) })
    }
  }
  if (only.includes('fanout')) await step('fanout', async () => { (results.other ??= {}).fanout = await fanout({ reps: plan.fanoutReps }) })
  if (only.includes('syncthing')) await step('syncthing', async () => { results.syncthing = await syncthing(plan.syncthing) })
  if (only.includes('churn')) await step('churn', async () => { (results.other ??= {}).churn = await churn({ quick }) })
  if (only.includes('footprint')) await step('footprint', async () => { (results.other ??= {}).footprint = await footprint({ runs: plan.footprintRuns }) })
  if (only.includes('sim')) await step('sim', async () => { (results.other ??= {}).sim = await scaleSim({ sizes: plan.simSizes, log: (s) => { process.stderr.write(s + '\n') } }) })

  results.machine.loadAfter = loadavg().map(x => Math.round(x * 100) / 100)
  results.wallSeconds = Math.round((performance.now() - t0) / 1000)
  const json = JSON.stringify(results, null, 2) + '\n'
  const jsonPath = Buffer.byteLength(json) > MAX_RESULTS_BYTES ? JSON_PATHS[1] : JSON_PATHS[0]
  mkdirSync(dirname(jsonPath), { recursive: true })
  writeFileSync(jsonPath, json)
  // Only one results.json, so --render-only cannot pick up an older one.
  for (const p of JSON_PATHS) if (p !== jsonPath && existsSync(p)) rmSync(p)
  writeFileSync(MD_PATH, renderResults(results))
  process.stderr.write(`\nall benchmarks took ${results.wallSeconds} s; wrote ${jsonPath} and ${MD_PATH}\n`)
  if (Object.keys(results.errors).length > 0) process.exitCode = 1
}

/** Re-runs this script with a large heap unless it already has one (see the file comment). */
function main (): void {
  const args = process.argv.slice(2)
  const heapArg = args.find(a => a.startsWith('--heap-mb='))
  const heapMb = heapArg === undefined ? 10240 : Number(heapArg.slice(10))
  if (process.env.SPAMSYNC_BENCH_RUN_CHILD === undefined && heapMb > 0 && getHeapStatistics().heap_size_limit < heapMb * 1024 * 1024 * 0.9) {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, ...process.execArgv, process.argv[1], ...args], {
      stdio: 'inherit', env: { ...process.env, SPAMSYNC_BENCH_RUN_CHILD: '1' }
    })
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig) }
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('exit', (code, signal) => { process.exitCode = code ?? (signal === null ? 1 : 128) })
    return
  }
  run(args).catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}

main()
