/**
 * Benchmark of tombstone collection (protocol/sync-v1.md, "Tombstones"): a blacklist whose live
 * set stays at `live` keys while every round deletes its older half and adds as many keys, a
 * window sliding over a pool of 10 x `live` keys, so each key is added and deleted again and
 * again (an auto-whitelist's churn). After `rounds` rounds (rounds x live / 2 adds and as many
 * deletes) it measures, on the master and on a slave:
 * the entries held (present and tombstones), the store on disk (after a compaction, so LevelDB's
 * lag does not count), the full archive, and the RSS and heap of a
 * process that holds both nodes.
 *
 * Three variants, each in its own process so RSS is its own: `live` (a fresh cluster given the
 * live set once: the target), `churn` (collection on) and `churn-kept` (tombstones kept forever,
 * as before collection). The nodes are real sync engines, stores and settings folders in one
 * process, on the in-process network of the tests (test/helpers/fake-cluster.ts).
 * Run: `npx tsc -p . && npx node dist/bench/churn.js [--quick] [--history-floor-bytes=N]` (or `npm run bench -- --only=churn`).
 */
import { spawn } from 'node:child_process'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { TestContext } from 'node:test'
import { Level } from 'level'
import { FakeCluster, type FakeNode } from '../test/helpers/fake-cluster.js'
import { ZERO_VERSION } from '../src/version.js'
import { DEFAULT_HISTORY_BOUND, type HistoryBound } from '../src/sync/history-bound.js'

/** Sizes of a full and a `--quick` run: the full one is 1M adds and 1M deletes. */
export const CHURN_PLANS = {
  full: { live: 10_000, rounds: 200 },
  quick: { live: 1_000, rounds: 40 }
}

/** Keys in the pool, per live key. */
const POOL_PER_LIVE = 10

const VARIANTS = ['live', 'churn', 'churn-kept'] as const
type Variant = typeof VARIANTS[number]

/** Collection as the bench runs it: a short grace, so the last round is collected within the run. */
const GRACE_MS = 1000

/** What one node holds at the end. */
interface NodeMeasure {
  present: number
  tombstones: number
  /** Bytes of the store's folder after a full compaction. */
  storeBytes: number
  /** Bytes of keys and values by what they hold (state-store.ts's key layout): where the store's bytes are. */
  bytesByKind: Record<string, number>
}

/** One variant's numbers. */
export interface VariantResult {
  variant: Variant
  adds: number
  deletes: number
  seconds: number
  master: NodeMeasure
  slave: NodeMeasure
  /** The master's full archive (what a new node fetches). */
  fullArchiveBytes: number
  /** The process holding both nodes, after a full GC. */
  rssMB: number
  heapUsedMB: number
  /** V8 heap pages held, and memory of Buffers and ArrayBuffers outside it: what of the RSS is not live JS objects. */
  heapTotalMB: number
  externalMB: number
  /** The RSS split as /proc/self/status gives it: anonymous (heap, malloc) and file-backed (the node binary, libraries). */
  rssAnonMB: number
  rssFileMB: number
  /** V8's heap by space, used and held: which kind of object the heap of the churned node holds more of. */
  heapSpaces: Record<string, { usedMB: number, heldMB: number }>
}

/** The whole benchmark's result. */
export interface ChurnResult {
  live: number
  rounds: number
  loadBefore: number[]
  loadAfter: number[]
  variants: VariantResult[]
}

const mb = (n: number): number => Math.round(n / 1024 / 1024 * 10) / 10

/** RssAnon and RssFile of this process, in MB (Linux; 0 where /proc is not there). */
async function rssByKind (): Promise<{ rssAnonMB: number, rssFileMB: number }> {
  const status = await readFile('/proc/self/status', 'utf8').catch((err: unknown) => { process.stderr.write(`churn: no /proc/self/status: ${String(err)}\n`); return '' })
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
  return { rssAnonMB: mb(kb('RssAnon') * 1024), rssFileMB: mb(kb('RssFile') * 1024) }
}

function fullGc (): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
}

async function folderBytes (dir: string): Promise<number> {
  let n = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    n += e.isDirectory() ? await folderBytes(p) : (await stat(p)).size
  }
  return n
}

/** The pool's key `i` (a domain). */
const key = (i: number): string => `churn-${i}.example`

