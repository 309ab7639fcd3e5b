/**
 * Benchmark of the local half of a node (no network): scanning a large list file into the
 * store, rescanning it after a one-line edit, exporting the node's settings to an archive and
 * importing that archive into a fresh node. The list is the 121,570 domains of the
 * `disposable-email-domains` package written as blacklist.txt.
 *
 * Each measure is repeated REPS times (fresh folders where the measure needs them) and reported
 * as the median and every sample, next to its target. Prints one JSON object, then a table.
 * Run: `npx tsc -p . && npx node dist/bench/local.js` (or `npm run bench`).
 * The harness and the measures are in bench/local/.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type LocalBenchResult, REPS, TARGETS, measure } from './local/harness.js'
import { cliStartup, exportArchive, importInProcess, importWithCli, listFixture, newSamples, scanAndRescan } from './local/phases.js'

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
  const f = await listFixture()
  const { domains, list, keys, invalidLines } = f
  const loadStart = loadavg()[0]
  const s = newSamples()
  const source = await scanAndRescan(root, f, s)
  const { zipPath, archiveBytes } = await exportArchive(root, source, f, s)
  await importWithCli(root, zipPath, f, s)
  await importInProcess(root, zipPath, f, s)
  await cliStartup(s)
  const { samples, cpu } = s

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
