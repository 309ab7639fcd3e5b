/**
 * Benchmark of what an idle agent holds: the RSS of one `spamsync start` process (alone, mDNS
 * off) once it is master and has been idle for a while, with empty settings and with the
 * 121,570-line blacklist (bench/lists.ts) in its settings folder before it starts. Idle means past
 * the 30 s an agent keeps its last encoding of a list for fetchers (ENCODING_HOLD_MS in
 * src/replica/entry-buckets.ts) and past the one full collection the agent makes once it has been
 * quiet for 35 s after work (src/cli/collect-when-quiet.ts): the default wait is 45 s after it is
 * master. Each case runs RUNS times, each in fresh folders, and is reported as medians: VmRSS, VmHWM, RssAnon and
 * RssFile from /proc/PID/status, and the V8 heap (committed and used) and external memory from a
 * probe preloaded into the agent (bench/footprint/memory-probe.ts), so the table says where the
 * bytes are. `--drop` puts the list into the folder once the agent is master instead of before it
 * starts: the agent then takes it as work (src/cli/work-gear.ts lifts V8's lean flags for it). A bare `node` process idle for the same time is measured as the floor.
 *
 * Run: `npx tsc -p . && npx node dist/bench/footprint.js [--runs=N] [--idle-seconds=S]
 * [--lists=empty,121k] [--cli=PATH] [--node-args='--v8-flag ...'] [--drop]` (or `npm run bench -- --only=footprint`).
 */
import { spawn } from 'node:child_process'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { AgentProcess, CLI, Cluster, freePort, waitFor } from '../test/helpers/agents.js'
import { benchList } from './lists.js'
import { MEMORY_PROBE_TAG, type HeapFigures } from './footprint/memory-probe.js'
import { FOOTPRINT_TARGETS, footprintTable, type FootprintCase, type FootprintCaseResult, type FootprintOptions, type FootprintResult, type FootprintSample } from './footprint/table.js'

const PROBE = pathToFileURL(join(fileURLToPath(import.meta.url), '..', 'footprint', 'memory-probe.js')).href


const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024 * 10) / 10
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2 * 10) / 10
}

/** VmRSS, VmHWM, RssAnon and RssFile of a process, in MB. */
async function procStatus (pid: number): Promise<{ rss: number, peak: number, anon: number, file: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
    if (m === null) throw new Error(`/proc/${pid}/status has no ${field}`)
    return Math.round(Number(m[1]) / 1024 * 10) / 10
  }
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') }
}

/** An agent started with the memory probe preloaded, by the given CLI script. */
class ProbedAgent extends AgentProcess {
  constructor (private readonly cli: string, private readonly nodeArgs: string[], dir: string, port: number, httpPort: number, keyFile: string) {
    super(dir, port, httpPort, keyFile, ['--log-level', 'warn'])
  }

  protected override command (bootstrap: string[]): { file: string, args: string[] } {
    // startArgs() starts with the checkout's CLI path.
    return { file: process.execPath, args: [...this.nodeArgs, '--import', PROBE, this.cli, ...this.startArgs(`/ip4/127.0.0.1/tcp/${this.port}`, bootstrap).slice(1)] }
  }

  /** Asks the probe for its figures and waits for its line. */
  async heap (): Promise<HeapFigures> {
    const from = this.output.length
    this.proc?.kill('SIGUSR2')
    return await waitFor('the memory probe', () => {
      const line = this.output.slice(from).split('\n').find(l => l.startsWith(MEMORY_PROBE_TAG + ' '))
      return line === undefined ? undefined : JSON.parse(line.slice(MEMORY_PROBE_TAG.length + 1)) as HeapFigures
    }, 10_000, 20)
  }
}

/** One agent: started, waited for until master with the `lines` of its blacklist read, idle, measured, stopped. */
async function sampleAgent (o: Required<FootprintOptions>, blacklist: string | null, lines: number): Promise<FootprintSample> {
  const cluster = await Cluster.create('spamsync-bench-footprint-')
  try {
    const port = await freePort()
    const httpPort = await freePort()
    const agent = await cluster.addWith(dir => new ProbedAgent(o.cli, o.nodeArgs, dir, port, httpPort, cluster.keyFile))
    if (blacklist !== null && !o.drop) await writeFile(join(agent.settingsDir, 'blacklist.txt'), blacklist)
    const t0 = performance.now()
    await agent.start()
    if (blacklist !== null && o.drop) {
      await waitFor('the agent to be master', async () => (await agent.status()).role === 'master', 120_000, 50)
      await writeFile(join(cluster.root, 'blacklist.txt.drop'), blacklist)
      await rename(join(cluster.root, 'blacklist.txt.drop'), join(agent.settingsDir, 'blacklist.txt'))
    }
    await waitFor('the agent to be master with its settings loaded', async () => {
      const s = await agent.status()
      const b = s.datasets?.blacklist
      return s.role === 'master' && (b?.entries ?? 0) + (b?.invalidCount ?? 0) >= lines
    }, 120_000, 50)
    const startMs = Math.round(performance.now() - t0)
    await sleep(o.idleSeconds * 1000)
    const pid = agent.proc?.pid
    if (pid === undefined) throw new Error('the agent has no pid')
    const proc = await procStatus(pid)
    const cpuSeconds = await procCpuSeconds(pid)
    const heap = await agent.heap()
    const otherAnon = Math.round((proc.anon - mb(heap.heapUsed) - mb(heap.external)) * 10) / 10
    return { ...proc, heapTotal: mb(heap.heapTotal), heapUsed: mb(heap.heapUsed), heapLive: mb(heap.heapLive), external: mb(heap.external), otherAnon, startMs, cpuSeconds }
  } finally {
    await cluster.cleanup()
  }
}

