/**
 * How long the list-replica path holds the event loop in one piece (issue 17): while it is held
 * the node sends no election beacon, and past the liveness window (3 s) the slaves elect a new
 * master mid-sync. In process, on a fresh store, for the 121,570-line blacklist and 1,000,000
 * generated lines (bench/lists.ts), three steps are timed:
 * - `scan`: the first scan of the list file dropped into the settings folder (SettingsFolder.scan:
 *   parse, stamp, encode, write), as on the node the operator dropped it on;
 * - `merge`: a full archive of the list merged into the empty replica (applyArchive), as a slave
 *   applies an initial sync (the archive is read before the step);
 * - `merge-held`: the same entries restamped later merged into the replica holding them, as a
 *   master merges an upload that changes every entry (the general bucketwise merge).
 * A 5 ms interval timer runs meanwhile; the longest gap between its ticks less 5 ms is the
 * longest block. Wall and CPU time of each step say what the turns cost. Each run is a child
 * process of its own; medians are printed.
 * Run: `npx tsc -p . && npx node dist/bench/scan-block.js [--lists=121k,1M] [--runs=3]`.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { StateStore } from '../src/store/state-store.js'
import { ListReplica } from '../src/replica/list-replica.js'
import { SettingsFolder } from '../src/replica/settings-folder.js'
import { applyArchive } from '../src/sync/archive-apply.js'
import { buildSettingsArchive, readSettingsArchive } from '../src/sync/settings-archive.js'
import { EntryColumns } from '../src/crdt/entry-columns.js'
import { parseListFile } from '../src/settings/list-file.js'
import { benchList, type ListName } from './lists.js'

const WALL_MS = 1_700_000_000_000
const STEPS = ['scan', 'merge', 'merge-held'] as const
type Step = typeof STEPS[number]
/** Period of the timer whose late ticks are the blocks. */
const TICK_MS = 5

/** One step's figures, ms. */
interface StepSample { blockMs: number, wallMs: number, cpuMs: number }
type RunSample = Record<Step, StepSample>

/** A full archive of `keys`, every entry present, stamped at `wallMs`, as a master would serve it. */
async function fullArchive (keys: readonly string[], wallMs: number): Promise<Uint8Array> {
  const cols = new EntryColumns()
  let i = 0
  for (const key of keys) cols.push(key, '', true, wallMs, i++, 0)
  cols.nodeIds.push('12D3KooWMasterNodeIdOfTheBenchxxxxxxxxxxxxxxxxxxxxx')
  return buildSettingsArchive({ kind: 'full', origin: 'm', base: null, version: { term: 1, seq: 1 } }, new Map([['blacklist', cols]]))
}

/** Runs `fn` with the interval timer going: its longest block, wall and CPU time. */
async function measured (fn: () => Promise<unknown>): Promise<StepSample> {
  let last = performance.now()
  let longest = 0
  const timer = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last - TICK_MS)
    last = now
  }, TICK_MS)
  const t = performance.now()
  const c = process.cpuUsage()
  try {
    await fn()
  } finally {
    clearInterval(timer)
  }
  const wallMs = performance.now() - t
  const used = process.cpuUsage(c)
  // The tail after the last tick is a block too.
  return { blockMs: Math.max(longest, performance.now() - last - TICK_MS), wallMs, cpuMs: (used.user + used.system) / 1000 }
}

/** One run of the three steps on `name`, in this process. */
async function runOnce (name: ListName): Promise<RunSample> {
  const { domains } = await benchList(name)
  const text = domains.join('\n') + '\n'
  const keys = [...parseListFile(text, 'blacklist.txt').entries.keys()]
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-bench-block-'))
  try {
    const out: Partial<RunSample> = {}
    {
      const store = await StateStore.open(join(dir, 'scan'))
      const replica = await ListReplica.load(store, 'master', () => WALL_MS, 60_000)
      const folder = new SettingsFolder(join(dir, 'scan-settings'), replica)
      await mkdir(folder.dir)
      await writeFile(folder.path('blacklist'), text)
      out.scan = await measured(async () => await folder.scan())
      await store.close()
    }
    const store = await StateStore.open(join(dir, 'merge'))
    try {
      const replica = await ListReplica.load(store, 'slave', () => WALL_MS + 10_000, 60_000)
      const initial = readSettingsArchive(await fullArchive(keys, WALL_MS))
      out.merge = await measured(async () => await applyArchive(initial, { replica }, { synced: true }))
      const later = readSettingsArchive(await fullArchive(keys, WALL_MS + 1000))
      out['merge-held'] = await measured(async () => await applyArchive(later, { replica }, { synced: true }))
    } finally {
      await store.close()
    }
    return out as RunSample
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2)
}

async function main (argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const child = arg('child')
  if (child !== undefined) {
    process.stdout.write(JSON.stringify(await runOnce(child as ListName)) + '\n')
    return
  }
  const lists = (arg('lists') ?? '121k,1M').split(',') as ListName[]
  const runs = Number(arg('runs') ?? 3)
  const rows = [['list', 'step', 'runs', 'longest block ms', 'wall ms', 'CPU ms', 'load']]
  for (const list of lists) {
    const samples: RunSample[] = []
    const l0 = loadavg()[0]
    for (let i = 0; i < runs; i++) {
      // As `spamsync start` runs the agent (bin/spamsync.js).
      const out = execFileSync(process.execPath, ['--optimize-for-size', fileURLToPath(import.meta.url), `--child=${list}`],
        { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, MALLOC_ARENA_MAX: '2' } })
      samples.push(JSON.parse(out) as RunSample)
      process.stderr.write(`[scan-block] ${list} run ${i + 1}: ${out}`)
    }
    const load = `${l0.toFixed(1)}-${loadavg()[0].toFixed(1)}`
    for (const step of STEPS) {
      const med = (f: (s: StepSample) => number): string => String(median(samples.map(s => f(s[step]))))
      rows.push([list, step, String(runs), med(s => s.blockMs), med(s => s.wallMs), med(s => s.cpuMs), load])
    }
  }
  process.stdout.write(rows.map(r => r.join(' | ')).join('\n') + '\n')
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2))
