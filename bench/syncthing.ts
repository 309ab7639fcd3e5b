/**
 * spamsync next to plain file sync: Debian's `syncthing` as the reference, both measured the same
 * way on the same data in one run.
 *
 * Syncthing: 3 instances on 127.0.0.1, each with its own home folder under a temp folder; global
 * and local discovery, relays, NAT (and so STUN), usage and crash reporting and auto-upgrade off;
 * GUI/REST on 127.0.0.1 random ports with an API key; the devices know each other by static
 * tcp://127.0.0.1:PORT addresses; one shared folder, fsWatcher on with a 1 s delay (its minimum
 * here) and a 1 s rescan interval (the folder holds one file, so a rescan costs next to nothing).
 * While it runs, every socket of the syncthing processes is checked (from /proc every 200 ms)
 * for a peer outside 127.0.0.1: there must be none.
 * spamsync: 3 `spamsync start` processes as in bench/cluster.ts.
 *
 * Both: the three nodes start with empty folders and connect; once no byte moves, the
 * 121,570-line blacklist.txt is dropped into the first node's folder (written elsewhere,
 * renamed into place) and timed until each other node's copy holds every line (polled every
 * 10 ms, bench/initial/drop.ts); once all three hold it and no byte moves for a second,
 * `reps` times: one line appended to the first instance's file, timed
 * until each of the other two files has it (polled every 10 ms), and the bytes sent per receiving
 * node, counted two ways: the tool's own counters (syncthing: the BEP connection totals of
 * /rest/system/connections, i.e. its protocol messages before TLS; spamsync: bytesSent of
 * /status, the sync streams' bytes before Noise and yamux, without the beacons),
 * and the kernel's count of TCP payload bytes acknowledged on every socket of the processes
 * except their own HTTP port (`ss`; everything on the wire: encryption, muxing, control messages).
 *
 * When syncthing is not installed the bench runs scripts/install-syncthing.sh; when that or
 * syncthing itself fails, its side is skipped with the reason and spamsync is still measured.
 * Run: `npx tsc -p . && npx node dist/bench/syncthing.js [--reps=10] [--list=121k]`.
 * Every process is stopped and every temp folder removed, also on error or Ctrl-C.
 * The syncthing instance, the loopback check, the change measure, both sides and the table are
 * in bench/syncthing/.
 */
import { rmSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { emergencyCleanup, round } from './cluster/harness.js'
import { benchList, LIST_NAMES, type ListName } from './lists.js'
import { parseListFile } from '../src/settings/list-file.js'
import { syncthingVersion } from './syncthing/instance.js'
import { liveRoots, liveSyncthing, spamsyncSide, syncthingSide } from './syncthing/sides.js'
import { comparisonTable } from './syncthing/table.js'
import { FILE, POLL_MS, type Skipped, type SyncthingBenchOptions, type SyncthingBenchResult, type ToolResult } from './syncthing/types.js'

/** Runs both sides, prints JSON and a table, and returns the result. */
// eslint-disable-next-line max-lines-per-function -- both sides in order between the signal handlers and the cleanup of every process and folder
export async function main (opts: SyncthingBenchOptions = {}): Promise<SyncthingBenchResult> {
  const reps = opts.reps ?? 10
  const listName = opts.list ?? '121k'
  const print = opts.print ?? true
  const log = (s: string): void => { if (print) process.stderr.write(`[syncthing] ${s}\n`) }
  const { domains, source } = await benchList(listName)
  const list = domains.join('\n') + '\n'
  const keys = parseListFile(list, FILE).entries.size
  const loadStart = loadavg()[0]
  const t0 = performance.now()
  const cleanupSync = (): void => {
    for (const inst of liveSyncthing) inst.signal('SIGKILL')
    for (const r of liveRoots) { try { rmSync(r, { recursive: true, force: true }) } catch {} }
    emergencyCleanup()
  }
  const onSignal = (signal: NodeJS.Signals): void => { cleanupSync(); process.exit(signal === 'SIGINT' ? 130 : 143) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', cleanupSync)
  let syncthing: ToolResult | Skipped
  let spamsync: ToolResult | Skipped
  let loopbackCheck: SyncthingBenchResult['loopbackCheck'] = null
  try {
    const v = syncthingVersion()
    if ('skipped' in v) {
      syncthing = v
    } else {
      loopbackCheck = { samples: 0, socketsSeen: 0, foreignPeers: [] }
      try {
        syncthing = await syncthingSide(list, keys, reps, v.version, loopbackCheck, log)
      } catch (err: any) {
        syncthing = { skipped: `syncthing failed: ${String(err?.message ?? err).split('\n')[0]}` }
      }
    }
    if ('skipped' in syncthing) log(`skipped: ${syncthing.skipped}`)
    try {
      spamsync = await spamsyncSide(list, keys, reps, log)
    } catch (err: any) {
      spamsync = { skipped: `spamsync failed: ${String(err?.message ?? err).split('\n')[0]}` }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', cleanupSync)
  }
  const result: SyncthingBenchResult = {
    bench: 'syncthing',
    node: process.version,
    cpus: availableParallelism(),
    list: listName,
    listSource: source,
    domains: domains.length,
    listBytes: Buffer.byteLength(list),
    reps,
    pollMs: POLL_MS,
    loadAvg: { start: round(loadStart), end: round(loadavg()[0]) },
    wallMs: Math.round(performance.now() - t0),
    syncthing,
    spamsync,
    loopbackCheck
  }
  if (print) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n\n')
    process.stdout.write(comparisonTable(result) + '\n')
  }
  return result
}

function parseArgs (argv: string[]): SyncthingBenchOptions {
  const o: SyncthingBenchOptions = {}
  for (const arg of argv) {
    const [k, v = ''] = arg.replace(/^--/, '').split('=')
    if (k === 'reps' && Number.isInteger(Number(v)) && Number(v) > 0) o.reps = Number(v)
    else if (k === 'list' && (LIST_NAMES as readonly string[]).includes(v)) o.list = v as ListName
    else throw new Error(`unknown or bad option ${arg} (--reps=N, --list=${LIST_NAMES.join('|')})`)
  }
  return o
}

/** What --help prints. */
const USAGE = `usage: node dist/bench/syncthing.js [--reps=N] [--list=${LIST_NAMES.join('|')}]
  3 syncthing instances and 3 spamsync agents on 127.0.0.1, the same list, one-line changes timed side by side`

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (runAsScript && process.argv.includes('--help')) {
  process.stdout.write(USAGE + '\n')
} else if (runAsScript) {
  main(parseArgs(process.argv.slice(2))).catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
