/** The comparison as rows and as an aligned text table. */
import { NODES, type Skipped, type SyncthingBenchResult, type ToolResult } from './types.js'

/** The two tools side by side: one row per measure, one column per tool. */
export function comparisonRows (r: SyncthingBenchResult): string[][] {
  const ms = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} ms`
  const b = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} B`
  const cell = (side: ToolResult | Skipped, f: (t: ToolResult) => string): string => 'skipped' in side ? 'skipped' : f(side)
  const measures: Array<[string, (t: ToolResult) => string]> = [
    ['version', t => t.version],
    ['initial sync of the list', t => ms(t.initialSyncMs)],
    ['one-line change p50', t => ms(t.propagation.p50)],
    ['one-line change p95', t => ms(t.propagation.p95)],
    ['one-line change max', t => `${ms(t.propagation.max)}${t.timeouts > 0 ? ` (${t.timeouts} timeouts)` : ''}`],
    ['bytes/receiver p50, own counters', t => b(t.appBytesPerReceiver.p50)],
    ['bytes/receiver p50, TCP (ss)', t => t.tcpBytesPerReceiver === null ? 'n/a' : `${b(t.tcpBytesPerReceiver.p50)}${t.tcpSocketsClosed > 0 ? ` (${t.tcpSocketsClosed} sockets closed)` : ''}`]
  ]
  return measures.map(([name, f]) => [name, cell(r.syncthing, f), cell(r.spamsync, f)])
}

/** The result as an aligned text table. */
export function comparisonTable (r: SyncthingBenchResult): string {
  const head = ['measure', 'syncthing', 'spamsync']
  const rows = comparisonRows(r)
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ').trimEnd()
  const notes: string[] = []
  for (const side of [r.syncthing, r.spamsync]) if ('skipped' in side) notes.push(`skipped: ${side.skipped}`)
  if (r.loopbackCheck !== null) {
    notes.push(r.loopbackCheck.foreignPeers.length === 0
      ? `syncthing's sockets checked ${r.loopbackCheck.samples} times (${r.loopbackCheck.socketsSeen} socket looks): only 127.0.0.1 peers`
      : `SYNCTHING TALKED OUTSIDE 127.0.0.1: ${r.loopbackCheck.foreignPeers.join(', ')}`)
  }
  return [
    `syncthing comparison: ${NODES} nodes, ${r.domains}-line ${r.list} list (${r.listSource}, ${r.listBytes} B), ${r.reps} one-line changes each, files polled every ${r.pollMs} ms, ` +
      `node ${r.node}, ${r.cpus} cpus, load ${r.loadAvg.start} -> ${r.loadAvg.end}`,
    line(head),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line),
    ...notes
  ].join('\n')
}
