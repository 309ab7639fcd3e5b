/**
 * The in-process steps of an initial sync, without the network, so where its time and memory go
 * can be seen apart from elections and polling (bench/initial.ts times the whole thing): on a
 * fresh store, a full archive of the list (bench/lists.ts, every entry present) is read
 * (unzip and decode), merged into the empty replica as a slave applies it, the settings file
 * (empty and scanned before, as an agent started on it) is written, the version snapshot is
 * made (the list as a deflated list file: ListReplica.deflated, which keeps the bytes received),
 * and a full archive is built again (what a master serves; its encoding is shared with the
 * snapshot's when that one was encoded). Each size runs in a child process of its own,
 * `--runs` times, so each peak RSS (VmHWM) is that of one apply; medians are printed.
 * Run: `npx tsc -p . && npx node dist/bench/initial-apply.js [--lists=121k,1M] [--runs=3]`.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { StateStore } from '../src/store/state-store.js'
import { ListReplica } from '../src/replica/list-replica.js'
import { SettingsFolder } from '../src/replica/settings-folder.js'
import { applyArchive } from '../src/sync/archive-apply.js'
import { buildArchive } from '../src/sync/archive-build.js'
import { buildSettingsArchive, readSettingsArchive } from '../src/sync/settings-archive.js'
import { EntryColumns } from '../src/crdt/entry-columns.js'
import { parseListFile } from '../src/settings/list-file.js'
import { benchList, type ListName } from './lists.js'

const WALL_MS = 1_700_000_000_000
const STEPS = ['read', 'merge', 'write', 'snapshot', 'build'] as const

/** One apply's figures: ms per step, peak and final RSS in MB. */
interface ApplySample {
  ms: Record<typeof STEPS[number], number>
  cpuMs: Record<typeof STEPS[number], number>
  peakMB: number
  rssMB: number
}

async function vmKb (field: string): Promise<number> {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(await readFile('/proc/self/status', 'utf8'))
  return m === null ? 0 : Number(m[1])
}

/** A full archive of the named list, every entry present, as a master would serve it. */
async function fullArchive (name: ListName): Promise<Uint8Array> {
  const { domains } = await benchList(name)
  const cols = new EntryColumns()
  let i = 0
  // Keys as a scan makes them (normalised, each once).
  for (const key of parseListFile(domains.join('\n') + '\n', 'blacklist.txt').entries.keys()) cols.push(key, '', true, WALL_MS, i++, 0)
  cols.nodeIds.push('12D3KooWMasterNodeIdOfTheBenchxxxxxxxxxxxxxxxxxxxxx')
  return buildSettingsArchive({ kind: 'full', origin: 'm', base: null, version: { term: 1, seq: 1 } }, new Map([['blacklist', cols]]))
}

/** One apply of the archive in `zipPath` in this process. */
async function applyOnce (zipPath: string): Promise<ApplySample> {
  const zip = await readFile(zipPath)
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-bench-apply-'))
  const store = await StateStore.open(dir)
  try {
    const replica = await ListReplica.load(store, 'slave', () => WALL_MS, 60_000)
    // As an agent started on an empty blacklist.txt: scanned, its view recorded.
    const folder = new SettingsFolder(join(dir, 'settings'), replica)
    await mkdir(folder.dir)
    await writeFile(folder.path('blacklist'), '')
    await folder.scan()
    const ms = { read: 0, merge: 0, write: 0, snapshot: 0, build: 0 }
    const cpuMs = { read: 0, merge: 0, write: 0, snapshot: 0, build: 0 }
    // Wall and CPU time of each step: on a shared machine the CPU time says more.
    const step = async <T>(name: typeof STEPS[number], fn: () => Promise<T> | T): Promise<T> => {
      const t = performance.now()
      const c = process.cpuUsage()
      const out = await fn()
      ms[name] = performance.now() - t
      const used = process.cpuUsage(c)
      cpuMs[name] = (used.user + used.system) / 1000
      return out
    }
    const archive = await step('read', () => readSettingsArchive(zip))
    await step('merge', async () => await applyArchive(archive, { replica }, { synced: true }))
    await step('write', async () => await folder.write('blacklist'))
    await step('snapshot', async () => await replica.deflated('blacklist'))
    await step('build', async () => await buildArchive({ kind: 'full', origin: 's', base: null, version: null }, replica, { lists: { kind: 'all' }, bayes: null }))
    return { ms, cpuMs, peakMB: await vmKb('VmHWM') / 1024, rssMB: await vmKb('VmRSS') / 1024 }
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round((s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) * 10) / 10
}

async function main (argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const child = arg('child')
  if (child !== undefined) {
    process.stdout.write(JSON.stringify(await applyOnce(child)) + '\n')
    return
  }
  const lists = (arg('lists') ?? '121k,1M').split(',') as ListName[]
  const runs = Number(arg('runs') ?? 3)
  const rows = [['list', 'runs', ...STEPS.map(s => `${s} ms (CPU ms)`), 'peak RSS MB', 'RSS after MB', 'load']]
  for (const list of lists) {
    const samples: ApplySample[] = []
    const zipDir = await mkdtemp(join(tmpdir(), 'spamsync-bench-apply-zip-'))
    const zipPath = join(zipDir, `${list}.zip`)
    await writeFile(zipPath, await fullArchive(list))
    const l0 = loadavg()[0]
    try {
      for (let i = 0; i < runs; i++) {
        // Run as `spamsync start` runs the agent (bin/spamsync.js), so the peak is the agent's.
        const out = execFileSync(process.execPath, ['--optimize-for-size', fileURLToPath(import.meta.url), `--child=${zipPath}`],
          { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '8192' } })
        samples.push(JSON.parse(out) as ApplySample)
        process.stderr.write(`[initial-apply] ${list} run ${i + 1}: ${out}`)
      }
    } finally {
      await rm(zipDir, { recursive: true, force: true })
    }
    rows.push([list, String(runs), ...STEPS.map(s => `${median(samples.map(x => x.ms[s]))} (${median(samples.map(x => x.cpuMs[s]))})`), String(median(samples.map(x => x.peakMB))),
      String(median(samples.map(x => x.rssMB))), `${l0.toFixed(1)}-${loadavg()[0].toFixed(1)}`])
  }
  process.stdout.write(rows.map(r => r.join(' | ')).join('\n') + '\n')
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2))
