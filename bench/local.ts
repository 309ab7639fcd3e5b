/**
 * Benchmark of the local half of a node (no network): scanning a large list file into the
 * store, rescanning it after a one-line edit, exporting the node's settings to an archive and
 * importing that archive into a fresh node. The list is the 121,570 domains of the
 * `disposable-email-domains` package written as blacklist.txt.
 *
 * Each measure is repeated REPS times (fresh folders where the measure needs them) and reported
 * as the median and every sample, next to its target. Prints one JSON object, then a table.
 * Run: `npx tsc -p . && npx node dist/bench/local.js` (or `npm run bench`).
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { LIST_DATASETS, type ListDataset } from '../src/constants.js'
import { openLocalState, type LocalState } from '../src/local-state.js'
import { buildSettingsArchive, readSettingsArchive } from '../src/sync/settings-archive.js'
import { writeFileAtomic } from '../src/settings/atomic-write.js'
import { parseListFile } from '../src/settings/list-file.js'
import type { Entry } from '../src/crdt/lww-set.js'

/** Repetitions of every measure. */
const REPS = 5

/** Clock skew passed to openLocalState, as the brief of this benchmark fixes it. */
const MAX_SKEW_MS = 300_000

/** Targets on the reference machine (2 cores), in milliseconds. */
const TARGETS = {
  firstScan: 1000,
  rescan: 300,
  export: 1000,
  import: 1500
} as const

/** The repository root (dist/bench/local.js -> ../../). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
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

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

function round (ms: number): number {
  return Math.round(ms * 10) / 10
}

function measure (samples: number[], targetMs: number | null, cpu?: number[]): Measure {
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
function cpuNow (): number {
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

async function timed<T> (fn: () => Promise<T> | T): Promise<{ ms: number, cpuMs: number, value: T }> {
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
async function timedCli (args: string[]): Promise<{ ms: number, cpuMs: number | undefined, value: string }> {
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
interface NodeDirs { dataDir: string, settingsDir: string }

/** Makes the folders of a fresh node; writes blacklist.txt when `list` is given. */
async function makeNode (root: string, name: string, list?: string): Promise<NodeDirs> {
  const dataDir = join(root, name, 'data')
  const settingsDir = join(root, name, 'settings')
  await mkdir(dataDir, { recursive: true })
  await mkdir(settingsDir, { recursive: true })
  if (list !== undefined) await writeFile(join(settingsDir, 'blacklist.txt'), list)
  return { dataDir, settingsDir }
}

async function open (dirs: NodeDirs): Promise<LocalState> {
  return await openLocalState({ ...dirs, maxSkewMs: MAX_SKEW_MS })
}

function fail (message: string): never {
  throw new Error(`bench/local: ${message}`)
}

/** Loads the domain list of the devDependency `disposable-email-domains`. */
async function loadDomains (): Promise<string[]> {
  const path = createRequire(import.meta.url).resolve('disposable-email-domains/index.json')
  const domains: unknown = JSON.parse(await readFile(path, 'utf8'))
  if (!Array.isArray(domains) || domains.length === 0 || !domains.every(d => typeof d === 'string')) {
    fail(`${path} is not a non-empty JSON array of strings`)
  }
  return domains
}

/** Checks that the settings folder's blacklist holds exactly `expected` (and nothing is invalid). */
async function checkBlacklist (settingsDir: string, expected: ReadonlySet<string>, what: string): Promise<void> {
  const parsed = parseListFile(await readFile(join(settingsDir, 'blacklist.txt'), 'utf8'), 'blacklist.txt')
  if (parsed.invalid.length > 0) fail(`${what}: blacklist.txt has ${parsed.invalid.length} invalid lines, first: ${JSON.stringify(parsed.invalid[0])}`)
  if (parsed.entries.size !== expected.size) fail(`${what}: blacklist.txt has ${parsed.entries.size} entries, expected ${expected.size}`)
  for (const key of expected) if (!parsed.entries.has(key)) fail(`${what}: blacklist.txt lacks ${key}`)
}