/** The blacklist of round `r`: `live` keys of the pool from r x live / 2 on (wrapping). */
function roundText (live: number, r: number): string {
  const lines: string[] = []
  const pool = live * POOL_PER_LIVE
  for (let i = 0; i < live; i++) lines.push(key((r * (live / 2) + i) % pool))
  return lines.join('\n') + '\n'
}

function held (node: FakeNode): { present: number, tombstones: number } {
  let present = 0
  let tombstones = 0
  for (const e of node.state.replica.entries('blacklist')) {
    if (e.present) present++
    else tombstones++
  }
  return { present, tombstones }
}

/** What a store key holds, by its prefix (state-store.ts; binary values live under `!x!`). */
function storeKind (key: string): string {
  if (key.startsWith('!x!')) return key.includes('history!') ? 'history snapshots' : key.includes('fileview!') ? 'file views' : 'other blobs'
  return ({ e: 'entries', v: 'version records', m: 'meta' } as Record<string, string>)[key[0]] ?? 'other'
}

/** The store of a closed node, compacted, by kind of key. */
async function measureStore (node: FakeNode, dataDir: string, counts: { present: number, tombstones: number }): Promise<NodeMeasure> {
  const dir = join(dataDir, 'state')
  const db = new Level<string, string>(dir)
  await db.open()
  // On Node, Level is classic-level's LevelDB, which can compact (its type does not say so).
  await (db as unknown as { compactRange: (start: string, end: string) => Promise<void> }).compactRange('\x00', '\xff\xff\xff')
  const bytesByKind: Record<string, number> = {}
  for await (const [k, v] of db.iterator<string, Uint8Array>({ valueEncoding: 'view' })) {
    const kind = storeKind(k)
    bytesByKind[kind] = (bytesByKind[kind] ?? 0) + k.length + v.byteLength
  }
  await db.close()
  return { ...counts, storeBytes: await folderBytes(dir), bytesByKind }
}

/** Collection on: master and slave hear the floor and drop what is below it. */
async function collect (c: FakeCluster, master: FakeNode, slave: FakeNode): Promise<void> {
  master.engine.tick()
  await master.engine.drain()
  c.network.heartbeat()
  slave.engine.tick()
  await c.settle()
}

/** `--history-floor-bytes=N`: the history's byte floor (historyFloorBytes), to see the store with another than the default. */
function historyBoundArg (): HistoryBound | undefined {
  const floor = arg('history-floor-bytes')
  return floor === undefined ? undefined : { ...DEFAULT_HISTORY_BOUND, floorBytes: Number(floor) }
}

/** Runs one variant in this process. */
async function runVariant (variant: Variant, live: number, rounds: number): Promise<VariantResult> {
  const cleanups: Array<() => Promise<void>> = []
  const t = { after: (fn: () => Promise<void>) => { cleanups.push(fn) } } as unknown as TestContext
  const kept = variant === 'churn-kept'
  const c = await FakeCluster.open(t, ['master', 'slave'], { historyBound: historyBoundArg(), tombstones: { graceMs: kept ? 10 * 365 * 86400_000 : GRACE_MS, intervalMs: GRACE_MS } })
  try {
    await c.elect('master', 1)
    await c.settle()
    const master = c.node('master')
    const slave = c.node('slave')
    const started = performance.now()
    const n = variant === 'live' ? 1 : rounds + 1
    for (let r = 0; r < n; r++) {
      await c.edit(master, 'blacklist.txt', roundText(live, r))
      await c.settle()
      await collect(c, master, slave)
    }
    // The last round's deletes are collected once the grace has passed.
    await new Promise(resolve => setTimeout(resolve, GRACE_MS * 2 + 100))
    await collect(c, master, slave)
    await new Promise(resolve => setTimeout(resolve, GRACE_MS + 100))
    await collect(c, master, slave)
    const seconds = Math.round((performance.now() - started) / 100) / 10
    const served = await master.engine.serveFetch(ZERO_VERSION, { nodeId: 'bench', fanOut: false })
    const fullArchiveBytes = served.zip?.byteLength ?? 0
    served.release?.()
    fullGc()
    const mem = process.memoryUsage()
    const rssParts = await rssByKind()
    const heapSpaces = Object.fromEntries(getHeapSpaceStatistics().map(sp => [sp.space_name, { usedMB: mb(sp.space_used_size), heldMB: mb(sp.space_size) }]))
    const counts = { master: held(master), slave: held(slave) }
    const dirs = { master: join(master.settingsDir, '..', 'data'), slave: join(slave.settingsDir, '..', 'data') }
    await master.state.close()
    await slave.state.close()
    return {
      variant,
      adds: live + (n - 1) * live / 2,
      deletes: (n - 1) * live / 2,
      seconds,
      master: await measureStore(master, dirs.master, counts.master),
      slave: await measureStore(slave, dirs.slave, counts.slave),
      fullArchiveBytes,
      rssMB: mb(mem.rss),
      heapUsedMB: mb(mem.heapUsed),
      heapTotalMB: mb(mem.heapTotal),
      externalMB: mb(mem.external),
      ...rssParts,
      heapSpaces
    }
  } finally {
    for (const fn of cleanups) {
      try {
        await fn()
      } catch (err: any) {
        process.stderr.write(`churn: cleanup of ${variant} failed: ${err?.message ?? err}\n`)
      }
    }
  }
}

