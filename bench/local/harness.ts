/** What the local benchmark measures with: its targets, the timed CLI and in-process calls, fresh nodes, the domain list, the result's shape. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { openLocalState, type LocalState } from '../../src/local-state.js'
import { parseListFile } from '../../src/settings/list-file.js'

/** Repetitions of every measure. */
export const REPS = 5

/** Clock skew passed to openLocalState, as the brief of this benchmark fixes it. */
const MAX_SKEW_MS = 300_000

/** Targets on the reference machine (2 cores), in milliseconds. */
export const TARGETS = {
  firstScan: 1000,
  rescan: 300,
  export: 1000,
  import: 1500
} as const

/** The repository root (dist/bench/local/harness.js -> ../../../). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(ROOT, 'bin', 'spamsync.js')

/** One reported measure. */
export interface Measure {
  /** Median wall-clock time. */
  medianMs: number
  /** Every wall-clock sample, in run order. */
  samplesMs: number[]
  /** Target for the median, or null for a breakdown figure. */
  targetMs: number | null
  /** Whether the median meets the target (null without one). */
  ok: boolean | null
  /**
   * Median CPU time (user + system, all threads: LevelDB's and the GC's too) of the measured
   * work; of the child process for CLI measures (Linux only). Less sensitive than wall time to
   * other processes on the machine; null when not measured.
   */
  cpuMedianMs: number | null
}

/** Everything main() measured. */
export interface LocalBenchResult {
  bench: 'local'
  node: string
  platform: string
  cpus: number
  /** Lines of blacklist.txt. */
  domains: number
  /** Distinct keys after normalisation (entries of the replica). */
  keys: number
  /** Lines reported invalid (Unicode/punycode duplicates). */
  invalidLines: number
  listBytes: number
  archiveBytes: number
  reps: number
  /** 1-minute load average when the run started and ended: other work on the machine skews wall times. */
  loadAvg: { start: number, end: number }
  measures: Record<string, Measure>
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

function round (ms: number): number {
  return Math.round(ms * 10) / 10
}

export function measure (samples: number[], targetMs: number | null, cpu?: number[]): Measure {
  const m = round(median(samples))
  return {
    medianMs: m,
    samplesMs: samples.map(round),
    targetMs,
    ok: targetMs === null ? null : m <= targetMs,
    cpuMedianMs: cpu === undefined || cpu.length === 0 ? null : round(median(cpu))
  }
}

/** CPU time of this process so far (user + system), in ms. */
export function cpuNow (): number {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

/**
 * CPU time of this process's waited-for children so far, in ms (Linux: cutime + cstime of
 * /proc/self/stat, at 100 ticks a second); undefined where there is no /proc.
 */
function childCpuNow (): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[13]) + Number(fields[14])) * 10
  } catch {
    return undefined
  }
}

export async function timed<T> (fn: () => Promise<T> | T): Promise<{ ms: number, cpuMs: number, value: T }> {
  const c0 = cpuNow()
  const t0 = performance.now()
  const value = await fn()
  return { ms: performance.now() - t0, cpuMs: cpuNow() - c0, value }
}

/** Environment for the CLI child: ours without SPAMSYNC_* so only the flags configure it. */
function cliEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SPAMSYNC_')) env[k] = v
  return env
}

/** Runs the real CLI; resolves to its stdout, wall time and (Linux) CPU time. */
export async function timedCli (args: string[]): Promise<{ ms: number, cpuMs: number | undefined, value: string }> {
  const c0 = childCpuNow()
  const t0 = performance.now()
  const value = await runCli(args)
  const ms = performance.now() - t0
  const c1 = childCpuNow()
  return { ms, cpuMs: c0 === undefined || c1 === undefined ? undefined : c1 - c0, value }
}

/** Runs the real CLI with this process's Node; resolves to stdout, rejects loudly on failure. */
function runCli (args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env: cliEnv(), maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`spamsync ${args.join(' ')} failed (${err.code ?? err.signal}): ${stderr.trim() || err.message}`))
      } else {
        resolve(stdout)
      }
    })
  })
}

/** A node's two folders under the bench's temp root. */
export interface NodeDirs { dataDir: string, settingsDir: string }

/** Makes the folders of a fresh node; writes blacklist.txt when `list` is given. */
export async function makeNode (root: string, name: string, list?: string): Promise<NodeDirs> {
  const dataDir = join(root, name, 'data')
  const settingsDir = join(root, name, 'settings')
  await mkdir(dataDir, { recursive: true })
  await mkdir(settingsDir, { recursive: true })
  if (list !== undefined) await writeFile(join(settingsDir, 'blacklist.txt'), list)
  return { dataDir, settingsDir }
}

export async function open (dirs: NodeDirs): Promise<LocalState> {
  return await openLocalState({ ...dirs, maxSkewMs: MAX_SKEW_MS })
}

export function fail (message: string): never {
  throw new Error(`bench/local: ${message}`)
}

/** Loads the domain list of the devDependency `disposable-email-domains`. */
export async function loadDomains (): Promise<string[]> {
  const path = createRequire(import.meta.url).resolve('disposable-email-domains/index.json')
  const domains: unknown = JSON.parse(await readFile(path, 'utf8'))
  if (!Array.isArray(domains) || domains.length === 0 || !domains.every(d => typeof d === 'string')) {
    fail(`${path} is not a non-empty JSON array of strings`)
  }
  return domains
}

/** Checks that the settings folder's blacklist holds exactly `expected` (and nothing is invalid). */
export async function checkBlacklist (settingsDir: string, expected: ReadonlySet<string>, what: string): Promise<void> {
  const parsed = parseListFile(await readFile(join(settingsDir, 'blacklist.txt'), 'utf8'), 'blacklist.txt')
  if (parsed.invalid.length > 0) fail(`${what}: blacklist.txt has ${parsed.invalid.length} invalid lines, first: ${JSON.stringify(parsed.invalid[0])}`)
  if (parsed.entries.size !== expected.size) fail(`${what}: blacklist.txt has ${parsed.entries.size} entries, expected ${expected.size}`)
  for (const key of expected) if (!parsed.entries.has(key)) fail(`${what}: blacklist.txt lacks ${key}`)
}
