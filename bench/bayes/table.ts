/** The Bayes benchmark's result and its rendering as an aligned table. */
import type { DeltaRep } from './delta.js'
import type { E2eResult } from './e2e.js'
import { round } from './measure.js'
import type { MergeResult } from './merge.js'
import { type BayesBenchOptions, TARGETS, rssTargetMB } from './options.js'
import type { ProcessE2eResult } from './processes.js'

/** Everything measured. */
export interface BayesBenchResult {
  bench: 'bayes'
  node: string
  cpus: number
  totalMemMB: number
  heapLimitMB: number
  loadAvg: { start: number, end: number }
  options: Omit<Required<BayesBenchOptions>, 'print'>
  wallSeconds: number
  /** The e2e step with agent processes (phase `processes`). */
  processes: ProcessE2eResult | null
  e2e: E2eResult[]
  /** What went wrong outside the measures (a phase that could not run). */
  problems: string[]
  delta: { settleBeforeRepMs: number[], reps: DeltaRep[], medianMs: number, medianTotalSentPerReceiver: number, medianMasterSentPerReceiver: number } | null
  merge: MergeResult | null
  rss: { overallWorkerPeakMB: number, overallMainThreadPeakMB: number, clusterPeakMB: number | null, perAgentEstimateMB: number | null, perAgentAboveBaselineMB: number | null, note: string }
}
/** The result as an aligned table: measure, number, target, ok. */
// eslint-disable-next-line max-lines-per-function -- one row a measure, in the order the table prints them
export function table (r: BayesBenchResult): string {
  const rows: string[][] = []
  const row = (name: string, value: number | string | null, unit: string, target: string, ok: boolean | null): void => {
    rows.push([name, value === null ? '-' : typeof value === 'number' ? String(round(value, 2)) : value, unit, target, ok === null ? '' : ok ? 'yes' : 'NO'])
  }
  const p = r.processes
  if (p !== null) {
    const tag = 'e2e[processes]'
    row(`${tag} sync until all bayes.txt equal`, p.converged ? p.ms : '-', 'ms', `<= ${TARGETS.e2eMs}`, p.converged && p.ms <= TARGETS.e2eMs)
    row(`${tag}   per node (n0/n1/n2)`, p.perNodeMs.map(x => x ?? '-').join(' / '), 'ms', '', null)
    row(`${tag}   roles`, p.roles.join(' / '), '', '', null)
    row(`${tag}   CPU time per agent during the sync`, p.cpuSeconds.join(' / '), 's', '', null)
    row(`${tag}   election terms at the end`, p.terms.join(' / '), '', '', null)
    const rssMB = rssTargetMB(r.options.tokens)
    const malloc = `MALLOC_ARENA_MAX ${r.options.mallocArenaMax > 0 ? r.options.mallocArenaMax : 'the agent\'s 2'}${r.options.mallocMmapThreshold > 0 ? `, MALLOC_MMAP_THRESHOLD_ ${r.options.mallocMmapThreshold}` : ''}`
    row(`${tag} RSS peak per agent process (VmHWM, ${malloc})`, p.rssPeakMB.join(' / '), 'MB', `<= ${rssMB}`, p.rssPeakMB.every(x => x <= rssMB))
    row(`${tag}   RSS per agent when converged`, p.rssConvergedMB.join(' / '), 'MB', '', null)
    row(`${tag} slave sent bytes/own token (/metrics)`, p.slaveUploadBytesPerToken.join(' / '), 'B', `<= ${TARGETS.wireBytesPerToken}`, p.slaveUploadBytesPerToken.every(x => x <= TARGETS.wireBytesPerToken))
    row(`${tag} slave received bytes/needed token (/metrics)`, p.slaveDownloadBytesPerNeededToken.join(' / '), 'B', `<= ${TARGETS.wireBytesPerToken}`, p.slaveDownloadBytesPerNeededToken.every(x => x <= TARGETS.wireBytesPerToken))
    if (p.restart !== null) {
      row(`${tag} a slave restarted on its DB: RSS once idle`, p.restart.idleMB, 'MB', `<= ${TARGETS.idleRssMB}`, p.restart.idleMB <= TARGETS.idleRssMB)
      row(`${tag}   its peak RSS while loading (VmHWM)`, p.restart.peakMB, 'MB', '', null)
    }
    row(`${tag}   sent / received per node`, p.sentBytes.map((x, i) => `${x}/${p.receivedBytes[i]}`).join('  '), 'B', '', null)
  }
  for (const e of r.e2e) {
    const tag = `e2e[${e.mode}]`
    row(`${tag} sync until all bayes.txt equal`, e.converged ? e.e2eMs : `>${e.e2eMs}`, 'ms', `<= ${TARGETS.e2eMs}`, e.converged && e.e2eMs <= TARGETS.e2eMs)
    if (e.e2eFromMasterMs !== null) row(`${tag} same, from master elected`, e.e2eFromMasterMs, 'ms', `<= ${TARGETS.e2eMs}`, e.converged && e.e2eFromMasterMs <= TARGETS.e2eMs)
    row(`${tag}   per node (n0/n1/n2)`, e.perNodeMs.map(x => x ?? '-').join(' / '), 'ms', '', null)
    row(`${tag}   calls returned`, e.callsMs, 'ms', '', null)
    row(`${tag}   Agent.start each`, e.agentStartMs.join(' / '), 'ms', '', null)
    row(`${tag}   start until master`, e.electionMs, 'ms', '', null)
    row(`${tag}   longest main-thread stall / p99`, `${e.eventLoopDelay.maxMs} / ${e.eventLoopDelay.p99Ms}`, 'ms', '< 3000 (election)', e.eventLoopDelay.maxMs < 3000)
    row(`${tag}   election terms at end`, e.terms.join(' / '), '', '', null)
    const up = e.slaveUploadBytesPerToken
    row(`${tag} slave upload bytes/token`, up.join(' / '), 'B', `<= ${TARGETS.wireBytesPerToken}`, up.length > 0 && up.every(x => x <= TARGETS.wireBytesPerToken))
    const down = e.slaveDownloadBytesPerNeededToken
    row(`${tag} slave download bytes/needed token`, down.join(' / '), 'B', `<= ${TARGETS.wireBytesPerToken}`, down.length > 0 && down.every(x => x <= TARGETS.wireBytesPerToken))
    for (const n of e.perNodeBytes) row(`${tag}   n${n.node} ${n.role} sent / received`, `${n.sent} / ${n.received}`, 'B', '', null)
    row(`${tag} RSS peak (3 agents + bench)`, e.rss.workerPeakMB, 'MB', `<= ${TARGETS.rssMB}`, e.rss.workerPeakMB <= TARGETS.rssMB)
    row(`${tag}   RSS before agents started`, e.rss.baselineBeforeAgentsMB, 'MB', '', null)
    row(`${tag}   RSS after GC, converged and idle`, e.rss.afterGcConvergedMB, 'MB', '', null)
    row(`${tag}   V8 heap used after GC: before agents -> converged`, `${e.heap.usedAfterGcBeforeAgentsMB} -> ${e.heap.usedAfterGcConvergedMB}`, 'MB', '', null)
    row(`${tag}   retained heap per agent (idle, after GC)`, e.heap.retainedPerAgentMB, 'MB', '', null)
    row(`${tag}   V8 heap limit`, e.heap.limitMB, 'MB', '', null)
  }
  if (r.delta !== null) {
    row('delta   wait until cluster quiet before each rep', r.delta.settleBeforeRepMs.join(' '), 'ms', '', null)
    row('delta (10 msgs) sync until others equal, median', r.delta.medianMs, 'ms', '', null)
    row('delta bytes sent (all nodes) / receiver, median', r.delta.medianTotalSentPerReceiver, 'B', `<= ${TARGETS.deltaBytesPerReceiver}`, r.delta.medianTotalSentPerReceiver <= TARGETS.deltaBytesPerReceiver)
    row('delta master bytes sent / receiver, median', r.delta.medianMasterSentPerReceiver, 'B', `<= ${TARGETS.deltaBytesPerReceiver}`, r.delta.medianMasterSentPerReceiver <= TARGETS.deltaBytesPerReceiver)
    row('delta   samples ms', r.delta.reps.map(x => x.ms).join(' '), 'ms', '', null)
    row('delta   longest main-thread stall / rep', r.delta.reps.map(x => x.eventLoopDelay.maxMs).join(' '), 'ms', '', null)
    row('delta   token records / rep', r.delta.reps.map(x => x.tokenRecords).join(' '), '', '', null)
    row('delta   per-node sent (rep 0)', r.delta.reps[0].perNode.map(n => `n${n.node}:${n.role[0]}:${n.sent}`).join(' '), 'B', '', null)
  }
  if (r.merge !== null) {
    const m = r.merge
    row(`merge: mergeContributions 3x${r.options.tokens} tokens/s, median`, m.mergeContributions.tokensPerSec, 'tok/s', `>= ${TARGETS.mergeTokensPerSec}`, m.mergeContributions.tokensPerSec >= TARGETS.mergeTokensPerSec)
    row('merge:   mergeContributions ms', m.mergeContributions.medianMs, 'ms', '', null)
    row(`merge: BayesReplica.merge 3x${r.options.tokens} tokens/s, median`, m.replicaMerge.tokensPerSec, 'tok/s', `>= ${TARGETS.mergeTokensPerSec}`, m.replicaMerge.tokensPerSec >= TARGETS.mergeTokensPerSec)
    row('merge:   BayesReplica.merge ms', m.replicaMerge.medianMs, 'ms', '', null)
    for (const [k, v] of Object.entries(m.breakdown)) row(`merge: ${k}`, v.medianMs, 'ms', '', null)
    row('archive: 1 contribution zip bytes/token', m.archive.oneContributionBytesPerToken, 'B', `<= ${TARGETS.wireBytesPerToken}`, m.archive.oneContributionBytesPerToken <= TARGETS.wireBytesPerToken)
    row('archive: 3 contributions zip bytes/token', m.archive.threeContributionsBytesPerToken, 'B', `<= ${TARGETS.wireBytesPerToken}`, m.archive.threeContributionsBytesPerToken <= TARGETS.wireBytesPerToken)
    row('archive: codec bytes/token before deflate', m.archive.rawCodecBytesPerToken, 'B', '', null)
  }
  row('RSS peak whole run (worker sampler)', r.rss.overallWorkerPeakMB, 'MB', '', null)
  row('RSS peak whole run (main-thread sampler)', r.rss.overallMainThreadPeakMB, 'MB', '', null)
  row('RSS per agent estimate (cluster peak / 3)', r.rss.perAgentEstimateMB, 'MB', `<= ${TARGETS.rssMB}`, r.rss.perAgentEstimateMB === null ? null : r.rss.perAgentEstimateMB <= TARGETS.rssMB)
  row('RSS per agent above pre-agent baseline', r.rss.perAgentAboveBaselineMB, 'MB', '', null)
  row('wall time', r.wallSeconds, 's', '', null)
  const head = ['measure', 'value', 'unit', 'target', 'ok']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(x => x[i].length)))
  const right = [false, true, false, false, false]
  const line = (cells: string[]): string => cells.map((c, i) => right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])).join('  ').trimEnd()
  const out = [
    `bayes bench: ${r.options.tokens} tokens/node, overlap ${r.options.overlap}, ${r.options.messages} msgs/node, seed ${r.options.seed}, node ${r.node}, ${r.cpus} cpus, heap limit ${r.heapLimitMB} MB, load ${r.loadAvg.start.toFixed(2)} -> ${r.loadAvg.end.toFixed(2)}`,
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line),
    ...r.problems.map(p => `PROBLEM: ${p}`)
  ]
  for (const e of r.e2e) {
    if (e.profile === null) continue
    const p = e.profile
    out.push('', `CPU profile of e2e[${e.mode}] (main thread; LevelDB and fs work in libuv threads are not in it): ${p.totalMs} ms sampled`)
    out.push('top self time by function:')
    for (const f of p.topSelf) out.push(`  ${String(f.ms).padStart(7)} ms ${String(f.pct).padStart(5)}%  ${f.fn}`)
    out.push('self time by file/package:')
    for (const f of p.topSelfByFile) out.push(`  ${String(f.ms).padStart(7)} ms ${String(f.pct).padStart(5)}%  ${f.file}`)
    out.push('inclusive time of src/ functions:')
    for (const f of p.topInclusiveSrc) out.push(`  ${String(f.ms).padStart(7)} ms ${String(f.pct).padStart(5)}%  ${f.fn}`)
  }
  return out.join('\n')
}
