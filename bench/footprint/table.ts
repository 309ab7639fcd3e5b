/** The figures of bench/footprint.ts and their table (its console output and RESULTS.md). */

/** The targets of issue 17 (MB of VmRSS). */
export const FOOTPRINT_TARGETS = { empty: 64, '121k': 80 }

/** The settings an agent starts with. */
export type FootprintCase = keyof typeof FOOTPRINT_TARGETS

/** Options of a run; every one has a default. */
export interface FootprintOptions {
  /** Agents started per case, one after the other. */
  runs?: number
  /** Seconds an agent idles (master, settings loaded) before it is measured. */
  idleSeconds?: number
  cases?: FootprintCase[]
  /** The CLI script that runs the agent (default bin/spamsync.js). */
  cli?: string
  /** Options of node itself for the agents (V8 flags to try). */
  nodeArgs?: string[]
  /** The list put into the settings folder once the agent is master, not before it starts. */
  drop?: boolean
}

/** One agent's figures, in MB (startMs in ms). */
export interface FootprintSample {
  rss: number
  peak: number
  anon: number
  file: number
  heapTotal: number
  heapUsed: number
  /** Of heapUsed, what a full GC kept. */
  heapLive: number
  external: number
  /** RssAnon less the live JS (heap used and external): the heap's free pages, malloc, V8's own tables, thread stacks. */
  otherAnon: number
  /** From spawn until its status answered and it was master with its settings loaded. */
  startMs: number
  /** CPU seconds the agent used until measured: its start, the scan of its settings, the idle time. */
  cpuSeconds: number
}

/** The medians of a case, and its samples' RSS. */
export interface FootprintCaseResult {
  case: FootprintCase
  targetMB: number
  median: FootprintSample
  rssSamples: number[]
}

export interface FootprintResult {
  bench: 'footprint'
  node: string
  cli: string
  nodeArgs: string[]
  /** The list was dropped in once the agent was master. */
  drop: boolean
  runs: number
  idleSeconds: number
  loadAvg: { start: number, end: number }
  /** A bare `node -e` process's VmRSS after the same idle time, MB (median). */
  bareNodeRss: number
  cases: FootprintCaseResult[]
}

/** The result as a Markdown table (RESULTS.md and the console). */
export function footprintTable (r: FootprintResult): string {
  const head = ['settings', 'VmRSS', 'target', 'ok', 'peak', 'file-backed', 'anon', 'V8 heap live / used / committed', 'external', 'anon less live JS', 'start', 'CPU', 'RSS samples']
  const rows = r.cases.map(c => {
    const m = c.median
    return [c.case, `${m.rss} MB`, `${c.targetMB} MB`, m.rss <= c.targetMB ? 'yes' : 'NO', `${m.peak} MB`, `${m.file} MB`, `${m.anon} MB`,
      `${m.heapLive} / ${m.heapUsed} / ${m.heapTotal} MB`, `${m.external} MB`, `${m.otherAnon} MB`, `${(m.startMs / 1000).toFixed(1)} s`, `${m.cpuSeconds} s`, c.rssSamples.join(' ')]
  })
  return [
    `Idle agent (alone, master, ${r.idleSeconds} s idle), medians of ${r.runs} runs, ${r.node}, ${r.cli}${r.nodeArgs.length > 0 ? ` with ${r.nodeArgs.join(' ')}` : ''}${r.drop ? ', the list dropped in once master' : ''}; a bare node: ${r.bareNodeRss} MB; load ${r.loadAvg.start.toFixed(2)} -> ${r.loadAvg.end.toFixed(2)}`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map(row => `| ${row.join(' | ')} |`)
  ].join('\n')
}
