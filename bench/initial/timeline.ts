/**
 * The timeline of one initial sync from the agents' trace points (src/trace.ts, SPAMSYNC_TRACE=1):
 * every point of every node after the drop, on one time axis (ms since the drop), with the CPU
 * the node's process used since its previous point, so waiting is told from work.
 */

/** One trace point of one node. */
export interface TracePoint {
  /** ms since the drop. */
  atMs: number
  node: string
  /** CPU ms of the node's process since its previous point (since the drop for the first). */
  cpuMs: number
  point: string
  detail: string
}

const LINE = /^TRACE (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\S+)(?: (.*))?$/

/**
 * The points in each node's output (`outputs` by node name) from `dropEpochMs` on, in time
 * order; `cpuAtDrop` (CPU ms of each node's process at the drop, when known) starts the CPU deltas.
 */
export function timeline (outputs: Map<string, string>, dropEpochMs: number, cpuAtDrop: Map<string, number> = new Map()): TracePoint[] {
  const points: TracePoint[] = []
  for (const [node, output] of outputs) {
    let lastCpu = cpuAtDrop.get(node) ?? null
    for (const line of output.split('\n')) {
      const m = LINE.exec(line)
      if (m === null) continue
      const at = Number(m[1])
      const cpu = Number(m[2])
      if (at < dropEpochMs) {
        lastCpu = cpu
        continue
      }
      points.push({ atMs: Math.round((at - dropEpochMs) * 10) / 10, node, cpuMs: lastCpu === null ? 0 : Math.round((cpu - lastCpu) * 10) / 10, point: m[3], detail: m[4] ?? '' })
      lastCpu = cpu
    }
  }
  return points.sort((a, b) => a.atMs - b.atMs)
}

/** The points as a text table, one line each. */
export function timelineText (points: TracePoint[]): string {
  return points.map(p => `${p.atMs.toFixed(1).padStart(9)} ms  ${p.node.padEnd(14)} cpu +${p.cpuMs.toFixed(1).padStart(7)} ms  ${p.point} ${p.detail}`).join('\n')
}
