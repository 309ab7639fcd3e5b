/** The cluster benchmark's result as an aligned text table, and the targets it missed. */
import { CHANGE_ATTEMPTS } from './bytes.js'
import { type ClusterBenchResult, TARGETS } from './types.js'

/** Targets a result missed (or could not measure). */
export function missedTargets (r: ClusterBenchResult): string[] {
  return tableRows(r).filter(row => row[3] === 'NO').map(row => row[0])
}

function tableRows (r: ClusterBenchResult): string[][] {
  const rows: string[][] = []
  const ms = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} ms`
  const row = (name: string, value: string, target: string, ok: boolean | null, note = ''): void => {
    rows.push([name, value, target, ok === null ? '' : ok ? 'yes' : 'NO', note])
  }
  for (const p of r.propagation ?? []) {
    const note = `${p.samples.n} samples, ${p.timeouts} timeouts, ${p.missingAtEnd.length} missing, ${p.masterChanges} master changes`
    row(`propagation p50 (${p.nodes} nodes)`, ms(p.samples.p50), `<= ${TARGETS.propagationP50Ms} ms`, p.samples.p50 !== null && p.timeouts === 0 && p.samples.p50 <= TARGETS.propagationP50Ms, note)
    row(`propagation p95 (${p.nodes} nodes)`, ms(p.samples.p95), `<= ${TARGETS.propagationP95Ms} ms`, p.samples.p95 !== null && p.timeouts === 0 && p.samples.p95 <= TARGETS.propagationP95Ms)
    row(`propagation max (${p.nodes} nodes)`, ms(p.samples.max), '-', null)
    row('per-trial max p50 / p95', `${ms(p.perTrialMax.p50)} / ${ms(p.perTrialMax.p95)}`, '-', null)
    row('p50 from master / slave', `${ms(p.fromMaster.p50)} / ${ms(p.fromSlave.p50)}`, '-', null, `n=${p.fromMaster.n}/${p.fromSlave.n}`)
    row('origin write -> master cut p50/p95', `${ms(p.toMaster.p50)} / ${ms(p.toMaster.p95)}`, '-', null)
    row('cluster start + stable', `${ms(p.startMs)} + ${ms(p.stableMs)}`, '-', null)
    row('machine load during trials', `${p.load.loadavgStart} -> ${p.load.loadavgEnd}`, `< ${r.cpus}`, null, `agents used ${p.load.agentCores ?? '?'} cores (${p.load.agentCpuSeconds ?? '?'} cpu-s in ${p.load.wallSeconds} s), bench ${p.load.benchCpuSeconds} cpu-s`)
  }
  for (const b of r.bytes ?? []) {
    row(`[${b.list}] bytes/receiver, all sent (${b.nodes} nodes)`, `${b.totalSentPerReceiver} B`, `<= ${TARGETS.bytesPerReceiver} B`, b.totalSentPerReceiver <= TARGETS.bytesPerReceiver,
      `one line on a ${b.domains}-line list (${b.source}); attempt ${b.attempts.length} of ${CHANGE_ATTEMPTS}${b.clean ? '' : ', every attempt had a TERM CHANGE (full re-syncs)'}`)
    row(`[${b.list}] bytes/receiver, master sent`, `${b.masterSentPerReceiver} B`, `<= ${TARGETS.bytesPerReceiver} B`, b.masterSentPerReceiver <= TARGETS.bytesPerReceiver)
    row(`[${b.list}] full archive (export)`, b.exportBytes === null ? 'n/a' : `${b.exportBytes} B`, '-', null, `list file ${b.listBytes} B; slaves received ${b.initialReceivedPerSlave} B each at first sync`)
    row(`[${b.list}] initial convergence`, ms(b.convergeMs), '-', null, `${b.keys} keys`)
    row(`[${b.list}] one-line change on all`, ms(b.changeMs), '-', null, b.changeSamplesMs.length > 1 ? `median of ${b.changeSamplesMs.length}: ${ms(b.changeMedianMs)} (${b.changeSamplesMs.join(', ')} ms)` : undefined)
    if (b.failover !== undefined) {
      const fsent = b.failover.perNode.reduce((x, p) => x + p.sentDelta, 0)
      row(`[${b.list}] kill master -> survivors agree`, ms(b.failover.syncedMs), '-', null, `${fsent} bytes sent by the ${b.failover.perNode.length} survivors`)
    }
  }
  const f = r.failover
  if (f !== undefined) {
    row(`failover elected p50 (${f.trials} trials)`, ms(f.elected.p50), `<= ${TARGETS.failoverMs} ms`, f.elected.p50 !== null && f.elected.p50 <= TARGETS.failoverMs)
    row('failover elected max', ms(f.elected.max), `<= ${TARGETS.failoverMs} ms`, f.elected.max !== null && f.elected.max <= TARGETS.failoverMs)
    row('kill -> change on survivors p50/max', `${ms(f.changeOnSurvivors.p50)} / ${ms(f.changeOnSurvivors.max)}`, '-', null, `write -> both: p50 ${ms(f.changeAfterWrite.p50)}`)
    row('kill -> change on survivors samples', f.trialDetail.map(t => Math.round(t.changeOnSurvivorsMs)).join(' '), '-', null, 'ms, one per trial')
    row('machine load during failover', `${f.load.loadavgStart} -> ${f.load.loadavgEnd}`, `< ${r.cpus}`, null)
    const lost = f.trialDetail.filter(t => !t.restartedHasChange).length
    row('restart -> stable p50/max', `${ms(f.rejoin.p50)} / ${ms(f.rejoin.max)}`, '-', lost === 0 ? null : false, lost === 0 ? '' : `${lost} restarted nodes lack the change`)
  }
  for (const phase of Object.keys(r.errors)) row(`${phase}`, 'FAILED', '-', false, r.errors[phase].split('\n')[0])
  return rows
}

/** The result as an aligned text table. */
export function table (r: ClusterBenchResult): string {
  const head = ['measure', 'value', 'target', 'ok', 'notes']
  const rows = tableRows(r)
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
  const right = [false, true, true, false, false]
  const line = (cells: string[]): string => cells.map((c, i) => right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])).join('  ').trimEnd()
  return [
    `cluster bench: node ${r.node}, ${r.platform}, ${r.cpus} cpus, seed ${r.seed}, wall ${(r.wallMs / 1000).toFixed(1)} s`,
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line)
  ].join('\n')
}
