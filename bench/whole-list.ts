/**
 * Whole-list reads of a held list in key order, in process, and what sets them up: the merge of a
 * full archive's entries into an empty replica (an initial sync), the store's reload (an agent's
 * start), then `--reps` times each read: `columns` (every entry decoded as columns, one run per
 * bucket: what the two reads after it start with), `render` (the present entries in key order, as a
 * receiver renders a new settings file: ListReplica.presentInKeyOrder) and `archive` (every entry
 * encoded as an archive's list file, what the master's version snapshot and a full archive
 * encode: encodeColumns of ListReplica.columns, without the replica's cache of it). Both go
 * through keyOrder, which merged one sorted run per store bucket (256 buckets by key hash up to
 * store format 6) and joins key-range buckets (format 7) without a merge.
 * Prints one JSON object (medians, samples, load) and a line of medians. Run with the agents' V8
 * flags to see what they pay: `npx node --no-turbofan --optimize-for-size dist/bench/whole-list.js [--lines=1000000] [--reps=5]`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { StateStore } from '../src/store/state-store.js'
import { ListReplica } from '../src/replica/list-replica.js'
import { encodeColumns } from '../src/archive/list-codec.js'
import type { Entry } from '../src/crdt/lww-set.js'
import { syntheticDomains } from './lists.js'
import { median } from './local/harness.js'

const DS = 'blacklist'
const WALL_MS = 1_700_000_000_000

/** CPU time (user + system, all threads) of the timed steps, by name, in ms. */
const cpu: Record<string, number[]> = {}

async function timed (fn: () => unknown, name = ''): Promise<number> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await fn()
  const c = process.cpuUsage(c0);
  (cpu[name] ??= []).push(Math.round((c.user + c.system) / 100) / 10)
  return Math.round((performance.now() - t0) * 10) / 10
}

export async function main (lines: number, reps: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-bench-whole-list-'))
  const loadStart = loadavg()[0]
  try {
    const entries: Entry[] = syntheticDomains(lines).sort().map(key => ({ key, value: '', present: true, stamp: { wallMs: WALL_MS - 1000, counter: 0, nodeId: 'bench-master' } }))
    let store = await StateStore.open(dir)
    let replica = await ListReplica.load(store, 'bench-node', () => WALL_MS, 300_000)
    const merge = await timed(async () => await replica.merge(DS, entries, { synced: true }), 'merge')
    entries.length = 0
    await store.close()
    const reload = await timed(async () => {
      store = await StateStore.open(dir)
      replica = await ListReplica.load(store, 'bench-node', () => WALL_MS, 300_000)
    })
    const columns: number[] = []
    const render: number[] = []
    const archive: number[] = []
    for (let i = 0; i < reps; i++) {
      columns.push(await timed(async () => await replica.columns(DS), 'columns'))
      render.push(await timed(() => replica.presentInKeyOrder(DS), 'render'))
      archive.push(await timed(async () => encodeColumns(await replica.columns(DS)), 'archive'))
    }
    await store.close()
    const load = { start: Math.round(loadStart * 100) / 100, end: Math.round(loadavg()[0] * 100) / 100 }
    const result = { bench: 'whole-list', node: process.version, execArgv: process.execArgv, lines, reps, load, mergeMs: merge, reloadMs: reload, columns: { medianMs: median(columns), samplesMs: columns }, render: { medianMs: median(render), samplesMs: render }, archive: { medianMs: median(archive), samplesMs: archive }, cpuMs: cpu }
    process.stdout.write(JSON.stringify(result) + '\n')
    const cpuOf = (name: string): number => median(cpu[name] ?? [])
    process.stdout.write(`lines ${lines}: merge into empty ${merge} ms, reload ${reload} ms; medians (CPU): columns ${median(columns)} (${cpuOf('columns')}), render ${median(render)} (${cpuOf('render')}), archive ${median(archive)} (${cpuOf('archive')}) ms; load ${load.start} -> ${load.end}\n`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function arg (name: string): string | undefined {
  return process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(Number(arg('lines') ?? 1_000_000), Number(arg('reps') ?? 5))
}