/** CPU seconds (user + system) a process used so far (clock ticks of 1/100 s, as Linux reports them). */
async function procCpuSeconds (pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) start at the state, field 3; utime and stime are 14 and 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** A bare node process's VmRSS after the idle time, MB. */
async function bareNode (idleSeconds: number): Promise<number> {
  const proc = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  try {
    await sleep(idleSeconds * 1000)
    return (await procStatus(proc.pid ?? 0)).rss
  } finally {
    proc.kill('SIGKILL')
  }
}

/** Runs the benchmark, prints JSON and a table, and returns the result. */
export async function main (opts: FootprintOptions = {}): Promise<FootprintResult> {
  const o: Required<FootprintOptions> = { runs: 5, idleSeconds: 45, cases: ['empty', '121k'], cli: CLI, nodeArgs: [], drop: false, ...opts }
  const loadStart = loadavg()[0]
  const bare: number[] = []
  for (let i = 0; i < Math.min(o.runs, 3); i++) bare.push(await bareNode(o.idleSeconds))
  const cases: FootprintCaseResult[] = []
  for (const c of o.cases) {
    const domains = c === 'empty' ? [] : (await benchList(c)).domains
    const blacklist = c === 'empty' ? null : domains.join('\n') + '\n'
    const samples: FootprintSample[] = []
    for (let i = 0; i < o.runs; i++) {
      samples.push(await sampleAgent(o, blacklist, domains.length))
      process.stderr.write(`footprint ${c} run ${i + 1}/${o.runs}: ${JSON.stringify(samples.at(-1))}\n`)
    }
    const field = (k: keyof FootprintSample): number => median(samples.map(s => s[k]))
    const keys = Object.keys(samples[0]) as Array<keyof FootprintSample>
    cases.push({ case: c, targetMB: FOOTPRINT_TARGETS[c], median: Object.fromEntries(keys.map(k => [k, field(k)])) as unknown as FootprintSample, rssSamples: samples.map(s => s.rss) })
  }
  const result: FootprintResult = {
    bench: 'footprint',
    node: process.version,
    cli: o.cli,
    nodeArgs: o.nodeArgs,
    drop: o.drop,
    runs: o.runs,
    idleSeconds: o.idleSeconds,
    loadAvg: { start: loadStart, end: loadavg()[0] },
    bareNodeRss: median(bare),
    cases
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n\n' + footprintTable(result) + '\n')
  return result
}

/** The options of a command line; throws on an unknown one. */
function parseArgs (argv: string[]): FootprintOptions {
  const o: FootprintOptions = {}
  for (const arg of argv) {
    const eq = arg.indexOf('=')
    const name = eq < 0 ? arg : arg.slice(0, eq)
    const value = eq < 0 ? '' : arg.slice(eq + 1)
    if (name === '--runs') o.runs = Number(value)
    else if (name === '--idle-seconds') o.idleSeconds = Number(value)
    else if (name === '--lists') o.cases = value.split(',') as FootprintCase[]
    else if (name === '--cli') o.cli = resolve(value)
    else if (name === '--node-args') o.nodeArgs = value.split(' ').filter(a => a !== '')
    else if (name === '--drop') o.drop = true
    else throw new Error(`unknown argument ${arg} (--runs=N, --idle-seconds=S, --lists=empty,121k, --cli=PATH, --node-args='--flag ...')`)
  }
  for (const c of o.cases ?? []) if (!(c in FOOTPRINT_TARGETS)) throw new Error(`--lists takes ${Object.keys(FOOTPRINT_TARGETS).join(',')}, not ${c}`)
  return o
}

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (runAsScript) {
  Promise.resolve().then(async () => await main(parseArgs(process.argv.slice(2)))).catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
