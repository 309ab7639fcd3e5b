/**
 * What a one-line change costs one node, in process, on blacklists of 10k and 1M lines: the
 * node-local part of a change's path, without the network, so the 1M / 10k ratio shows what still
 * grows with the list (issue 17: one-line change within 1.5x of the 10k case).
 *
 * - receive: an entry merged as from the master (replica.merge), then written into the settings
 *   file (folder.write: read, check, render, replace, reparse, file view) - every receiving node;
 * - scan: a line appended by the operator, then folder.scan (read, reparse, stamp) - the origin;
 * - rewrite: the origin's write after its scan, which finds the file as it is and writes nothing;
 * - restart: the first received change after the store is reopened (full parse of the file view).
 *
 * Prints one JSON object (medians and every sample, with the load average) and a table.
 * Run: `npx tsc -p . && npx node dist/bench/change.js [--lists=10k,1M] [--reps=9]`.
 * The temp folder is removed, also on error.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { openLocalState, type LocalState } from '../src/local-state.js'
import { benchList, LIST_NAMES, type ListName } from './lists.js'
import { makeNode, median, type NodeDirs } from './local/harness.js'

/** The blacklist's dataset. */
const DS = 'blacklist'

/** Clock skew of the bench's node (any: one node). */
const MAX_SKEW_MS = 300_000

/** The median and samples of one step, in ms. */
interface Step { medianMs: number, samplesMs: number[] }

/** What one list measured. */
interface ListResult {
  list: ListName
  lines: number
  steps: Record<string, Step>
  /** RSS and heap used after the runs (a GC first when --expose-gc), MB. */
  rssMb: number
  heapUsedMb: number
}

function step (samples: number[]): Step {
  const r = (ms: number): number => Math.round(ms * 10) / 10
  return { medianMs: r(median(samples)), samplesMs: samples.map(r) }
}

/** CPU time (user + system, every thread) of the steps so far, per step name, in ms. */
const cpu: Record<string, number[]> = {}

async function time (fn: () => Promise<unknown>, name?: string): Promise<number> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await fn()
  const ms = performance.now() - t0
  if (name !== undefined) {
    const c = process.cpuUsage(c0)
    ;(cpu[name] ??= []).push((c.user + c.system) / 1000)
  }
  return ms
}

async function open (dirs: NodeDirs): Promise<LocalState> {
  return await openLocalState({ ...dirs, maxSkewMs: MAX_SKEW_MS })
}

/** Runs every step `reps` times on a fresh node holding the list `name`. */
async function runList (root: string, name: ListName, reps: number): Promise<ListResult> {
  // The list's million strings are let go once the file is written: held, they were most of the
  // heap this bench reported (115 of 188 MB at 1M) and made V8's collections walk them.
  const { dirs, lines } = await (async () => {
    const { domains } = await benchList(name)
    return { dirs: await makeNode(root, name, domains.join('\n') + '\n'), lines: domains.length }
  })()
  let state = await open(dirs)
  const samples: Record<string, number[]> = { receive: [], receiveMerge: [], receiveWrite: [], scan: [], rewrite: [], restart: [] }
  try {
    await state.folder.scan()
    await state.folder.write(DS)
    let n = 0
    const remote = (): { key: string, value: string, present: boolean, stamp: { wallMs: number, counter: number, nodeId: string } } =>
      ({ key: `received-${n++}.example`, value: '', present: true, stamp: { wallMs: Date.now(), counter: 0, nodeId: 'bench-master' } })
    for (let i = 0; i < reps; i++) {
      const entry = remote()
      const merge = await time(async () => await state.replica.merge(DS, [entry], { synced: true }), `${name}.receiveMerge`)
      const write = await time(async () => await state.folder.write(DS), `${name}.receiveWrite`)
      samples.receiveMerge.push(merge)
      samples.receiveWrite.push(write)
      samples.receive.push(merge + write)
      await appendFile(join(dirs.settingsDir, 'blacklist.txt'), `operator-${i}.example\n`)
      samples.scan.push(await time(async () => await state.folder.scan(), `${name}.scan`))
      samples.rewrite.push(await time(async () => await state.folder.write(DS), `${name}.rewrite`))
    }
    for (let i = 0; i < Math.min(reps, 3); i++) {
      await state.close()
      state = await open(dirs)
      const entry = remote()
      samples.restart.push(await time(async () => {
        await state.replica.merge(DS, [entry], { synced: true })
        await state.folder.write(DS)
      }, `${name}.restart`))
    }
    ;(globalThis as { gc?: () => void }).gc?.()
    const mem = process.memoryUsage()
    const steps: Record<string, Step> = {}
    for (const [k, v] of Object.entries(samples)) steps[k] = step(v)
    return { list: name, lines, steps, rssMb: Math.round(mem.rss / 1e5) / 10, heapUsedMb: Math.round(mem.heapUsed / 1e5) / 10 }
  } finally {
    await state.close()
  }
}

/** Runs the bench and prints JSON and a table. */
export async function main (lists: readonly ListName[], reps: number): Promise<ListResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-bench-change-'))
  const loadStart = loadavg()[0]
  const results: ListResult[] = []
  try {
    for (const name of lists) results.push(await runList(root, name, reps))
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  const load = { start: Math.round(loadStart * 100) / 100, end: Math.round(loadavg()[0] * 100) / 100 }
  process.stdout.write(JSON.stringify({ bench: 'change', node: process.version, reps, load, results, cpuMs: cpu }, null, 2) + '\n')
  const names = Object.keys(results[0]?.steps ?? {})
  process.stdout.write(`\n| list | ${names.join(' | ')} | RSS | heap |\n|${' --- |'.repeat(names.length + 3)}\n`)
  for (const r of results) process.stdout.write(`| ${r.list} | ${names.map(s => `${r.steps[s].medianMs} ms`).join(' | ')} | ${r.rssMb} MB | ${r.heapUsedMb} MB |\n`)
  process.stdout.write(`\nCPU (user + system, all threads) medians: ${Object.entries(cpu).map(([k, v]) => `${k} ${Math.round(median(v))} ms`).join(', ')}\n`)
  process.stdout.write(`\nmedians of ${reps} (restart: of ${Math.min(reps, 3)}), load ${load.start} -> ${load.end}\n`)
  return results
}

function arg (name: string): string | undefined {
  return process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const lists = (arg('lists')?.split(',') ?? ['10k', '1M']) as ListName[]
  for (const l of lists) if (!LIST_NAMES.includes(l)) throw new Error(`unknown list ${l} (${LIST_NAMES.join(', ')})`)
  await main(lists, Number(arg('reps') ?? 9))
}