/** Runs the benchmark, prints JSON and a table, and returns the result. */
export async function main (): Promise<LocalBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-bench-local-'))
  try {
    return await run(root)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

async function run (root: string): Promise<LocalBenchResult> {
  const domains = await loadDomains()
  const list = domains.join('\n') + '\n'
  // What the replica should hold: the list's keys as the list file parser normalises them.
  // A few domains are listed twice, once in Unicode and once in punycode: they normalise to one
  // key, so the second line is a reported duplicate (an invalid line), not an entry.
  const parsedList = parseListFile(list, 'blacklist.txt')
  const invalidLines = parsedList.invalid.length
  const badOther = parsedList.invalid.filter(i => !i.reason.startsWith('duplicate of line'))
  if (badOther.length > 0) fail(`the domain list has ${badOther.length} invalid lines, first: ${JSON.stringify(badOther[0])}`)
  const keys = [...parsedList.entries.keys()]
  // The edited line: one domain in the middle of the file, replaced by one that is not in it.
  const editLine = domains.length >> 1
  const edited = parsedList.lines[editLine]
  if (edited.kind !== 'entry' || edited.key === undefined) fail(`line ${editLine + 1} of the list is not an entry`)
  const oldKey = edited.key
  const newKey = 'spamsync-bench-replacement.example'
  if (parsedList.entries.has(newKey)) fail(`${newKey} is already in the list`)
  const editedDomains = [...domains]
  editedDomains[editLine] = newKey
  const editedList = editedDomains.join('\n') + '\n'
  const editedKeys = new Set(keys)
  editedKeys.delete(oldKey)
  editedKeys.add(newKey)

  const loadStart = loadavg()[0]
  const samples = {
    firstScan: [] as number[],
    rescan: [] as number[],
    exportCli: [] as number[],
    exportInProcess: [] as number[],
    exportScan: [] as number[],
    exportBuild: [] as number[],
    exportWrite: [] as number[],
    importCli: [] as number[],
    importInProcess: [] as number[],
    importRead: [] as number[],
    importMerge: [] as number[],
    importWrite: [] as number[],
    openFilledStore: [] as number[],
    cliStartup: [] as number[]
  }
  const cpu: Partial<Record<keyof typeof samples, number[]>> = {}
  const addCpu = (name: keyof typeof samples, ms: number | undefined): void => {
    if (ms !== undefined) (cpu[name] ??= []).push(ms)
  }

  // First scan and rescan: a fresh node each repetition.
  let source: NodeDirs | undefined
  for (let rep = 0; rep < REPS; rep++) {
    const dirs = await makeNode(root, `scan-${rep}`, list)
    const state = await open(dirs)
    try {
      const first = await timed(() => state.folder.scan())
      samples.firstScan.push(first.ms)
      addCpu('firstScan', first.cpuMs)
      const firstChanges = first.value.changed.get('blacklist')?.length ?? 0
      if (firstChanges !== keys.length || first.value.changed.size !== 1) {
        fail(`first scan reported ${firstChanges} blacklist changes in ${first.value.changed.size} datasets, expected ${keys.length} in 1`)
      }
      const firstInvalid = state.folder.invalid.get('blacklist')?.invalidCount ?? 0
      if (firstInvalid !== invalidLines) fail(`first scan reported ${firstInvalid} invalid lines, expected ${invalidLines}`)

      await writeFile(join(dirs.settingsDir, 'blacklist.txt'), editedList)
      const rescan = await timed(() => state.folder.scan())
      samples.rescan.push(rescan.ms)
      addCpu('rescan', rescan.cpuMs)
      const changes = rescan.value.changed.get('blacklist') ?? []
      const added = changes.filter(e => e.present && e.key === newKey)
      const removed = changes.filter(e => !e.present && e.key === oldKey)
      if (rescan.value.changed.size !== 1 || changes.length !== 2 || added.length !== 1 || removed.length !== 1) {
        fail(`rescan after a one-line edit reported ${JSON.stringify(changes.map(e => ({ key: e.key, present: e.present })).slice(0, 10))} ` +
          `(${changes.length} blacklist changes in ${rescan.value.changed.size} datasets); expected exactly 2: ${newKey} new, ${oldKey} tombstone`)
      }
    } finally {
      await state.close()
    }
    // Later repetitions' folders are not needed: keep the disk small.
    if (rep === 0) source = dirs
    else await rm(join(root, `scan-${rep}`), { recursive: true, force: true })
  }
  if (source === undefined) fail('no source node')

  // Export: the first node above (scanned, then edited and rescanned), its folder unchanged.
  const zipPath = join(root, 'export.zip')
  for (let rep = 0; rep < REPS; rep++) {
    const cli = await timedCli(['export', '--data-dir', source.dataDir, '--settings-dir', source.settingsDir, zipPath])
    samples.exportCli.push(cli.ms)
    addCpu('exportCli', cli.cpuMs)
    if (!cli.value.startsWith(`exported ${zipPath}`)) fail(`unexpected export output: ${cli.value}`)
  }
  let archiveBytes = 0
  const inProcessZip = join(root, 'export-in-process.zip')
  for (let rep = 0; rep < REPS; rep++) {
    const opened = await timed(() => open(source))
    samples.openFilledStore.push(opened.ms)
    const state = opened.value
    try {
      const c0 = cpuNow()
      const t0 = performance.now()
      const scan = await state.folder.scan()
      const t1 = performance.now()
      if (scan.changed.size !== 0) fail(`scan of an unchanged folder reported changes in ${[...scan.changed.keys()].join(', ')}`)
      const lists = new Map<ListDataset, Entry[]>()
      for (const ds of LIST_DATASETS) lists.set(ds, [...state.replica.entries(ds)])
      const zip = buildSettingsArchive({ kind: 'full', origin: state.identity.nodeId, base: null, version: null }, lists)
      const t2 = performance.now()
      await writeFileAtomic(inProcessZip, zip)
      const t3 = performance.now()
      samples.exportScan.push(t1 - t0)
      samples.exportBuild.push(t2 - t1)
      samples.exportWrite.push(t3 - t2)
      samples.exportInProcess.push(t3 - t0)
      addCpu('exportInProcess', cpuNow() - c0)
      archiveBytes = zip.byteLength
    } finally {
      await state.close()
    }
  }
  const cliZip = await readFile(zipPath)
  const cliArchive = readSettingsArchive(cliZip)
  const exported = cliArchive.lists.get('blacklist') ?? []
  if (exported.length !== keys.length + 1 || exported.filter(e => e.present).length !== keys.length) {
    fail(`the exported archive has ${exported.length} blacklist entries (${exported.filter(e => e.present).length} present), ` +
      `expected ${keys.length + 1} (${keys.length} present, 1 tombstone)`)
  }

  // Import the CLI's archive into a fresh node (new data folder, empty settings folder).
  for (let rep = 0; rep < REPS; rep++) {
    const dirs = await makeNode(root, `import-cli-${rep}`)
    const cli = await timedCli(['import', '--data-dir', dirs.dataDir, '--settings-dir', dirs.settingsDir, zipPath])
    samples.importCli.push(cli.ms)
    addCpu('importCli', cli.cpuMs)
    if (!cli.value.includes(`blacklist ${keys.length + 1} changed of ${keys.length + 1}`)) fail(`unexpected import output: ${cli.value}`)
    if (rep === 0) await checkBlacklist(dirs.settingsDir, editedKeys, 'CLI import')
    await rm(join(root, `import-cli-${rep}`), { recursive: true, force: true })
  }
  for (let rep = 0; rep < REPS; rep++) {
    const dirs = await makeNode(root, `import-${rep}`)
    const state = await open(dirs)
    try {
      const c0 = cpuNow()
      const t0 = performance.now()
      const zip = await readFile(zipPath)
      const archive = readSettingsArchive(zip)
      const t1 = performance.now()
      await state.folder.scan()
      let changedCount = 0
      let merge = 0
      let write = 0
      for (const [dataset, entries] of archive.lists) {
        const m0 = performance.now()
        const changed = await state.replica.merge(dataset, entries, { synced: false })
        const m1 = performance.now()
        if (changed.length > 0) await state.folder.write(dataset)
        merge += m1 - m0
        write += performance.now() - m1
        changedCount += changed.length
      }
      const t2 = performance.now()
      samples.importRead.push(t1 - t0)
      samples.importMerge.push(merge)
      samples.importWrite.push(write)
      samples.importInProcess.push(t2 - t0)
      addCpu('importInProcess', cpuNow() - c0)
      if (changedCount !== keys.length + 1) fail(`in-process import changed ${changedCount} entries, expected ${keys.length + 1}`)
    } finally {
      await state.close()
    }
    if (rep === 0) await checkBlacklist(dirs.settingsDir, editedKeys, 'in-process import')
    await rm(join(root, `import-${rep}`), { recursive: true, force: true })
  }

  // What any CLI run pays before its command starts (process start + module loading).
  for (let rep = 0; rep < REPS; rep++) {
    const cli = await timedCli(['--version'])
    samples.cliStartup.push(cli.ms)
    addCpu('cliStartup', cli.cpuMs)
  }

  const result: LocalBenchResult = {
    bench: 'local',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    domains: domains.length,
    keys: keys.length,
    invalidLines,
    listBytes: Buffer.byteLength(list),
    archiveBytes,
    reps: REPS,
    loadAvg: { start: loadStart, end: loadavg()[0] },
    measures: {
      firstScan: measure(samples.firstScan, TARGETS.firstScan, cpu.firstScan),
      rescan: measure(samples.rescan, TARGETS.rescan, cpu.rescan),
      exportCli: measure(samples.exportCli, TARGETS.export, cpu.exportCli),
      exportInProcess: measure(samples.exportInProcess, TARGETS.export, cpu.exportInProcess),
      'exportInProcess.scan': measure(samples.exportScan, null),
      'exportInProcess.build': measure(samples.exportBuild, null),
      'exportInProcess.write': measure(samples.exportWrite, null),
      importCli: measure(samples.importCli, TARGETS.import, cpu.importCli),
      importInProcess: measure(samples.importInProcess, TARGETS.import, cpu.importInProcess),
      'importInProcess.read': measure(samples.importRead, null),
      'importInProcess.merge': measure(samples.importMerge, null),
      'importInProcess.write': measure(samples.importWrite, null),
      openFilledStore: measure(samples.openFilledStore, null),
      cliStartup: measure(samples.cliStartup, null, cpu.cliStartup)
    }
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n\n')
  process.stdout.write(table(result) + '\n')
  return result
}

/** The result as an aligned text table. */
function table (r: LocalBenchResult): string {
  const head = ['measure', 'median ms', 'target ms', 'ok', 'cpu ms', 'samples ms']
  const rows = Object.entries(r.measures).map(([name, m]) => [
    name,
    m.medianMs.toFixed(1),
    m.targetMs === null ? '-' : String(m.targetMs),
    m.ok === null ? '' : m.ok ? 'yes' : 'NO',
    m.cpuMedianMs === null ? '' : m.cpuMedianMs.toFixed(0),
    m.samplesMs.map(x => x.toFixed(1)).join(' ')
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
  const right = [false, true, true, false, true, false]
  const line = (cells: string[]): string => cells.map((c, i) => right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])).join('  ').trimEnd()
  return [
    `local bench: ${r.domains} domains (${r.keys} keys, ${r.invalidLines} duplicate lines, ${r.listBytes} bytes), archive ${r.archiveBytes} bytes, ${r.reps} reps, node ${r.node}, ${r.cpus} cpus, load ${r.loadAvg.start.toFixed(2)} -> ${r.loadAvg.end.toFixed(2)}`,
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line)
  ].join('\n')
}

/** What --help prints. */
const USAGE = `usage: node dist/bench/local.js
  scan, rescan, export and import (CLI processes and in process) of the 121,570-line blacklist,
  ${REPS} repetitions each; prints JSON, then a table (median, target, CPU, samples)`

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (runAsScript && process.argv.length > 2) {
  const help = process.argv.slice(2).every(a => a === '--help')
  process[help ? 'stdout' : 'stderr'].write((help ? '' : `unknown argument ${process.argv.slice(2).find(a => a !== '--help') ?? ''}\n`) + USAGE + '\n')
  if (!help) process.exitCode = 2
} else if (runAsScript) {
  main().then((r) => {
    const missed = Object.entries(r.measures).filter(([, m]) => m.ok === false).map(([name]) => name)
    if (missed.length > 0) process.stderr.write(`targets missed: ${missed.join(', ')}\n`)
  }, (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
