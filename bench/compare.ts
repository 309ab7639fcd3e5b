/**
 * Side by side medians of two sets of benchmark runs (scripts/bench-compare.sh makes them): each
 * run is the bench/results.json of `node dist/bench/run.js --quick --only=local,cluster` plus the
 * whole run's wall and CPU seconds. For every figure it prints the median over the base runs, the
 * median over the head runs and head / base, so a regression shows as a ratio above 1.
 *
 * Run: `node dist/bench/compare.js --base A1.json A2.json ... --head B1.json B2.json ...`, where a
 * run's times are in A1.json.time (one line: `wall_s cpu_s`, as /usr/bin/time -f '%e %U %S' writes
 * it, cpu the sum of the last two) when that file exists.
 */
import { existsSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/** One run's figures by name; a figure the run lacks is absent. */
export type Figures = Map<string, number>

/** Median of the values, NaN for none. */
export function median (xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** The figures compared, read from one results.json (the shape bench/run.ts writes). */
export function figuresOf (results: any): Figures {
  const f: Figures = new Map()
  const put = (name: string, v: unknown): void => { if (typeof v === 'number' && Number.isFinite(v)) f.set(name, v) }
  for (const [name, m] of Object.entries<any>(results.local?.measures ?? {})) {
    put(`local ${name} ms`, m.medianMs)
    put(`local ${name} cpu ms`, m.cpuMedianMs)
  }
  const c = results.cluster
  for (const p of c?.propagation ?? []) {
    put(`cluster propagation p50 (${p.nodes} nodes) ms`, p.samples?.p50)
    put(`cluster propagation p95 (${p.nodes} nodes) ms`, p.samples?.p95)
  }
  for (const b of c?.bytes ?? []) {
    put(`cluster [${b.list}] bytes/receiver, all sent`, b.totalSentPerReceiver)
    put(`cluster [${b.list}] bytes/receiver, master sent`, b.masterSentPerReceiver)
    put(`cluster [${b.list}] initial convergence ms`, b.convergeMs)
    put(`cluster [${b.list}] one-line change on all ms`, b.changeMs)
  }
  const fo = c?.failover
  put('cluster failover elected p50 ms', fo?.elected?.p50)
  put('cluster failover change on survivors p50 ms', fo?.changeOnSurvivors?.p50)
  put('cluster failover restart -> stable p50 ms', fo?.rejoin?.p50)
  return f
}

/** A run's figures: its results.json, and its wall and CPU seconds when `<file>.time` exists. */
function readRun (path: string): Figures {
  const f = figuresOf(JSON.parse(readFileSync(path, 'utf8')))
  if (existsSync(`${path}.time`)) {
    const [wall, user, sys] = readFileSync(`${path}.time`, 'utf8').trim().split(/\s+/).map(Number)
    f.set('whole run wall s', wall)
    f.set('whole run cpu s (user+sys, agents included)', user + sys)
  }
  return f
}

/** Rows: figure, base median, head median, head / base, for every figure either side has. */
export function compareRows (base: Figures[], head: Figures[]): string[][] {
  const names: string[] = []
  for (const f of [...base, ...head]) for (const k of f.keys()) if (!names.includes(k)) names.push(k)
  const fmt = (x: number): string => Number.isNaN(x) ? '-' : String(Math.round(x * 10) / 10)
  return names.map(name => {
    const a = median(base.flatMap(f => f.has(name) ? [f.get(name) as number] : []))
    const b = median(head.flatMap(f => f.has(name) ? [f.get(name) as number] : []))
    return [name, fmt(a), fmt(b), a > 0 && !Number.isNaN(b) ? (b / a).toFixed(2) : '-']
  })
}

/** The rows as an aligned table under a header line. */
export function compareTable (base: Figures[], head: Figures[]): string {
  const head_ = ['figure', `base (median of ${base.length})`, `head (median of ${head.length})`, 'head/base']
  const rows = compareRows(base, head)
  const widths = head_.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ')
  return [line(head_), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

/** `--base FILES... --head FILES...` to the two lists; throws on anything else. */
export function parseCompareArgs (argv: string[]): { base: string[], head: string[] } {
  const out: { base: string[], head: string[] } = { base: [], head: [] }
  let side: 'base' | 'head' | null = null
  for (const arg of argv) {
    if (arg === '--base' || arg === '--head') side = arg === '--base' ? 'base' : 'head'
    else if (side === null) throw new Error(`usage: compare.js --base FILES... --head FILES... (got ${arg} first)`)
    else out[side].push(arg)
  }
  if (out.base.length === 0 || out.head.length === 0) throw new Error('usage: compare.js --base FILES... --head FILES... (both sides need a file)')
  return out
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { base, head } = parseCompareArgs(process.argv.slice(2))
    process.stdout.write(compareTable(base.map(readRun), head.map(readRun)) + '\n')
  } catch (err: any) {
    process.stderr.write(`${err?.message ?? err}\n`)
    process.exitCode = 2
  }
}