/** Runs `variant` in a child process of its own and returns what it printed. */
async function inChild (variant: Variant, live: number, rounds: number): Promise<VariantResult> {
  const self = fileURLToPath(import.meta.url)
  // With glibc and V8 set as `spamsync start` sets them (bin/spamsync.js), so the RSS is an
  // agent's: without --optimize-for-size V8 kept 141 MB of heap pages for 11 MB of live objects.
  const env = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '8192', ...process.env }
  const floor = process.argv.filter(a => a.startsWith('--history-floor-bytes='))
  const child = spawn(process.execPath, ['--optimize-for-size', '--no-turbofan', self, `--variant=${variant}`, `--live=${live}`, `--rounds=${rounds}`, ...floor], { stdio: ['ignore', 'pipe', 'inherit'], env })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  if (code !== 0) throw new Error(`churn variant ${variant} exited with ${code}`)
  return JSON.parse(out) as VariantResult
}

function table (r: ChurnResult): string {
  const rows = [['variant', 'adds', 'deletes', 'node', 'present', 'tombstones', 'store (KB)', 'full archive (KB)', 'RSS / heap used / heap held / external (MB)', 'time (s)', 'store by kind (KB, uncompressed)']]
  for (const v of r.variants) {
    for (const [name, m] of [['master', v.master], ['slave', v.slave]] as const) {
      rows.push([v.variant, String(v.adds), String(v.deletes), name, String(m.present), String(m.tombstones), String(Math.round(m.storeBytes / 1024)),
        name === 'master' ? String(Math.round(v.fullArchiveBytes / 1024)) : '', name === 'master' ? `${v.rssMB} / ${v.heapUsedMB} / ${v.heapTotalMB} / ${v.externalMB}` : '', name === 'master' ? String(v.seconds) : '',
        Object.entries(m.bytesByKind).map(([kind, n]) => `${kind} ${Math.round(n / 1024)}`).join(', ')])
    }
  }
  return rows.map(row => row.join(' | ')).join('\n')
}

/** Runs every variant (each in its own process), prints JSON and a table, and returns the result. */
export async function main (opts: { quick?: boolean } = {}): Promise<ChurnResult> {
  const { live, rounds } = opts.quick === true ? CHURN_PLANS.quick : CHURN_PLANS.full
  const loadBefore = loadavg()
  const variants: VariantResult[] = []
  for (const v of VARIANTS) {
    process.stderr.write(`churn: ${v}, ${live} live keys, ${v === 'live' ? 1 : rounds} rounds\n`)
    variants.push(await inChild(v, live, rounds))
  }
  const result: ChurnResult = { live, rounds, loadBefore, loadAfter: loadavg(), variants }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n' + table(result) + '\n')
  return result
}

const arg = (name: string): string | undefined => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const variant = arg('variant') as Variant | undefined
  const work = variant === undefined
    ? main({ quick: process.argv.includes('--quick') }).then(() => undefined)
    : runVariant(variant, Number(arg('live')), Number(arg('rounds'))).then((r) => { process.stdout.write(JSON.stringify(r)) })
  work.catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
